"""复核 risk on a registry built for the test: recognitions just inside and just outside the window, a debt ratio
just above and at the 2022 小巨人 ceiling (70 %, the standard of a 复核 in 2026) and the 2026 new-application ceiling
(75 %, 工信部企业〔2026〕2号 附件2 (2)); another province's firm for a provincial manager; the CLI on both engines."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date

import polars as pl
from builders import report_row
from sqlmodel import Session

from registry.access import Principal
from registry.models import Report
from registry.review_risk import review_risk
from tests.test_jobs_functions import add_firm, add_recognition

AS_OF = date(2026, 1, 15)
ZJTX = [sys.executable, "-m", "cli.main"]
BJ_MANAGER = Principal("zhao", "manager", "cn-bj")


def seed(engine) -> dict[str, str]:
    """a: due 2026-07-14, debt 80 %; b: due 2026-07-16 (outside 6 months), debt 80 %; c: due, debt 70 %;
    d: due, debt 80 %, in Guangdong."""
    plan = {"a": ("110101", date(2023, 7, 15), 800.0), "b": ("110101", date(2023, 7, 17), 800.0),
            "c": ("110101", date(2023, 7, 15), 700.0), "d": ("440305", date(2023, 7, 15), 800.0)}
    usccs = {}
    with Session(engine) as s:
        for key, (region, recognised, liabilities) in plan.items():
            firm = add_firm(s, region, name=f"测试企业{key}")
            add_recognition(s, firm, recognised)
            s.add(Report(**report_row(firm.id, "2025", revenue=10000.0, total_assets=1000.0,
                                      total_liabilities=liabilities)))
            usccs[key] = firm.uscc
        s.commit()
    return usccs


def debt_rows(frame: pl.DataFrame, standard: str) -> dict[str, tuple]:
    rows = frame.filter(pl.col("standard") == standard, pl.col("criterion") == "debt_ratio")
    return {r["uscc"]: (r["policy"], r["review_on"], json.loads(r["actual"]), r["gap"]) for r in rows.iter_rows(named=True)}


def test_review_risk_at_the_window_and_the_ceilings(engine):
    ids = seed(engine)
    risk = review_risk(BJ_MANAGER, AS_OF, 6, engine=engine)  # window to 2026-07-15: a and c (07-14) in, b (07-16) out
    assert risk.due == 2
    review = debt_rows(risk.firms, "review")
    assert review == {ids["a"]: ("cn/little-giant/2022", date(2026, 7, 14), 80.0, 10.0)}  # c at 70 %: not above
    new = debt_rows(risk.firms, "new_application")
    assert new == {ids["a"]: ("cn/little-giant/2026", date(2026, 7, 14), 80.0, 5.0)}
    assert ids["d"] not in set(risk.firms["uscc"])  # another province
    # One more day of window takes b in.
    wider = review_risk(BJ_MANAGER, AS_OF, 7, engine=engine)
    assert set(debt_rows(wider.firms, "review")) == {ids["a"], ids["b"]}


def test_review_risk_cli(engine, config_env, tmp_path):
    ids = seed(engine)
    out = subprocess.run([*ZJTX, "review-risk", "--months", "6", "--as-of", AS_OF.isoformat(), "--format", "json"],
                         capture_output=True, text=True, check=True).stdout
    data = json.loads(out)
    assert data["due"] == 3  # the CLI is national: a, c and d
    failing = {r["uscc"] for r in data["review"] if r["criterion"] == "debt_ratio"}
    assert failing == {ids["a"], ids["d"]}
    target = tmp_path / "risk.xlsx"
    subprocess.run([*ZJTX, "review-risk", "--months", "6", "--as-of", AS_OF.isoformat(), "--format", "xlsx",
                    "--output", str(target)], check=True, capture_output=True)
    assert target.stat().st_size > 0
