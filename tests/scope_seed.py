"""A small registry spread over several jurisdictions, for the scope tests: Guangdong (Shenzhen, Guangzhou),
Zhejiang (Ningbo, Hangzhou), Beijing and the 兵团 — with recognitions of every status, a 复核 supersession,
reports, attributes, events, open and resolved flags, firm and regional targets, review decisions.

`seed_scope_registry(engine, keep=...)` inserts the whole registry, or only what `keep` (a jurisdiction) may see:
its firms with everything hanging off them, and the regional targets of the jurisdictions inside it. The same
ids are used either way, so a query asked by a scoped principal must answer the same on both databases — any
difference is data from outside the scope.
"""

from __future__ import annotations

import random
import sys
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from registry.access import Principal, in_scope, jurisdictions_in_scope
from registry.identity import make_uscc
from registry.models import (
    Attribute,
    AuditLog,
    Enterprise,
    Event,
    FirmTarget,
    Flag,
    IngestionRun,
    JobRun,
    Recognition,
    RegionalTarget,
    RejectedRow,
    Report,
    ReviewDecision,
    User,
)

sys.path.insert(0, str(Path(__file__).parent))
from builders import enterprise_row, insert_rows, recognition_row, report_row  # noqa: E402

AS_OF = date(2025, 6, 30)
SEEDED_AT = datetime(2025, 6, 29, 8, 0, tzinfo=UTC)

# key: (name, region, industry)
FIRMS = {
    "sz_sensor": ("深圳市精密传感科技有限公司", "440305", "C3562"),
    "sz_soft": ("深圳市云端软件有限公司", "440304", "I65"),
    "gz_parts": ("广州市精密零部件有限公司", "440106", "C34"),
    "nb_hydraulic": ("宁波海天精密液压有限公司", "330212", "C34"),
    "hz_chip": ("杭州芯片设计有限公司", "330106", "C39"),
    "bj_materials": ("北京新材料科技有限公司", "110108", "C26"),
    "bt_farm": ("石河子兵团精密农机有限公司", "659001", "C35"),
    "sh_robot": ("上海浦东精密机器人有限公司", "310115", "C34"),
}


@dataclass
class ScopeSeed:
    usccs: dict[str, str]  # firm key → USCC (the same in every database built from the seed)


def _rows() -> tuple[dict[str, str], dict[str, list[dict]]]:
    rng = random.Random(20250630)
    usccs = {key: make_uscc(rng, region) for key, (_, region, _) in FIRMS.items()}
    firm_id = {key: i + 1 for i, key in enumerate(FIRMS)}
    enterprises = [
        enterprise_row(usccs[key], name, region, id=firm_id[key], industry_code=industry,
                       founded_on=date(2008 + i, 3, 1), registered_capital=1000.0 * (i + 1), ownership="民营",
                       listing_board="none", main_product="精密部件")
        for i, (key, (name, region, industry)) in enumerate(FIRMS.items())
    ]
    rec_id = 0
    recognitions: list[dict] = []

    def recognise(key: str, tier: str, jurisdiction: str, on: date, until: date | None, status: str = "active",
                  superseded_by: int | None = None, batch: str = "1") -> int:
        nonlocal rec_id
        rec_id += 1
        recognitions.append(recognition_row(
            firm_id[key], tier, jurisdiction, on, until, status, id=rec_id, batch=batch, superseded_by=superseded_by,
            document_no=f"测试〔{on.year}〕{rec_id}号",
            ended_on=on + timedelta(days=400) if status == "revoked" else None,
            end_reason="revoked in test" if status == "revoked" else None))
        return rec_id

    # Every place holds the national tiers in several states, so every count differs between places.
    for key, shift in (("sz_sensor", 0), ("nb_hydraulic", 30), ("bj_materials", 60), ("bt_farm", 90)):
        renewed = recognise(key, "little_giant", "cn", date(2022, 7, 1) + timedelta(days=shift),
                            date(2025, 6, 30) + timedelta(days=shift + 1))
        recognise(key, "little_giant", "cn", date(2019, 7, 1), date(2022, 6, 30), "superseded", renewed)
        recognise(key, "innovative_sme", "cn", date(2023, 1, 1), date(2025, 12, 31))
    recognise("sz_soft", "zjtx_sme", "cn-gd", date(2022, 9, 1), date(2025, 8, 31))  # due for 复核
    recognise("sz_soft", "innovative_sme", "cn-gd-shenzhen", date(2024, 1, 1), date(2026, 12, 31))
    recognise("gz_parts", "zjtx_sme", "cn-gd", date(2021, 1, 1), date(2023, 12, 31), "revoked")
    recognise("gz_parts", "innovative_sme", "cn-gd", date(2024, 5, 1), date(2027, 4, 30))
    recognise("hz_chip", "zjtx_sme", "cn-zj", date(2022, 8, 1), date(2025, 7, 31))  # due for 复核
    recognise("hz_chip", "zj_hidden_champion", "cn-zj", date(2023, 3, 1), date(2026, 2, 28))  # a Zhejiang-only tier
    recognise("nb_hydraulic", "zjtx_sme", "cn-zj", date(2020, 1, 1), date(2022, 12, 31), "expired")
    recognise("bj_materials", "single_champion", "cn", date(2022, 1, 1), date(2024, 12, 31))  # expired, not renewed
    recognise("bt_farm", "zjtx_sme", "cn-bingtuan", date(2023, 6, 1), date(2026, 5, 31), "withdrawn")
    recognise("sh_robot", "zjtx_sme", "cn-sh", date(2024, 2, 1), date(2027, 1, 31))  # monthly reporting duty
    recognise("sz_soft", "gd_gazelle", "cn-gd", date(2024, 3, 1), date(2027, 2, 28))  # a Guangdong-only tier

    reports = []
    for i, key in enumerate(FIRMS):
        for k, year in enumerate((2022, 2023, 2024)):
            reports.append(report_row(
                firm_id[key], str(year), revenue=5000.0 + 1000 * k + 100 * i, main_revenue=4500.0 + 900 * k,
                net_profit=300.0 + 50 * k, rd_expense=260.0 + 40 * k + i, total_assets=9000.0,
                total_liabilities=4000.0 - 100 * k, employees=120.0 + 10 * k + i, rd_staff=20.0 + k,
                invention_patents=3.0 + k, main_product_revenue=3800.0 + 800 * k))
        for month in (1, 2, 3):
            reports.append(report_row(firm_id[key], f"2025-{month:02d}", revenue=500.0 + 10 * month + i))
    # A year only a Beijing firm reported: the periods on offer (registry.monitoring) must not show it elsewhere.
    reports.append(report_row(firm_id["bj_materials"], "2021", revenue=4000.0))
    attributes = [
        {"enterprise_id": firm_id[key], "attribute": "high_tech_enterprise", "value": "true",
         "effective_on": date(2021, 11, 1), "expires_on": date(2027, 10, 31)}
        for key in ("sz_sensor", "nb_hydraulic", "hz_chip")
    ] + [{"enterprise_id": firm_id["gz_parts"], "attribute": "rd_institution", "value": "provincial",
          "effective_on": date(2020, 5, 1), "expires_on": None}]
    events = [
        {"enterprise_id": firm_id["nb_hydraulic"], "event": "major_safety_accident", "occurred_on": date(2025, 3, 1),
         "notified_on": date(2025, 3, 20), "detail": "宁波 测试事故"},
        {"enterprise_id": firm_id["sz_sensor"], "event": "rename", "occurred_on": date(2024, 5, 1),
         "notified_on": date(2024, 5, 10), "detail": "原名 深圳传感"},
        {"enterprise_id": firm_id["bj_materials"], "event": "listing", "occurred_on": date(2024, 9, 1),
         "notified_on": None, "detail": "北交所"},
    ]
    active = {}  # firm → its first active recognition, which the flags are about
    for r in recognitions:
        if r["status"] == "active":
            active.setdefault(r["enterprise_id"], r)
    flags = []
    for i, (key, kind, severity, resolved) in enumerate((
        ("sz_soft", "review_due", "warning", None), ("sz_sensor", "missing_report", "warning", date(2025, 5, 1)),
        ("nb_hydraulic", "exit", "critical", None), ("hz_chip", "review_due", "warning", None),
        ("bj_materials", "expired", "critical", None), ("bt_farm", "promotion", "info", None),
        ("sh_robot", "exit", "critical", None),
    )):
        held = active[firm_id[key]]
        flags.append({"id": i + 1, "enterprise_id": firm_id[key], "recognition_id": held["id"], "tier": held["tier"],
                      "jurisdiction": held["jurisdiction"], "kind": kind, "severity": severity, "due_on": AS_OF + timedelta(days=30),
                      "key": f"seed-{i}", "evidence": {"reason": f"seed {kind}"}, "opened_on": date(2025, 4, 1),
                      "resolved_on": resolved})
    firm_targets = [
        {"enterprise_id": firm_id[key], "indicator": "revenue", "baseline": 5000.0, "target_year1": 6000.0,
         "target_year2": 7000.0, "start_period": "2023", "direction": "higher", "unit": "万元"}
        for key in ("sz_sensor", "nb_hydraulic")
    ]
    regional_targets = [
        {"jurisdiction": jurisdiction, "tier": tier, "year": year, "target_count": count, "source": "test",
         "parent_jurisdiction": parent}
        for jurisdiction, tier, year, count, parent in (
            ("cn", "little_giant", 2025, 10000, None), ("cn-gd", "little_giant", 2025, 20, "cn"),
            ("cn-gd", "zjtx_sme", 2026, 40, "cn"), ("cn-gd-shenzhen", "innovative_sme", 2025, 8, "cn-gd"),
            ("cn-zj", "little_giant", 2025, 25, "cn"), ("cn-zj", "zjtx_sme", 2026, 30, "cn"),
            ("cn-bj", "single_champion", 2025, 3, "cn"),
        )
    ]
    decisions = [
        {"recognition_id": 6, "enterprise_id": firm_id["nb_hydraulic"], "decision": "watch", "reason": "事故核查中",
         "decided_by": "zj_manager", "decided_at": datetime(2025, 4, 2, tzinfo=UTC)},
        {"recognition_id": 1, "enterprise_id": firm_id["sz_sensor"], "decision": "renew", "reason": "复核通过",
         "decided_by": "gd_manager", "decided_at": datetime(2025, 4, 3, tzinfo=UTC)},
    ]
    finished = datetime(2025, 6, 29, 8, 0, tzinfo=UTC)
    runs, rejected, users, audit = _runs(usccs, rng, finished, len(enterprises))
    for report in reports:  # the 2024 figures of a Shenzhen and a Ningbo firm came in one mixed file (run 2)
        if report["period"] == "2024" and report["enterprise_id"] in (firm_id["sz_sensor"], firm_id["nb_hydraulic"]):
            report["ingestion_run_id"] = 2
    jobs = [{"job": "flags", "started_at": finished, "finished_at": finished, "status": "success", "counts": {}}]
    tables = {
        "enterprise": enterprises, "recognition": recognitions, "report": reports, "attribute": attributes,
        "event": events, "flag": flags, "firm_target": firm_targets, "regional_target": regional_targets,
        "review_decision": decisions, "ingestion_run": runs, "job_run": jobs, "rejected_row": rejected,
        "app_user": users, "audit_log": audit,
    }
    return usccs, tables


# Who uploaded each run (the audit trail's actor) and the jurisdiction of that account, if it is one.
UPLOADERS = {1: ("cli:root", None), 2: ("scheduler", None), 3: ("gd_manager", "cn-gd"), 4: ("zj_official", "cn-zj")}
SERVER_PATHS = ("/srv/zjtx/", "/tmp/zjtx-upload-")


def _runs(usccs: dict[str, str], rng: random.Random, finished: datetime, firms: int):
    """Four ingestion runs: a national roster (CLI, no row of any firm), a mixed Guangdong + Zhejiang report file
    from the inbox (loaded rows of both provinces, rejected rows of both and rows that name no firm), a Guangdong
    manager's upload rejected whole, and a Zhejiang official's upload with one rejected row. Each rejected row
    carries `_region`: the region the docs say it belongs to (None: the run's uploader's)."""
    at = [finished + timedelta(minutes=m) for m in range(4)]
    upload = "/tmp/zjtx-upload-k3j/0/"
    runs = [
        {"id": 1, "file_name": "/srv/zjtx/inbox/archive/2025/06/企业名录.xlsx", "sha256": "0" * 64,
         "kind": "enterprises", "status": "loaded", "source": "cli", "rows_read": firms, "rows_loaded": firms,
         "rows_rejected": 0, "started_at": at[0], "finished_at": at[3] + timedelta(minutes=5),  # the latest
         "archive_path": "/srv/zjtx/archive/1.xlsx"},
        {"id": 2, "file_name": "/srv/zjtx/inbox/运行数据.csv", "sha256": "2" * 64, "kind": "reports",
         "status": "partial", "source": "inbox", "rows_read": 7, "rows_loaded": 2, "rows_rejected": 5,
         "started_at": at[1], "finished_at": at[1], "archive_path": "/srv/zjtx/archive/2.csv"},
        {"id": 3, "file_name": upload + "广东坏文件.csv", "sha256": "3" * 64, "kind": None, "status": "rejected",
         "source": "upload", "rows_read": 0, "rows_loaded": 0, "rows_rejected": 1, "started_at": at[2],
         "finished_at": at[2], "error": f"无法读取 {upload}广东坏文件.csv / cannot read it"},
        {"id": 4, "file_name": "/tmp/zjtx-upload-p9q/0/浙江名录.csv", "sha256": "4" * 64, "kind": "enterprises",
         "status": "partial", "source": "upload", "rows_read": 2, "rows_loaded": 1, "rows_rejected": 1,
         "started_at": at[3], "finished_at": at[3]},
    ]

    def reject(run_id: int, row: int | None, column: str | None, reason: str, region: str | None,
               **cells: str) -> dict:
        return {"run_id": run_id, "row": row, "column": column, "reason": reason, "raw": cells or None,
                "_region": region}

    unknown_gd = make_uscc(rng, "440105")  # a firm the registry does not hold: its code says Guangzhou
    rejected = [
        reject(2, 1, "revenue", "营业收入不是数字 / revenue is not a number", "440106",
               **{"统一社会信用代码": usccs["gz_parts"], "企业名称": FIRMS["gz_parts"][0], "营业收入": "abc"}),
        reject(2, 2, "revenue", "营业收入不是数字 / revenue is not a number", "330106",
               **{"统一社会信用代码": usccs["hz_chip"], "企业名称": FIRMS["hz_chip"][0], "营业收入": "x"}),
        reject(2, 3, "uscc", "企业不在名录中 / unknown firm", "440105",
               **{"统一社会信用代码": unknown_gd, "企业名称": "广州未登记有限公司", "营业收入": "100"}),
        reject(2, 4, "uscc", "统一社会信用代码无效 / invalid USCC", None,
               **{"统一社会信用代码": "BAD", "企业名称": "无代码公司", "营业收入": "100"}),
        reject(2, None, "备注", "未知列，未载入 / unknown column, not loaded", None),
        reject(3, None, None, f"无法读取 {upload}广东坏文件.csv / cannot read the file", None),
        reject(4, 2, "uscc", "统一社会信用代码无效 / invalid USCC", "330106",
               **{"统一社会信用代码": "91330106BAD", "企业名称": "杭州坏代码有限公司", "行政区划代码": "330106"}),
    ]
    users = [{"username": name, "role": role, "jurisdiction": jurisdiction, "active": True, "failed_logins": 0}
             for name, role, jurisdiction in (("gd_manager", "manager", "cn-gd"), ("zj_official", "official", "cn-zj"))]
    audit = [{"at": at[i - 1], "actor": actor, "action": "ingest.run", "entity": "ingestion_run",
              "entity_id": str(i), "after": {"status": runs[i - 1]["status"]}}
             for i, (actor, _) in UPLOADERS.items()]
    return runs, rejected, users, audit


def owns_file_rows(viewer: Principal, run_id: int) -> bool:
    """The docs' rule for rows that name no firm: national users, the uploader, and users whose jurisdiction
    covers the uploader's (written out here from region prefixes, independently of registry.run_scope)."""
    from registry.access import region_prefixes

    actor, jurisdiction = UPLOADERS[run_id]
    own = region_prefixes(viewer.jurisdiction)
    if own is None or actor == viewer.username:
        return True
    theirs = region_prefixes(jurisdiction) if jurisdiction else None
    return theirs is not None and all(any(t.startswith(p) for p in own) for t in theirs)


def seed_scope_registry(engine: sa.Engine, keep: str | None = None) -> ScopeSeed:
    """The whole registry (keep=None), or only what a principal of jurisdiction `keep` may see."""
    usccs, tables = _rows()
    if keep is not None:
        viewer = Principal("seed", "analyst", keep)
        kept_firms = {f["id"] for f in tables["enterprise"] if in_scope(viewer, f["region_code"])}
        visible = set(jurisdictions_in_scope(viewer)["id"].to_list())
        for name, rows in tables.items():
            if name == "enterprise":
                tables[name] = [r for r in rows if r["id"] in kept_firms]
            elif name == "regional_target":
                tables[name] = [r for r in rows if r["jurisdiction"] in visible]
            elif rows and "enterprise_id" in rows[0]:
                tables[name] = [r for r in rows if r["enterprise_id"] in kept_firms]
        tables["rejected_row"] = [
            r for r in tables["rejected_row"]
            if (in_scope(viewer, r["_region"]) if r["_region"] else owns_file_rows(viewer, r["run_id"]))]
        loaded_runs = {r.get("ingestion_run_id") for r in tables["report"]}
        tables["ingestion_run"] = [
            r for r in tables["ingestion_run"]
            if r["id"] in loaded_runs or r["id"] in {j["run_id"] for j in tables["rejected_row"]}
            or owns_file_rows(viewer, r["id"])]
    tables["rejected_row"] = [{k: v for k, v in r.items() if k != "_region"} for r in tables["rejected_row"]]
    models = {m.__tablename__: m.__table__ for m in (Enterprise, Recognition, Report, Attribute, Event, Flag,
                                                     FirmTarget, RegionalTarget, ReviewDecision, IngestionRun,
                                                     JobRun, RejectedRow, User, AuditLog)}
    with engine.begin() as conn:
        # Runs first: loaded rows and rejected rows refer to them.
        for name, rows in sorted(tables.items(), key=lambda item: item[0] != "ingestion_run"):
            if not rows:
                continue
            # Fixed timestamps (not "now"): both databases must hold the very same values.
            stamps = {c: SEEDED_AT for c in ("created_at", "updated_at") if c in models[name].c}
            insert_rows(conn, models[name], [{**stamps, **r} for r in rows])
    return ScopeSeed(usccs)
