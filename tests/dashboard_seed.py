"""A small, reproducible registry for the dashboard tests (AppTest and end-to-end), inserted through the models'
tables. Dates are relative to `today` so that the "due for 复核 / expiring" windows always have members.

Besides `firms` random firms it holds one fully described firm (FEATURED) with a 复核 supersession, annual and
monthly reports, attributes and events, and a firm whose name starts with "=" (formula neutralisation).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from registry.identity import make_uscc, normalize_name
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
    today = today or date.today()
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
        enterprises.append(_firm(i + 1, new_uscc(region), name, region, rng.choice(INDUSTRIES), rng))
    next_id = 1
    for firm in enterprises:
        for tier in rng.sample(list(TIER_WEIGHTS), k=rng.choice([0, 1, 1, 2])):
            recognized = today - timedelta(days=rng.randint(30, 1400))
            status = rng.choices(["active", "revoked", "withdrawn"], weights=[8, 1, 1])[0]
            recognitions.append({
                "id": next_id, "enterprise_id": firm["id"], "tier": tier,
                "jurisdiction": "cn" if tier in ("little_giant", "single_champion") else "cn-gd",
                "batch": str(rng.randint(1, 6)), "recognized_on": recognized,
                "valid_until": _plus_years(recognized, 3) - timedelta(days=1), "status": status,
                "document_no": f"工信厅企业函〔{recognized.year}〕{rng.randint(1, 400)}号",
            })
            next_id += 1

    featured_id, formula_id = len(enterprises) + 1, len(enterprises) + 2
    featured_uscc, formula_uscc = new_uscc("440305"), new_uscc("440305")
    enterprises.append(_firm(featured_id, featured_uscc, FEATURED_NAME, "440305", "C3562", rng))
    enterprises.append(_firm(formula_id, formula_uscc, FORMULA_NAME, "440305", "C39", rng))
    first_on = today - timedelta(days=1200)
    renewed_on = today - timedelta(days=100)
    recognitions += [
        {"id": next_id, "enterprise_id": featured_id, "tier": "little_giant", "jurisdiction": "cn", "batch": "3",
         "recognized_on": first_on, "valid_until": _plus_years(first_on, 3) - timedelta(days=1),
         "status": "superseded", "superseded_by": next_id + 1, "document_no": "工信厅企业函〔2021〕197号"},
        {"id": next_id + 1, "enterprise_id": featured_id, "tier": "little_giant", "jurisdiction": "cn", "batch": "3",
         "recognized_on": renewed_on, "valid_until": _plus_years(renewed_on, 3) - timedelta(days=1),
         "status": "active", "document_no": "工信厅企业函〔2024〕复核"},
        {"id": next_id + 2, "enterprise_id": featured_id, "tier": "zjtx_sme", "jurisdiction": "cn-gd", "batch": "2",
         "recognized_on": today - timedelta(days=1000), "valid_until": today + timedelta(days=60),
         "status": "active", "document_no": "粤工信〔2022〕1号"},
    ]
    reports = [
        {"enterprise_id": featured_id, "period": str(y), "period_type": "annual", "year": y,
         "period_end": date(y, 12, 31), "basis": "period", "revenue": 8000.0 + 1500 * k,
         "rd_expense": 480.0 + 100 * k, "total_assets": 12000.0, "total_liabilities": 5400.0 - 300 * k,
         "employees": 180.0 + 10 * k, "invention_patents": 4.0 + k}
        for k, y in enumerate(range(today.year - 4, today.year))
    ] + [
        {"enterprise_id": featured_id, "period": f"{today.year - 1}-{m:02d}", "period_type": "monthly",
         "year": today.year - 1, "period_end": _month_end(today.year - 1, m), "basis": "period",
         "revenue": 800.0 + 20 * m}
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
        conn.execute(sa.insert(Enterprise.__table__), enterprises)
        # Insert recognitions without superseded_by first: the row it points to must exist (foreign key).
        conn.execute(sa.insert(Recognition.__table__), [{**r, "superseded_by": None} for r in recognitions])
        for r in recognitions:
            if r.get("superseded_by"):
                conn.execute(sa.update(Recognition.__table__).where(Recognition.__table__.c.id == r["id"])
                             .values(superseded_by=r["superseded_by"]))
        conn.execute(sa.insert(Report.__table__), [_full_report(r) for r in reports])
        conn.execute(sa.insert(Attribute.__table__), [{"expires_on": None, **a} for a in attributes])
        conn.execute(sa.insert(Event.__table__), events)
        conn.execute(sa.insert(RegionalTarget.__table__), targets)
        conn.execute(sa.insert(Flag.__table__), flags)
        conn.execute(sa.insert(IngestionRun.__table__), [{
            "file_name": "企业名录.xlsx", "sha256": "0" * 64, "kind": "enterprises", "status": "loaded",
            "rows_read": len(enterprises), "rows_loaded": len(enterprises), "started_at": finished,
            "finished_at": finished}])
        conn.execute(sa.insert(JobRun.__table__), [{
            "job": "flags", "started_at": finished, "finished_at": finished, "status": "success", "counts": {}}])
    # Sequences on PostgreSQL do not advance on explicit ids: move them past the seeded rows.
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            for table in ("enterprise", "recognition"):
                conn.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
    return SeedInfo(today, featured_uscc, formula_uscc, len(enterprises))


def _firm(firm_id: int, uscc: str, name: str, region: str, industry: str, rng: random.Random) -> dict:
    return {
        "id": firm_id, "uscc": uscc, "name": name, "name_norm": normalize_name(name), "region_code": region,
        "province_code": region[:2], "industry_code": industry,
        "founded_on": date(rng.randint(1995, 2018), rng.randint(1, 12), rng.randint(1, 28)),
        "registered_capital": float(rng.randint(100, 20000)), "ownership": rng.choice(["民营", "国有", "合资"]),
        "listing_board": rng.choice(["none", "none", "neeq", "star"]), "main_product": rng.choice(WORDS) + "组件",
    }


def _full_report(values: dict) -> dict:
    metrics = ("revenue", "rd_expense", "total_assets", "total_liabilities", "employees", "invention_patents")
    return {**{m: None for m in metrics}, **values}


def _plus_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _month_end(year: int, month: int) -> date:
    first_next = date(year + (month == 12), month % 12 + 1, 1)
    return first_next - timedelta(days=1)
