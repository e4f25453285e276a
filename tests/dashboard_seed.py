"""A small, reproducible registry for the dashboard tests (AppTest and end-to-end), inserted through the models'
tables. Dates are relative to `today` so that the "due for 复核 / expiring" windows always have members.

Besides `firms` random firms it holds one fully described firm (FEATURED) with a 复核 supersession, annual and
monthly reports, attributes and events, and a firm whose name starts with "=" (formula neutralisation).
"""

from __future__ import annotations

import random
import sys
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from registry.identity import make_uscc
from registry.models import (
    Attribute,
    Enterprise,
    Event,
    Flag,
    IngestionRun,
    JobRun,
    Recognition,
    RegionalTarget,
    Report,
)
from registry.settings import get_settings

sys.path.insert(0, str(Path(__file__).parent))
from builders import (  # noqa: E402
    enterprise_row,
    fix_sequences,
    insert_rows,
    plus_years,
    recognition_row,
    report_row,
)

REGIONS = ["440300", "440100", "330200", "330100", "370200", "370100", "110108", "659001", "650100", "420100"]
INDUSTRIES = ["C35", "C3562", "C39", "C26", "I65", "M73", "C34"]
TIER_WEIGHTS = {"innovative_sme": 5, "zjtx_sme": 3, "little_giant": 2, "single_champion": 1}
WORDS = ["精密", "智能", "新材料", "光电", "机械", "生物", "芯片", "传感", "液压", "环保"]

FEATURED_NAME = "深圳市（示范）精密传感科技有限公司"
FORMULA_NAME = "=HYPERLINK(\"http://example.invalid\")科技有限公司"


@dataclass
class SeedInfo:
    today: date
    featured_uscc: str
    formula_uscc: str
    firms: int


def seed_registry(engine: sa.Engine, firms: int = 300, seed: int = 7, today: date | None = None) -> SeedInfo:
    # The officials' calendar day, as the dashboard counts it (config scheduler.timezone, Asia/Shanghai): from 16:00
    # UTC the machine's date is a day behind, and "expired 15 days ago" would read 16 on the page.
    today = today or datetime.now(ZoneInfo(get_settings().scheduler.timezone)).date()
    rng = random.Random(seed)
    enterprises, recognitions = [], []
    used: set[str] = set()

    def new_uscc(region: str) -> str:
        while True:
            code = make_uscc(rng, region)
            if code not in used:
                used.add(code)
                return code

    for i in range(firms):
        region = rng.choice(REGIONS)
        name = f"{rng.choice(['华', '中', '东', '远', '新'])}{rng.choice(WORDS)}{rng.choice(WORDS)}{i:04d}有限公司"
        enterprises.append(enterprise_row(new_uscc(region), name, region, id=i + 1,
                                          industry_code=rng.choice(INDUSTRIES), **_details(rng)))
    next_id = 1
    for firm in enterprises:
        for tier in rng.sample(list(TIER_WEIGHTS), k=rng.choice([0, 1, 1, 2])):
            recognized = today - timedelta(days=rng.randint(30, 1400))
            status = rng.choices(["active", "revoked", "withdrawn"], weights=[8, 1, 1])[0]
            recognitions.append(recognition_row(
                firm["id"], tier, "cn" if tier in ("little_giant", "single_champion") else "cn-gd",
                recognized, plus_years(recognized, 3) - timedelta(days=1), status, id=next_id,
                batch=str(rng.randint(1, 6)), document_no=f"工信厅企业函〔{recognized.year}〕{rng.randint(1, 400)}号"))
            next_id += 1

    featured_id, formula_id = len(enterprises) + 1, len(enterprises) + 2
    featured_uscc, formula_uscc = new_uscc("440305"), new_uscc("440305")
    enterprises.append(enterprise_row(featured_uscc, FEATURED_NAME, "440305", id=featured_id, industry_code="C3562",
                                      **_details(rng)))
    enterprises.append(enterprise_row(formula_uscc, FORMULA_NAME, "440305", id=formula_id, industry_code="C39",
                                      **_details(rng)))
    first_on = today - timedelta(days=1200)
    renewed_on = today - timedelta(days=100)
    recognitions += [
        recognition_row(featured_id, "little_giant", "cn", first_on, plus_years(first_on, 3) - timedelta(days=1),
                        "superseded", id=next_id, batch="3", superseded_by=next_id + 1,
                        document_no="工信厅企业函〔2021〕197号"),
        recognition_row(featured_id, "little_giant", "cn", renewed_on, plus_years(renewed_on, 3) - timedelta(days=1),
                        id=next_id + 1, batch="3", document_no="工信厅企业函〔2024〕复核"),
        recognition_row(featured_id, "zjtx_sme", "cn-gd", today - timedelta(days=1000), today + timedelta(days=60),
                        id=next_id + 2, batch="2", document_no="粤工信〔2022〕1号"),
    ]
    reports = [
        report_row(featured_id, str(y), revenue=8000.0 + 1500 * k, rd_expense=480.0 + 100 * k, total_assets=12000.0,
                   total_liabilities=5400.0 - 300 * k, employees=180.0 + 10 * k, invention_patents=4.0 + k)
        for k, y in enumerate(range(today.year - 4, today.year))
    ] + [
        report_row(featured_id, f"{today.year - 1}-{m:02d}", revenue=800.0 + 20 * m)
        for m in range(1, 13)
    ]
    attributes = [
        {"enterprise_id": featured_id, "attribute": "rd_institution", "value": "provincial",
         "effective_on": date(2019, 5, 1)},
        {"enterprise_id": featured_id, "attribute": "high_tech_enterprise", "value": "true",
         "effective_on": date(2020, 11, 1), "expires_on": date(2023, 10, 31)},
    ]
    events = [
        {"enterprise_id": featured_id, "event": "rename", "occurred_on": today - timedelta(days=400),
         "notified_on": today - timedelta(days=380), "detail": "原名 深圳市示范传感有限公司"},
    ]
    targets = [
        {"jurisdiction": "cn", "tier": "little_giant", "year": today.year, "target_count": 10000,
         "source": "十四五 促进中小企业发展规划"},
        {"jurisdiction": "cn-gd", "tier": "little_giant", "year": today.year, "target_count": 20,
         "source": "test"},
    ]
    flags = [
        {"enterprise_id": featured_id, "recognition_id": next_id + 2, "tier": "zjtx_sme", "jurisdiction": "cn-gd",
         "kind": "expiring", "severity": "warning", "due_on": today + timedelta(days=60), "key": "seed-expiring",
         "evidence": {}, "opened_on": today - timedelta(days=30)},
    ]
    finished = datetime.now(UTC).replace(microsecond=0)
    with engine.begin() as conn:
        insert_rows(conn, Enterprise.__table__, enterprises)
        insert_rows(conn, Recognition.__table__, recognitions)
        insert_rows(conn, Report.__table__, reports)
        insert_rows(conn, Attribute.__table__, attributes)
        conn.execute(sa.insert(Event.__table__), events)
        conn.execute(sa.insert(RegionalTarget.__table__), targets)
        conn.execute(sa.insert(Flag.__table__), flags)
        conn.execute(sa.insert(IngestionRun.__table__), [{
            "file_name": "企业名录.xlsx", "sha256": "0" * 64, "kind": "enterprises", "status": "loaded",
            "rows_read": len(enterprises), "rows_loaded": len(enterprises), "started_at": finished,
            "finished_at": finished}])
        conn.execute(sa.insert(JobRun.__table__), [{
            "job": "flags", "started_at": finished, "finished_at": finished, "status": "success", "counts": {}}])
    fix_sequences(engine, ["enterprise", "recognition"])
    return SeedInfo(today, featured_uscc, formula_uscc, len(enterprises))


def _details(rng: random.Random) -> dict:
    """The random particulars of a seeded firm (drawn in this order, so the seed gives the same registry)."""
    return {
        "founded_on": date(rng.randint(1995, 2018), rng.randint(1, 12), rng.randint(1, 28)),
        "registered_capital": float(rng.randint(100, 20000)), "ownership": rng.choice(["民营", "国有", "合资"]),
        "listing_board": rng.choice(["none", "none", "neeq", "star"]), "main_product": rng.choice(WORDS) + "组件",
    }
