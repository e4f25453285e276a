"""A small registry for the rule-impact tests, and two rule sets to compare, written so that every expected count
can be read off the firm table below by hand.

OLD (a 复核-like standard): 主营占比 ≥ 70 % and 资产负债率 ≤ 70 %.
NEW (a new-application standard): 主营占比 ≥ 90 %, 营业收入 ≥ 5,000 万元, and (市场占有率 ≥ 10 % or 发明专利 ≥ 4).
Figures are the 2025 annual report; the as-of date is 2026-06-30 (上年 = 2025).
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import sqlalchemy as sa

from registry.models import Enterprise, Recognition, Report
from registry.policy import Policy

sys.path.insert(0, str(Path(__file__).parent))
from builders import enterprise_row, fix_sequences, insert_rows, recognition_row, report_row  # noqa: E402

AS_OF = date(2026, 6, 30)

# key: (region, [(tier, recognized_on, valid_until, status)], revenue, main_revenue, liabilities/assets %,
#       market_share, invention_patents)
ACTIVE = (date(2024, 5, 1), date(2027, 4, 30), "active")
FIRMS: dict[str, tuple] = {
    # old E (95 %, 50 %), new E (95 %, 8000, share 12) → both
    "A": ("440300", [("little_giant", *ACTIVE)], 8000, 7600, 50, 12, None),
    # old E (85 %), new I: 主营 85 % < 90 % → old_only, passes review / fails new
    "B": ("440300", [("little_giant", *ACTIVE)], 6000, 5100, 50, 15, None),
    # candidate; old E, new I: revenue 4000 < 5000 (share unknown but 5 patents meet the either-or) → old_only
    "C": ("440100", [("zjtx_sme", *ACTIVE)], 4000, 3800, 60, None, 5),
    # candidate; old I (debt 80 % > 70 %), new E → new_only
    "D": ("440100", [("zjtx_sme", *ACTIVE)], 9000, 8550, 80, 20, None),
    # old I (60 %, 75 %), new I → neither
    "E": ("440300", [("little_giant", *ACTIVE)], 3000, 1800, 75, 5, None),
    # candidate; old E, new insufficient data (neither share nor patents known) → old_only, not in the fail list
    "F": ("440300", [("zjtx_sme", *ACTIVE)], 7000, 6440, 40, None, None),
    # Zhejiang holder; old E (80 %), new I (主营 80 %) → old_only
    "G": ("330100", [("little_giant", *ACTIVE)], 6000, 4800, 30, 11, None),
    # holds both tiers: counted once, as a holder; both
    "H": ("440300", [("little_giant", *ACTIVE), ("zjtx_sme", *ACTIVE)], 20000, 19800, 20, 30, None),
    # not evaluated: a tier two rungs below, a revoked and an expired recognition, no recognition at all
    "I": ("440300", [("innovative_sme", *ACTIVE)], 8000, 7600, 50, 12, None),
    "J": ("440300", [("little_giant", date(2024, 5, 1), date(2027, 4, 30), "revoked")], 8000, 7600, 50, 12, None),
    "K": ("440300", [("little_giant", date(2022, 5, 1), date(2025, 4, 30), "active")], 8000, 7600, 50, 12, None),
    "L": ("440300", [], 8000, 7600, 50, 12, None),
}


def uscc_of(key: str) -> str:
    return f"91{FIRMS[key][0]}MA00000{key}0X"[:18]


def seed_impact_registry(engine: sa.Engine) -> None:
    enterprises, recognitions, reports = [], [], []
    for n, (key, (region, recs, revenue, main, debt, share, patents)) in enumerate(FIRMS.items(), start=1):
        enterprises.append(enterprise_row(uscc_of(key), f"影响测试{key}有限公司", region, id=n, industry_code="C35",
                                          founded_on=date(2010, 1, 1)))
        for tier, on, until, status in recs:
            recognitions.append(recognition_row(n, tier, "cn", on, until, status, batch="5",
                                                ended_on=date(2025, 1, 1) if status == "revoked" else None))
        reports.append(report_row(n, "2025", revenue=float(revenue), main_revenue=float(main), total_assets=10000.0,
                                  total_liabilities=100.0 * debt,
                                  market_share=None if share is None else float(share),
                                  invention_patents=None if patents is None else float(patents)))
    with engine.begin() as conn:
        insert_rows(conn, Enterprise.__table__, enterprises)
        insert_rows(conn, Recognition.__table__, recognitions)
        insert_rows(conn, Report.__table__, reports)
    fix_sequences(engine, ["enterprise"])


def _leaf(cid: str, zh: str, indicator: str, op: str, threshold: float) -> dict:
    return {"type": "leaf", "id": cid, "label_zh": zh, "label_en": cid, "indicator": indicator, "op": op,
            "threshold": threshold, "source": {"doc": "测试", "reference": "tests/impact_seed.py"}}


def _policy(pid: str, children: list[dict]) -> Policy:
    return Policy.model_validate({
        "id": pid, "title_zh": pid, "title_en": pid, "issuer": "test", "document_no": "测试",
        "issued_on": date(2022, 1, 1), "effective_from": date(2022, 1, 1), "jurisdiction": "cn",
        "tier": "little_giant", "purpose": "new_application",
        "criteria": {"type": "all", "id": "root", "label_zh": "全部", "label_en": "all", "children": children},
    })


OLD = _policy("cn/impact-old/2022", [
    _leaf("main_share", "主营占比", "main_business_share", ">=", 70),
    _leaf("debt", "资产负债率", "debt_ratio", "<=", 70),
])
NEW = _policy("cn/impact-new/2026", [
    _leaf("main_share", "主营占比", "main_business_share", ">=", 90),
    _leaf("revenue", "营业收入", "revenue", ">=", 5000),
    {"type": "any", "id": "market", "label_zh": "市场地位", "label_en": "market position", "children": [
        _leaf("share", "市场占有率", "market_share", ">=", 10),
        _leaf("patents", "发明专利", "invention_patents", ">=", 4),
    ]},
])
POLICIES = {OLD.id: OLD, NEW.id: NEW}
