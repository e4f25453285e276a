"""The operations pages as a user drives them (Streamlit AppTest) on a seeded SQLite registry: 数据接入 (upload,
runs, rejected rows, completeness, jobs), 复核与退出 (decisions change the database, resolve the flag, write the
audit trail), 政策规则 (criteria with source text, version diff, what-if, screening) and 简报 (downloads).

Expected numbers come from SQL or from the seeded facts, not from the functions the pages call.
"""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import polars as pl
import pytest
import sqlalchemy as sa
from builders import report_row
from dashboard_seed import seed_registry
from ops_seed import months_back, seed_operations
from sqlmodel import Session, select
from streamlit.testing.v1 import AppTest

from dashboard.login import AUTH_KEY, start_session
from registry.access import SYSTEM, Principal
from registry.auth import create_user
from registry.db import make_engine, upgrade
from registry.identity import make_uscc
from registry.models import Report
from registry.settings import get_settings

APP = Path(__file__).resolve().parents[1] / "dashboard" / "app.py"
# The compilation ships in the repository (data/sources/, the configured default).
COMPILATION = Path(__file__).resolve().parents[1] / "data" / "sources" / "policy-compilation-2021.txt"
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
        f'outbox = "outbox"\npolicy_compilation = "{COMPILATION}"\n[demo]\nfirms = 0\n', encoding="utf-8")
    yield engine, info, ops, config
    engine.dispose()


@pytest.fixture(autouse=True)
def forget_settings():
    """open_page points ZJTX_CONFIG at a test's config; the cached settings must not outlive the test (a later
    test of another module would read this one's paths)."""
    yield
    get_settings.cache_clear()


def open_page(seeded, monkeypatch, page: str, user: str = "admin", tab: str | None = None, **params) -> AppTest:
    """The page as `user` (a key of USERS) sees it, signed in the way the sign-in page does."""
    engine, info, ops, config = seeded
    monkeypatch.setenv("ZJTX_CONFIG", str(config))
    monkeypatch.delenv("ZJTX_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    at = AppTest.from_file(str(APP), default_timeout=90)
    at.session_state[AUTH_KEY] = start_session(Principal(*USERS[user]))
    at.run()
    at.switch_page(f"views/{page}.py")
    if tab is not None:  # pages whose tabs run only when open (st.tabs with a key)
        at.session_state[f"{page}_tab"] = tab
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


def test_intake_upload_of_a_bad_file_keeps_the_good_one_and_says_why(seeded, monkeypatch):
    """A file the reader cannot parse used to raise a traceback on the page and drop the valid file beside it."""
    engine = seeded[0]
    at = open_page(seeded, monkeypatch, "intake")
    good = make_uscc(__import__("random").Random(6), "330212")
    mac = ("统一社会信用代码,企业名称,行政区划代码,行业代码,成立日期\r"
           f"{good},宁波老式换行有限公司,330212,C35,2012-03-01\r")  # old-Mac line endings: read
    broken = '统一社会信用代码,企业名称,行政区划代码,行业代码,成立日期\n"未闭合的引号,330212\n'
    at.file_uploader(key="intake_files").set_value([("mac.csv", mac.encode(), "text/csv"),
                                                    ("broken.csv", broken.encode(), "text/csv")]).run()
    at.button(key="intake_load").click().run()
    no_errors(at)
    (loaded,), = sql(engine, "SELECT COUNT(*) FROM enterprise WHERE uscc = :u", u=good)
    assert loaded == 1
    results = frame_with(at, "说明")
    assert results["文件"].tolist() == ["mac.csv", "broken.csv"]  # own names, not the server's folder
    assert results["导入行数"].tolist() == [1, 0]
    # Nothing to explain reads "—" (an empty text cell never shows "None").
    assert results["说明"].tolist()[0] == "—" and "malformed CSV" in results["说明"].tolist()[1]


def test_intake_runs_and_their_rejected_rows(seeded, monkeypatch):
    ops = seeded[2]
    at = open_page(seeded, monkeypatch, "intake", tab="导入记录")
    runs = frame_with(at, "拒绝行数")
    assert "企业名录_宁波.csv" in runs["文件"].tolist()  # the file's own name, not the upload folder
    at.selectbox(key="intake_run").set_value(ops.bad_run_id).run()
    no_errors(at)
    rows = next(df.value for df in at.dataframe if "行号" in df.value.columns and "企业名称" in df.value.columns)
    assert rows["行号"].tolist() == [2, 3]
    assert rows["企业名称"].tolist() == ["坏代码有限公司", "日期错误有限公司"]


def test_intake_completeness_heatmap_and_drill_down(seeded, monkeypatch):
    ops = seeded[2]
    at = open_page(seeded, monkeypatch, "intake", tab="报送完整性")
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
    at = open_page(seeded, monkeypatch, "intake", tab="定时任务")
    jobs = frame_with(at, "下次运行")
    assert set(jobs["任务"]) >= {"ingest", "flags", "snapshot", "reminders"}
    at.button(key="run_now_flags").click().run()
    no_errors(at)
    assert any("已请求运行 生命周期提示" in s.value for s in at.success)
    (requests,), = sql(engine, "SELECT COUNT(*) FROM job_request WHERE job = 'flags' AND requested_by = 'ops_admin'")
    assert requests >= 1


def test_pages_open_in_english(seeded, monkeypatch):
    at = open_page(seeded, monkeypatch, "intake", lang="en")
    at.radio(key="lang").set_value("en").run()
    no_errors(at)
    assert at.title[0].value == "Data intake"


# ---------------------------------------------------------------- 复核与退出


def flag_of(engine, recognition_id: int) -> int:
    (flag_id,), = sql(engine, "SELECT id FROM flag WHERE recognition_id = :r AND resolved_on IS NULL", r=recognition_id)
    return flag_id


def test_review_queue_filters_and_evidence(seeded, monkeypatch):
    engine, _, ops, _ = seeded
    at = open_page(seeded, monkeypatch, "review", user="manager")
    assert at.title[0].value == "复核与退出"
    table = frame_with(at, "证据")
    (open_flags,), = sql(engine, """SELECT COUNT(*) FROM flag f JOIN recognition r ON r.id = f.recognition_id
        WHERE f.resolved_on IS NULL AND r.status = 'active' AND r.superseded_by IS NULL
          AND f.kind IN ('expired', 'exit', 'expiring', 'review_due', 'missing_report', 'warning')""")
    assert len(table) == open_flags
    at.selectbox(key="review_batch").set_value("ops-2").run()
    no_errors(at)
    table = frame_with(at, "证据")
    assert sorted(table["统一社会信用代码"]) == sorted(ops.cohort)
    assert set(table["提示类型"]) == {"已到期"}
    assert any(b.label == "导出复核清单（Excel）" for b in at.get("download_button"))


def test_review_page_lists_the_review_risk_with_its_download(seeded, monkeypatch):
    engine, info, _, _ = seeded
    # A 小巨人 due for 复核 within the year is given last year's debt ratio 95 %: above the ceiling of every
    # 小巨人 standard (70 % in 2022, 75 % in 2026), so it is on course to fail its 复核.
    (rec_id, firm_id, uscc), = sql(engine, """SELECT r.id, e.id, e.uscc FROM recognition r
        JOIN enterprise e ON e.id = r.enterprise_id WHERE r.tier = 'little_giant' AND r.jurisdiction = 'cn'
          AND r.status = 'active' AND r.superseded_by IS NULL AND r.valid_until BETWEEN :lo AND :hi
        ORDER BY r.id LIMIT 1""", lo=info.today + timedelta(days=30), hi=info.today + timedelta(days=300))
    year = info.today.year - 1
    with Session(engine) as session:  # a new row (not an update): the pages' data version changes with it
        for old in session.exec(select(Report).where(Report.enterprise_id == firm_id, Report.period == str(year))):
            session.delete(old)
        session.flush()
        session.add(Report(**report_row(firm_id, str(year), revenue=20000.0, total_assets=1000.0,
                                        total_liabilities=950.0)))
        session.commit()
    at = open_page(seeded, monkeypatch, "review", user="manager")
    no_errors(at)
    [section] = [e for e in at.expander if e.label.startswith("复核风险")]
    assert any(b.label == "导出复核风险名单（Excel）" for b in at.get("download_button"))
    risk = frame_with(at, "差距")
    debt = risk[(risk["认定编号"] == rec_id) & (risk["条件"] == "debt_ratio")]
    assert list(debt["统一社会信用代码"]) == [uscc]
    assert float(debt["实际数"].iloc[0]) == 95.0
    assert float(debt["差距"].iloc[0]) in (25.0, 20.0)  # 95 − 70 (2022 standard) or 95 − 75 (2026 standard)
    # Every row is an active recognition; the section counts the recognitions listed.
    active = {r for (r,) in sql(engine, "SELECT id FROM recognition WHERE status = 'active'")}
    assert set(risk["认定编号"]) <= active
    assert section.label == f"复核风险 · {risk['认定编号'].nunique():,}"


def test_review_queue_reads_in_plain_words(seeded, monkeypatch):
    """Evidence as sentences, jurisdictions and tiers by name, no JSON, no "None", no internal references."""
    _, info, ops, _ = seeded
    at = open_page(seeded, monkeypatch, "review", user="manager")
    table = frame_with(at, "证据")
    cells = [str(v) for column in table.columns for v in table[column].to_list()]
    assert not any(v in ("None", "nan") or v.startswith("{") or "DEFAULT_LIFECYCLE" in v for v in cells)
    expired = table[table["统一社会信用代码"] == ops.cohort[0]].iloc[0]
    valid_until = (info.today - timedelta(days=15)).isoformat()  # ops_seed: expired 15 days ago
    assert expired["证据"] == f"有效期已于 {valid_until} 届满，未复核续期，已逾期 15 天"
    exit_row = table[table["统一社会信用代码"] == ops.exit_uscc].iloc[0]
    assert exit_row["认定机关辖区"] == "北京市" and exit_row["称号"] == "专精特新中小企业"
    assert exit_row["证据"].startswith("虚假申报（事件：虚假申报") and "3 年内不得再申报" in exit_row["证据"]
    assert "提示类型" in table.columns and "预警类型" not in table.columns
    assert not at.json  # the evidence is a sentence, not a JSON viewer
    no_errors(at)


def test_review_renew_decision_changes_the_database_and_shows_on_the_firm_page(seeded, monkeypatch):
    engine, _, ops, _ = seeded
    flag_id = flag_of(engine, ops.review_recognition_id)
    at = open_page(seeded, monkeypatch, "review", user="manager")
    at.selectbox(key="review_pick").set_value(flag_id).run()
    at.radio(key="review_decision").set_value("renew").run()
    at.text_area(key=f"review_reason_{flag_id}").input("复核通过：各项指标达标").run()
    at.button(key="review_submit").click().run()
    no_errors(at)
    assert any("已记录" in s.value and "新有效期至" in s.value for s in at.success)
    [(status, new_id)] = sql(engine, "SELECT status, superseded_by FROM recognition WHERE id = :r",
                             r=ops.review_recognition_id)
    assert status == "superseded" and new_id is not None
    [(start, until)] = sql(engine, "SELECT recognized_on, valid_until FROM recognition WHERE id = :r", r=new_id)
    # The review date defaults to the decision day where the officials are (Asia/Shanghai).
    assert str(start)[:10] == datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()
    [(resolved,)] = sql(engine, "SELECT resolved_on FROM flag WHERE id = :f", f=flag_id)
    assert resolved is not None
    [(actor, reason)] = sql(engine, "SELECT actor, reason FROM audit_log WHERE action = 'review.decide' "
                                    "AND entity_id = :r", r=str(ops.review_recognition_id))
    assert (actor, reason) == ("ops_manager", "复核通过：各项指标达标")
    firm = open_page(seeded, monkeypatch, "firm", user="manager", uscc=ops.review_uscc)
    decided = frame_with(firm, "决定")
    assert decided["决定"].tolist() == ["复核通过（续期）"]
    assert decided["理由"].tolist() == ["复核通过：各项指标达标"]
    recognitions = frame_with(firm, "有效期至")
    assert str(until)[:10] in recognitions.astype(str).to_string()


def test_review_of_an_expired_recognition_preselects_nothing_and_renewal_needs_confirmation(seeded, monkeypatch):
    engine, _, ops, _ = seeded
    [(rec_id,)] = sql(engine, "SELECT r.id FROM recognition r JOIN enterprise e ON e.id = r.enterprise_id "
                              "WHERE e.uscc = :u AND r.status = 'active'", u=ops.cohort[0])
    flag_id = flag_of(engine, rec_id)
    at = open_page(seeded, monkeypatch, "review", user="manager")
    at.selectbox(key="review_pick").set_value(flag_id).run()
    assert at.radio(key="review_decision").value is None  # expired 15 days ago: nothing preselected
    assert any("15 天前" in w.value for w in at.warning)
    at.button(key="review_submit").click().run()
    assert [e.value for e in at.error] == ["请选择一项决定"]
    at.radio(key="review_decision").set_value("renew").run()
    at.text_area(key=f"review_reason_{flag_id}").input("补办复核").run()
    at.button(key="review_submit").click().run()
    assert [e.value for e in at.error] == ["为已到期的认定续期须勾选确认"]
    assert sql(engine, "SELECT status FROM recognition WHERE id = :r", r=rec_id) == [("active",)]
    # The confirmation box is there to tick (the confirmed renewal itself: tests/test_review.py; not recorded
    # here, the bulk test below decides this cohort).
    assert at.checkbox(key=f"review_renew_expired_{flag_id}").label == "确认为已到期 15 天的认定续期"


def test_review_revoke_shows_and_records_the_policy_ban(seeded, monkeypatch):
    engine, _, ops, _ = seeded
    flag_id = flag_of(engine, ops.exit_recognition_id)
    at = open_page(seeded, monkeypatch, "review", user="manager")
    at.selectbox(key="review_pick").set_value(flag_id).run()
    at.radio(key="review_decision").set_value("revoke").run()
    assert at.selectbox(key=f"review_rule_{flag_id}").value == "false_declaration"
    assert any("重新申报限制：3 年" in w.value for w in at.warning)
    # No reason: refused, nothing changes.
    at.button(key="review_submit").click().run()
    assert [e.value for e in at.error] == ["请填写理由"]
    assert sql(engine, "SELECT status FROM recognition WHERE id = :r", r=ops.exit_recognition_id) == [("active",)]
    at.text_area(key=f"review_reason_{flag_id}").input("经核实存在虚假申报").run()
    at.button(key="review_submit").click().run()
    no_errors(at)
    [(status, ended_on)] = sql(engine, "SELECT status, ended_on FROM recognition WHERE id = :r",
                               r=ops.exit_recognition_id)
    assert status == "revoked" and ended_on is not None
    [(ban_until,)] = sql(engine, "SELECT ban_until FROM review_decision WHERE recognition_id = :r",
                         r=ops.exit_recognition_id)
    assert int(str(ban_until)[:4]) == int(str(ended_on)[:4]) + 3
    assert sql(engine, "SELECT COUNT(*) FROM audit_log WHERE action = 'recognition.revoke' AND entity_id = :r",
               r=str(ops.exit_recognition_id)) == [(1,)]


def test_review_bulk_watch_for_a_batch_needs_confirmation(seeded, monkeypatch):
    engine, _, ops, _ = seeded
    at = open_page(seeded, monkeypatch, "review", user="manager")
    at.selectbox(key="review_batch").set_value("ops-2").run()
    at.radio(key="bulk_decision").set_value("watch").run()
    at.text_area(key="bulk_reason").input("第二批整体延期复核，保留观察").run()
    assert at.button(key="bulk_submit").disabled
    at.checkbox(key="bulk_confirm").check().run()
    at.button(key="bulk_submit").click().run()
    no_errors(at)
    assert any("已批量记录 3 条" in s.value for s in at.success)
    (decided,), = sql(engine, """SELECT COUNT(*) FROM review_decision d JOIN recognition r ON r.id = d.recognition_id
        WHERE r.batch = 'ops-2' AND d.decision = 'watch'""")
    assert decided == 3
    (still_open,), = sql(engine, """SELECT COUNT(*) FROM flag f JOIN recognition r ON r.id = f.recognition_id
        WHERE r.batch = 'ops-2' AND f.resolved_on IS NULL""")
    assert still_open == 0


def test_review_without_the_right_role_cannot_decide(seeded, monkeypatch):
    at = open_page(seeded, monkeypatch, "review", user="official")
    assert "您的角色无权执行此操作" in [i.value for i in at.info]
    assert all(b.key not in ("review_submit", "bulk_submit") for b in at.button)


# ---------------------------------------------------------------- 政策规则


def test_policies_show_the_criteria_with_the_cited_text(seeded, monkeypatch):
    at = open_page(seeded, monkeypatch, "policies", user="official")
    at.selectbox(key="policies_pick").set_value("cn/little-giant/2021").run()
    no_errors(at)
    tree = frame_with(at, "source_text")
    debt = tree[tree["id"] == "debt_ratio"].iloc[0]
    assert debt["source"] == "工信厅企业函〔2021〕79号 L894"
    # The cited line, read from the compilation, is shown next to the rule.
    line_894 = COMPILATION.read_text(encoding="utf-8").splitlines()[893].strip()
    assert debt["source_text"] == f"L894 {line_894}" and "70%" in line_894
    assert not at.warning


def test_policies_without_the_compilation_say_so(seeded, monkeypatch, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(seeded[3].read_text(encoding="utf-8").replace(str(COMPILATION), "/nonexistent/compilation.txt"),
                      encoding="utf-8")
    at = open_page((*seeded[:3], config), monkeypatch, "policies", user="official")
    assert any("原文不可用" in w.value for w in at.warning)
    assert all("source_text" not in df.value.columns for df in at.dataframe)


def test_policies_compare_two_versions(seeded, monkeypatch):
    at = open_page(seeded, monkeypatch, "policies", user="official")
    at.selectbox(key="policies_pick").set_value("cn-bj/little-giant/2021-b2").run()
    assert at.selectbox(key="policies_other_cn-bj/little-giant/2021-b2").value == "cn-bj/little-giant/2021"  # the same family first
    diff = frame_with(at, "change")
    assert len(diff) > 0 and set(diff["change"]) <= {"added", "removed", "changed"}


def test_policies_what_if_one_firm_and_a_screened_list(seeded, monkeypatch, tmp_path):
    from builders import little_giant_2020, write_files

    engine, info = seeded[0], seeded[1]
    at = open_page(seeded, monkeypatch, "policies", user="official")
    at.selectbox(key="policies_pick").set_value("cn/sme-size/2011").run()
    at.text_input(key="policies_uscc").input(info.featured_uscc).run()
    at.button(key="policies_evaluate").click().run()
    no_errors(at)
    criteria = frame_with(at, "结果")
    assert len(criteria) > 0
    # Screening an application list: the verdicts `zjtx screen` gives for these firms (tests/test_policy_cli.py).
    good, indebted = little_giant_2020(1), little_giant_2020(2).with_year(2020, total_liabilities=16000.0)
    unknown = little_giant_2020(3).without_attr("own_brand")
    files = write_files(tmp_path, good, indebted, unknown)
    at.selectbox(key="policies_pick").set_value("cn/little-giant/2021").run()
    at.date_input(key="policies_as_of").set_value(date(2021, 5, 1)).run()
    at.file_uploader(key="policies_files").set_value([(f.name, f.read_bytes(), "text/csv") for f in files]).run()
    at.button(key="policies_screen").click().run()
    no_errors(at)
    assert any("符合 1，不符合 1，数据不足 1" in s.value for s in at.success)
    verdicts = frame_with(at, "结论")
    assert dict(zip(verdicts["统一社会信用代码"], verdicts["结论"], strict=True)) == {
        good.uscc: "符合", indebted.uscc: "不符合", unknown.uscc: "数据不足"}
    assert any(b.label == "下载结果工作簿" for b in at.get("download_button"))
    # Nothing was stored.
    assert sql(engine, "SELECT COUNT(*) FROM enterprise WHERE uscc = :u", u=good.uscc) == [(0,)]


# ---------------------------------------------------------------- 简报


def test_briefing_page_numbers_and_downloads(seeded, monkeypatch):
    engine = seeded[0]
    at = open_page(seeded, monkeypatch, "briefing", user="official")
    month = at.selectbox(key="briefing_month").value
    as_of = (month.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    assert at.subheader[0].value == f"全国专精特新企业运行监测简报（{month.year}年{month.month}月）"
    # Held at the end of the month, from the history (a recognition revoked or renewed since still counts then).
    (little,), = sql(engine, """SELECT COUNT(DISTINCT enterprise_id) FROM recognition WHERE tier = 'little_giant'
        AND status != 'withdrawn' AND recognized_on <= :d AND (valid_until IS NULL OR valid_until >= :d)
        AND (ended_on IS NULL OR ended_on > :d) AND NOT (status IN ('revoked', 'expired') AND ended_on IS NULL)""",
                     d=as_of)
    shown = {m.label: m.value for m in at.metric}
    assert shown["有效认定企业：专精特新“小巨人”"] == f"{little:,}"
    assert {b.label for b in at.get("download_button")} >= {"下载 Excel 简报", "下载 PDF 简报"}
    at.selectbox(key="briefing_jurisdiction").set_value("cn-gd").run()
    no_errors(at)
    assert at.subheader[0].value.startswith("广东省专精特新企业运行监测简报")


def test_briefing_without_a_chinese_font_says_so_and_keeps_the_excel_download(seeded, monkeypatch, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(seeded[3].read_text(encoding="utf-8").replace(
        "[paths]\n", f'[paths]\ncjk_font = "{tmp_path / "no-font.ttc"}"\n'), encoding="utf-8")
    at = open_page((*seeded[:3], config), monkeypatch, "briefing", user="official")
    assert any("paths.cjk_font" in w.value and "no-font.ttc" in w.value for w in at.warning)
    assert {b.label for b in at.get("download_button")} == {"下载 Excel 简报"}


def test_a_provincial_manager_briefs_on_their_province_only(seeded, monkeypatch):
    at = open_page(seeded, monkeypatch, "briefing", user="gd_manager")
    options = at.selectbox(key="briefing_jurisdiction").options
    assert options[0].startswith("广东省") and not any("(cn)" in o for o in options)


def _workbook_rows(data: bytes, sheet: int = 0) -> list[tuple]:
    return list(openpyxl.load_workbook(io.BytesIO(data)).worksheets[sheet].iter_rows(values_only=True))


_ = (date, pl)  # used by the review, policies and briefing tests below
