"""A small hand-made registry for the pipeline and targets tests, with every date chosen so that the expected
figures can be worked out by hand (the tests state them, with the reasoning, next to each assertion).

Firms (region · what they hold):
  F1 440305 深圳 C35  innovative_sme 2022-03-01 (renewed 2025-03-10) · zjtx_sme 2023-05-01 (a promotion)
  F2 440106 广州 C39  zjtx_sme 2020-06-01 (closed as expired 2023-06-01) · little_giant 2021-07-19 (a promotion;
                      valid to 2024-07-19, renewed only 2024-08-23: a gap)
  F3 330212 宁波 I65  innovative_sme 2023-04-01, revoked 2024-09-30
  F4 370102 济南 C34  zjtx_sme 2019-05-01 (lapsed 2022-05-01, never closed) · little_giant 2022-08-05 (new: the
                      lower tier had lapsed)
  F5 440305 深圳 C35  single_champion 2021-12-01, revoked without a date
  F6 440305 深圳 C35  innovative_sme 2024-01-10, withdrawn
  F7 650102 乌鲁木齐 C35 little_giant 2023-07-14
  F8 440305 深圳 C35  innovative_sme 2025-01-15
"""

from __future__ import annotations

import random
import sys
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import sqlalchemy as sa

from registry.identity import make_uscc
from registry.models import Enterprise, Flag, JobRun, Recognition

sys.path.insert(0, str(Path(__file__).parent))
from builders import enterprise_row, fix_sequences, insert_rows, recognition_row  # noqa: E402

FIRMS = {
    1: ("440305", "C3562"), 2: ("440106", "C3911"), 3: ("330212", "I6510"), 4: ("370102", "C3411"),
    5: ("440305", "C3562"), 6: ("440305", "C3562"), 7: ("650102", "C3562"), 8: ("440305", "C3562"),
}

# id, firm, tier, jurisdiction, recognized_on, valid_until, status, superseded_by, ended_on
RECOGNITIONS = [
    (1, 1, "innovative_sme", "cn-gd", date(2022, 3, 1), date(2025, 3, 1), "superseded", 2, date(2025, 3, 10)),
    (2, 1, "innovative_sme", "cn-gd", date(2025, 3, 10), date(2028, 3, 10), "active", None, None),
    (3, 1, "zjtx_sme", "cn-gd", date(2023, 5, 1), date(2026, 5, 1), "active", None, None),
    (4, 2, "zjtx_sme", "cn-gd", date(2020, 6, 1), date(2023, 6, 1), "expired", None, date(2023, 6, 1)),
    (5, 2, "little_giant", "cn", date(2021, 7, 19), date(2024, 7, 19), "superseded", 6, date(2024, 8, 23)),
    (6, 2, "little_giant", "cn", date(2024, 8, 23), date(2027, 8, 23), "active", None, None),
    (7, 3, "innovative_sme", "cn-zj", date(2023, 4, 1), date(2026, 4, 1), "revoked", None, date(2024, 9, 30)),
    (8, 4, "zjtx_sme", "cn-sd", date(2019, 5, 1), date(2022, 5, 1), "active", None, None),
    (9, 4, "little_giant", "cn", date(2022, 8, 5), date(2025, 8, 5), "active", None, None),
    (10, 5, "single_champion", "cn", date(2021, 12, 1), date(2024, 12, 1), "revoked", None, None),
    (11, 6, "innovative_sme", "cn-gd", date(2024, 1, 10), date(2027, 1, 10), "withdrawn", None, None),
    (12, 7, "little_giant", "cn", date(2023, 7, 14), date(2026, 7, 14), "active", None, None),
    (13, 8, "innovative_sme", "cn-gd", date(2025, 1, 15), date(2028, 1, 15), "active", None, None),
]


@dataclass
class Registry:
    uscc: dict[int, str]  # firm number → USCC


def insert_registry(engine: sa.Engine) -> Registry:
    rng = random.Random(2021)
    uscc = {n: make_uscc(rng, region) for n, (region, _) in FIRMS.items()}
    now = datetime(2025, 1, 1, tzinfo=UTC)
    with engine.begin() as conn:
        insert_rows(conn, Enterprise.__table__, [
            enterprise_row(uscc[n], f"测试企业{n}", region, id=n, industry_code=industry, created_at=now, updated_at=now)
            for n, (region, industry) in FIRMS.items()])
        insert_rows(conn, Recognition.__table__, [
            recognition_row(firm, tier, jur, on, until, status, id=i, batch=None, superseded_by=successor,
                            ended_on=ended, created_at=now)
            for i, firm, tier, jur, on, until, status, successor, ended in RECOGNITIONS])
    fix_sequences(engine, ["enterprise", "recognition"])
    return Registry(uscc)


def insert_flags(engine: sa.Engine, with_run: bool = True) -> None:
    """Open promotion flags for F1 (innovative_sme) and F4 (little_giant), a resolved one for F1 (zjtx_sme), two
    open review_due flags for F2, and (with_run) a successful flags job run."""
    rows = [
        (1, 1, "innovative_sme", "promotion", "info", None),
        (1, 3, "zjtx_sme", "promotion", "info", date(2025, 2, 1)),
        (4, 9, "little_giant", "promotion", "info", None),
        (2, 6, "little_giant", "review_due", "warning", None),
        (2, 4, "zjtx_sme", "review_due", "critical", None),
    ]
    with engine.begin() as conn:
        conn.execute(sa.insert(Flag.__table__), [
            {"enterprise_id": firm, "recognition_id": rec, "tier": tier, "jurisdiction": "cn", "kind": kind,
             "severity": severity, "due_on": None, "key": f"test-{firm}-{rec}-{kind}", "evidence": {},
             "opened_on": date(2025, 1, 1), "resolved_on": resolved}
            for firm, rec, tier, kind, severity, resolved in rows])
        if with_run:
            conn.execute(sa.insert(JobRun.__table__), [{
                "job": "flags", "started_at": datetime(2025, 6, 1, 2, 0, tzinfo=UTC),
                "finished_at": datetime(2025, 6, 1, 2, 5, tzinfo=UTC), "status": "success", "counts": {}}])
