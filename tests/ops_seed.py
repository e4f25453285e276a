"""Operations data on top of dashboard_seed: Shanghai firms with monthly reporting duties (real cn-sh policy),
reports that arrived on time, late or not at all, ingestion runs with rejected rows, and lifecycle flags with
evidence for the review queue. Dates are relative to `today`, like dashboard_seed."""

from __future__ import annotations

import random
import sys
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import sqlalchemy as sa

from registry.identity import make_uscc
from registry.models import Enterprise, Flag, IngestionRun, Recognition, RejectedRow, Report

sys.path.insert(0, str(Path(__file__).parent))
from builders import enterprise_row, fix_sequences, insert_rows, recognition_row, report_row  # noqa: E402


@dataclass
class OpsSeed:
    shanghai: list[str]
    review_uscc: str  # a 小巨人 of batch "ops-1" due for 复核, with an open review_due flag
    review_recognition_id: int
    exit_uscc: str  # a 北京 专精特新 firm with a false-declaration exit flag (3-year ban in the Beijing policy)
    exit_recognition_id: int
    cohort: list[str]  # batch "ops-2": three 小巨人 with expired flags, for the bulk action
    bad_run_id: int


def months_back(today: date, n: int) -> tuple[int, int]:
    index = today.year * 12 + today.month - 1 - n
    return index // 12, index % 12 + 1


def seed_operations(engine: sa.Engine, today: date, seed: int = 3) -> OpsSeed:
    rng = random.Random(seed)
    with engine.connect() as conn:
        firm_id = conn.execute(sa.select(sa.func.coalesce(sa.func.max(Enterprise.__table__.c.id), 0))).scalar_one()
        rec_id = conn.execute(sa.select(sa.func.coalesce(sa.func.max(Recognition.__table__.c.id), 0))).scalar_one()
        run_id = conn.execute(sa.select(sa.func.coalesce(sa.func.max(IngestionRun.__table__.c.id), 0))).scalar_one()
    firms, recognitions, reports, runs, flags, rejected = [], [], [], [], [], []

    def add_firm(region: str, name: str) -> tuple[int, str]:
        nonlocal firm_id
        firm_id += 1
        uscc = make_uscc(rng, region)
        firms.append(enterprise_row(uscc, name, region, id=firm_id, industry_code="C35", founded_on=date(2010, 1, 1)))
        return firm_id, uscc

    def add_recognition(firm: int, tier: str, jurisdiction: str, batch: str, on: date, until: date) -> int:
        nonlocal rec_id
        rec_id += 1
        recognitions.append(recognition_row(firm, tier, jurisdiction, on, until, id=rec_id, batch=batch,
                                            document_no=f"测试〔{on.year}〕{rec_id}号"))
        return rec_id

    # Shanghai: recognised 8 months ago; the last 6 due monthly reports are owed.
    run_id += 1
    on_time_run = run_id
    runs.append({"id": on_time_run, "file_name": "/inbox/上海月报.csv", "sha256": "a" * 64, "kind": "reports",
                 "status": "loaded", "source": "inbox", "rows_read": 6, "rows_loaded": 6, "rows_rejected": 0,
                 "started_at": datetime.combine(today - timedelta(days=400), time(2), UTC),
                 "finished_at": datetime.combine(today - timedelta(days=400), time(2), UTC)})
    shanghai = []
    for k in range(3):
        firm, uscc = add_firm("310115", f"上海浦东测试{k}号精密有限公司")
        shanghai.append(uscc)
        add_recognition(firm, "zjtx_sme", "cn-sh", "2024", today - timedelta(days=240), today + timedelta(days=800))
        for n in range(2, 8):  # months 2..7 back: all due by now (due the 10th of the next month)
            year, month = months_back(today, n)
            if k == 2 and n <= 3:
                continue  # firm 2 misses its two latest reports
            reports.append(report_row(firm, f"{year}-{month:02d}", revenue=500.0 + n, ingestion_run_id=on_time_run))

    # Review queue: one 小巨人 due for review, one Beijing firm with an exit condition, one cohort of three expired.
    firm, review_uscc = add_firm("440305", "深圳复核测试精密有限公司")
    review_rec = add_recognition(firm, "little_giant", "cn", "ops-1", today - timedelta(days=1000),
                                 today + timedelta(days=95))
    flags.append({"enterprise_id": firm, "recognition_id": review_rec, "tier": "little_giant", "jurisdiction": "cn",
                  "kind": "review_due", "severity": "warning", "due_on": today + timedelta(days=95),
                  "key": f"{review_uscc}:{review_rec}:review_due", "opened_on": today - timedelta(days=85),
                  "evidence": {"recognized_on": (today - timedelta(days=1000)).isoformat(),
                               "valid_until": (today + timedelta(days=95)).isoformat(), "days_left": 95,
                               "rule": "复核提示: valid_until 前 180 天起", "source": "工信厅企业函〔2021〕79号 L1012"}})
    firm, exit_uscc = add_firm("110108", "北京退出测试科技有限公司")
    exit_rec = add_recognition(firm, "zjtx_sme", "cn-bj", "2022", today - timedelta(days=500),
                               today + timedelta(days=600))
    flags.append({"enterprise_id": firm, "recognition_id": exit_rec, "tier": "zjtx_sme", "jurisdiction": "cn-bj",
                  "kind": "exit", "severity": "critical", "due_on": today - timedelta(days=20),
                  "key": f"{exit_uscc}:{exit_rec}:exit:false_declaration", "opened_on": today - timedelta(days=19),
                  "evidence": {"reason": "false_declaration", "label_zh": "虚假申报", "label_en": "false declaration",
                               "event": "false_declaration", "occurred_on": (today - timedelta(days=20)).isoformat(),
                               "ban_years": 3, "source": "京经信发〔2021〕1号 L100-101"}})
    cohort = []
    for k in range(3):
        firm, uscc = add_firm("330212", f"宁波批次测试{k}号有限公司")
        cohort.append(uscc)
        start = today - timedelta(days=1110)
        rid = add_recognition(firm, "little_giant", "cn", "ops-2", start, today - timedelta(days=15))
        flags.append({"enterprise_id": firm, "recognition_id": rid, "tier": "little_giant", "jurisdiction": "cn",
                      "kind": "expired", "severity": "critical", "due_on": today - timedelta(days=15),
                      "key": f"{uscc}:{rid}:expired", "opened_on": today - timedelta(days=14),
                      "evidence": {"valid_until": (today - timedelta(days=15)).isoformat(), "days_overdue": 15,
                                   "rule": "有效期届满且无复核续期"}})

    # A run with rejected rows (the raw row kept, as the ingestion stores it).
    run_id += 1
    runs.append({"id": run_id, "file_name": "/tmp/zjtx-upload-x/0/企业名录_宁波.csv", "sha256": "b" * 64,
                 "kind": "enterprises", "status": "partial", "source": "upload", "rows_read": 3, "rows_loaded": 1,
                 "rows_rejected": 2, "started_at": datetime.now(UTC), "finished_at": datetime.now(UTC)})
    rejected += [
        {"run_id": run_id, "row": 2, "column": "uscc",
         "reason": "统一社会信用代码校验位错误 / USCC check character is wrong",
         "raw": {"统一社会信用代码": "91330200MA2XXXXXXX", "企业名称": "坏代码有限公司"}},
        {"run_id": run_id, "row": 3, "column": "founded_on", "reason": "日期无效 / invalid date",
         "raw": {"统一社会信用代码": "91330212000000000X", "企业名称": "日期错误有限公司"}},
    ]
    with engine.begin() as conn:
        insert_rows(conn, Enterprise.__table__, firms)
        insert_rows(conn, Recognition.__table__, recognitions)
        conn.execute(sa.insert(IngestionRun.__table__), runs)
        insert_rows(conn, Report.__table__, reports)
        conn.execute(sa.insert(Flag.__table__), flags)
        conn.execute(sa.insert(RejectedRow.__table__), rejected)
    fix_sequences(engine, ["enterprise", "recognition", "ingestion_run"])
    return OpsSeed(shanghai, review_uscc, review_rec, exit_uscc, exit_rec, cohort, run_id)
