"""The analytics pages as a user sees them (Streamlit AppTest): 梯度培育 Pipeline, 目标达成 KPI targets, and what
they add to 总览 Overview and 企业详情 Firm — on a demo registry (registry.demo, 800 firms) plus one hand-made firm
with a 目标表 and some lifecycle flags.

Numbers on the page are checked against plain SQL written here, not against registry.pipeline / registry.targets.
"""

from __future__ import annotations

import random
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from builders import enterprise_row, insert_rows, report_row
from dashboard_login import log_in, seed_user
from streamlit.testing.v1 import AppTest

from registry.db import make_engine, upgrade
from registry.demo import build_demo
from registry.identity import make_uscc
from registry.models import Attribute, Enterprise, FirmTarget, Flag, JobRun, Report
from registry.settings import get_settings

APP = Path(__file__).resolve().parents[1] / "dashboard" / "app.py"
ADMIN = "analytics_admin"
GUANGDONG_USER = "analytics_gd"
TIER_NAMES = {"innovative_sme": "创新型中小企业", "zjtx_sme": "专精特新中小企业", "little_giant": "专精特新“小巨人”",
              "single_champion": "制造业单项冠军"}
# Holding a tier on a day, as the page's definitions read it (CONTRACT statuses, dated closures).
HELD = """r.status <> 'withdrawn' AND r.recognized_on <= :d AND (r.valid_until IS NULL OR r.valid_until >= :d)
          AND (r.ended_on IS NULL OR r.ended_on > :d) AND NOT (r.status IN ('revoked', 'expired') AND r.ended_on IS NULL)"""
# The overview's simpler reading (status active): on today's demo data both must agree.
VALID_TODAY = """r.status = 'active' AND r.recognized_on <= :d AND (r.valid_until IS NULL OR r.valid_until >= :d)"""


def sql(engine, statement: str, **params):
    with engine.connect() as conn:
        return conn.execute(sa.text(statement), params).all()


def add_target_firm(engine, today: date) -> str:
    """One firm in 深圳南山 (440305) with annual figures for the last two years and a 目标表 starting three years
    ago: year 2 = last year (figures due on 31 May, so assessed whenever the page runs after that)."""
    uscc = make_uscc(random.Random(99), "440305")
    last = today.year - 1
    if today < date(today.year, 5, 31):  # before the due date last year's figures may still be missing
        last -= 1
    start = str(last - 2)
    with engine.begin() as conn:
        firm_id = conn.execute(sa.insert(Enterprise.__table__).values(enterprise_row(
            uscc, "目标测试精密有限公司", "440305", industry_code="C3562", founded_on=date(2010, 1, 1),
        )).returning(Enterprise.__table__.c.id)).scalar_one()
        insert_rows(conn, Report.__table__, [
            report_row(firm_id, str(year), revenue=10000.0, rd_expense=rd, invention_patents=patents,
                       total_assets=10000.0, total_liabilities=4500.0)
            for year, rd, patents in ((last - 1, 550.0, 11.0), (last, 700.0, 12.0))])
        conn.execute(sa.insert(Attribute.__table__).values(
            enterprise_id=firm_id, attribute="energy_per_output", value="3.2", effective_on=date(last, 1, 1)))
        conn.execute(sa.insert(FirmTarget.__table__), [
            {"enterprise_id": firm_id, "indicator": indicator, "baseline": b, "target_year1": t1,
             "target_year2": t2, "start_period": start, "direction": direction}
            for indicator, b, t1, t2, direction in (
                ("rd_ratio", 4.0, 5.0, 6.0, "higher"),  # 700/10000 = 7% ≥ 6 → achieved
                ("invention_patents", 10.0, 15.0, 20.0, "higher"),  # 12 < 20 → behind
                ("digital_cloud", 0.0, 1.0, 1.0, "higher"),  # nothing measures it → no data
                ("debt_ratio", 60.0, 55.0, 50.0, "lower"),  # 45% ≤ 50 → achieved
                ("energy_per_output", 4.0, 3.5, 3.0, "lower"),  # 3.2 > 3.0 → behind
                ("defect_rate", 2.0, 1.5, 1.0, "lower"),  # no value → no data
            )])
        conn.execute(sa.insert(Flag.__table__), [
            {"enterprise_id": firm_id, "tier": "little_giant", "jurisdiction": "cn", "kind": kind,
             "severity": severity, "key": f"analytics-{kind}", "evidence": {}, "opened_on": date(2025, 1, 1),
             "resolved_on": resolved}
            for kind, severity, resolved in (("review_due", "warning", None), ("anomaly", "warning", None),
                                             ("expiring", "warning", date(2025, 3, 1)))])
    return uscc


def add_promotion_flags(engine) -> None:
    """Open promotion flags for five Guangdong holders of zjtx_sme (what the flags job would have written)."""
    holders = sql(engine, """SELECT DISTINCT r.enterprise_id FROM recognition r JOIN enterprise e
                             ON e.id = r.enterprise_id WHERE r.tier = 'zjtx_sme' AND r.status = 'active'
                             AND e.province_code = '44' ORDER BY r.enterprise_id LIMIT 5""")
    with engine.begin() as conn:
        conn.execute(sa.insert(Flag.__table__), [
            {"enterprise_id": firm, "tier": "zjtx_sme", "jurisdiction": "cn-gd", "kind": "promotion",
             "severity": "info", "key": f"promotion-{firm}", "evidence": {"target_tier": "little_giant"},
             "opened_on": date(2025, 6, 1)} for (firm,) in holders])


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("analytics")
    url = f"sqlite:///{folder / 'zjtx.db'}"
    engine = make_engine(url)
    upgrade(engine)
    build_demo(engine, firms=800, seed=31)
    uscc = add_target_firm(engine, date.today())
    add_promotion_flags(engine)
    seed_user(engine, ADMIN, "admin", "cn")
    seed_user(engine, GUANGDONG_USER, "official", "cn-gd")
    engine.dispose()
    yield folder, uscc


def open_app(folder: Path, monkeypatch, page: str | None = None, user: str = ADMIN, **params
             ) -> tuple[AppTest, sa.Engine]:
    url = f"sqlite:///{folder / 'zjtx.db'}"
    config = folder / "config.toml"
    config.write_text(f'[database]\nurl = "{url}"\n[demo]\nfirms = 0\n', encoding="utf-8")
    monkeypatch.setenv("ZJTX_CONFIG", str(config))
    monkeypatch.delenv("ZJTX_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    at = AppTest.from_file(str(APP), default_timeout=120)
    engine = make_engine(url)
    log_in(at, engine, user)
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    if page:
        at.switch_page(f"views/{page}.py").run()
    no_errors(at)
    return at, engine


def no_errors(at) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def frame_with(at, *columns: str):
    return next(df.value for df in at.dataframe if set(columns) <= set(df.value.columns))


def held_by_tier(engine, day: date, where: str = "", **params) -> dict[str, int]:
    rows = sql(engine, f"""SELECT r.tier, COUNT(DISTINCT r.enterprise_id) FROM recognition r
                           JOIN enterprise e ON e.id = r.enterprise_id WHERE {HELD} {where} GROUP BY r.tier""",
               d=day, **params)
    return {tier: dict(rows).get(tier, 0) for tier in TIER_NAMES}


# ---------------------------------------------------------------- 梯度培育 Pipeline


def test_pipeline_funnel_matches_the_database_and_filters(seeded, monkeypatch):
    folder, _ = seeded
    at, engine = open_app(folder, monkeypatch, "pipeline")
    assert at.title[0].value == "梯度培育"
    as_of = at.date_input(key="pipeline_as_of").value
    expected = held_by_tier(engine, as_of)
    valid_today = dict(sql(engine, f"SELECT r.tier, COUNT(DISTINCT r.enterprise_id) FROM recognition r "
                                   f"WHERE {VALID_TODAY} GROUP BY r.tier", d=as_of))
    assert all(expected[t] == valid_today.get(t, 0) for t in TIER_NAMES)  # the two readings agree today
    assert {TIER_NAMES[t]: v for t, v in expected.items()} == {
        label: int(value.replace(",", "")) for label, value in metrics(at).items() if label in TIER_NAMES.values()}
    assert expected["innovative_sme"] > 0 and expected["little_giant"] > 0
    provinces = frame_with(at, "地区代码", "创新型中小企业")
    (firms_44,), = sql(engine, f"""SELECT COUNT(DISTINCT r.enterprise_id) FROM recognition r
        JOIN enterprise e ON e.id = r.enterprise_id WHERE {HELD} AND r.tier = 'zjtx_sme'
        AND e.region_code LIKE '44%'""", d=as_of)
    assert provinces.loc[provinces["地区代码"] == "44", "专精特新中小企业"].tolist() == [firms_44]

    # Guangdong → Shenzhen → 南山 (440305): each level's funnel is its own SQL count.
    at.selectbox(key="pipeline_province").set_value("44").run()
    no_errors(at)
    assert [int(metrics(at)[TIER_NAMES[t]].replace(",", "")) for t in TIER_NAMES] == list(
        held_by_tier(engine, as_of, "AND e.region_code LIKE '44%'").values())
    cities = frame_with(at, "地区代码", "创新型中小企业")
    assert set(cities["地区代码"]) <= {code for (code,) in sql(
        engine, "SELECT DISTINCT substr(region_code, 1, 4) FROM enterprise WHERE region_code LIKE '44%'")}
    at.selectbox(key="pipeline_city_44").set_value("4403").run()
    at.selectbox(key="pipeline_county_4403").set_value("440305").run()
    no_errors(at)
    assert [int(metrics(at)[TIER_NAMES[t]].replace(",", "")) for t in TIER_NAMES] == list(
        held_by_tier(engine, as_of, "AND e.region_code = '440305'").values())

    at.selectbox(key="pipeline_province").set_value(None).run()
    at.selectbox(key="pipeline_industry").set_value("I").run()
    no_errors(at)
    assert [int(metrics(at)[TIER_NAMES[t]].replace(",", "")) for t in TIER_NAMES] == list(
        held_by_tier(engine, as_of, "AND e.industry_code LIKE 'I%'").values())


def test_pipeline_flows_and_cohorts_match_the_database(seeded, monkeypatch):
    folder, _ = seeded
    at, engine = open_app(folder, monkeypatch, "pipeline")
    as_of = at.date_input(key="pipeline_as_of").value
    at.selectbox(key="pipeline_tier").set_value("little_giant").run()
    no_errors(at)
    flows = frame_with(at, "年度", "复核续期")
    renewals = dict(sql(engine, """SELECT CAST(strftime('%Y', r.recognized_on) AS INTEGER), COUNT(DISTINCT r.enterprise_id)
        FROM recognition r WHERE r.tier = 'little_giant' AND r.status <> 'withdrawn' AND r.recognized_on <= :d
        AND r.id IN (SELECT superseded_by FROM recognition WHERE superseded_by IS NOT NULL) GROUP BY 1""", d=as_of))
    shown = {int(y): int(n) for y, n in zip(flows["年度"], flows["复核续期"], strict=True) if n}
    assert shown == renewals and renewals
    revoked = dict(sql(engine, """SELECT CAST(strftime('%Y', ended_on) AS INTEGER), COUNT(DISTINCT enterprise_id)
        FROM recognition WHERE tier = 'little_giant' AND status = 'revoked' AND ended_on <= :d GROUP BY 1""", d=as_of))
    assert {int(y): int(n) for y, n in zip(flows["年度"], flows["撤销"], strict=True) if n} == revoked

    cohorts = frame_with(at, "认定年度", "复核结果")
    entries = dict(sql(engine, """SELECT CAST(strftime('%Y', recognized_on) AS INTEGER), COUNT(*) FROM recognition
        WHERE tier = 'little_giant' AND status <> 'withdrawn' AND recognized_on <= :d
        AND id NOT IN (SELECT superseded_by FROM recognition WHERE superseded_by IS NOT NULL) GROUP BY 1""", d=as_of))
    assert cohorts.groupby("认定年度")["认定数"].sum().to_dict() == entries
    renewed = dict(sql(engine, """SELECT CAST(strftime('%Y', r.recognized_on) AS INTEGER), COUNT(*) FROM recognition r
        JOIN recognition s ON s.id = r.superseded_by WHERE r.tier = 'little_giant' AND s.recognized_on <= :d
        AND r.id NOT IN (SELECT superseded_by FROM recognition WHERE superseded_by IS NOT NULL) GROUP BY 1""", d=as_of))
    shown_renewed = cohorts[cohorts["复核结果"] == "已续期"].set_index("认定年度")["认定数"]
    assert {y: n for y, n in shown_renewed.to_dict().items() if n} == renewed

    at.radio(key="lang").set_value("en").run()
    no_errors(at)
    assert at.title[0].value == "Pipeline"
    assert {"Little giant", "Innovative SME"} <= set(metrics(at))


def test_pipeline_promotion_candidates_evaluated_on_request(seeded, monkeypatch):
    folder, _ = seeded
    at, engine = open_app(folder, monkeypatch, "pipeline")
    as_of = at.date_input(key="pipeline_as_of").value
    at.selectbox(key="pipeline_province").set_value("46").run()  # Hainan: a few holders, a quick evaluation
    assert not [m for m in metrics(at) if "→" in m]  # nothing until asked: the flags job has not run
    at.button(key="pipeline_evaluate").click().run()
    no_errors(at)
    (holders,), = sql(engine, f"""SELECT COUNT(DISTINCT r.enterprise_id) FROM recognition r
        JOIN enterprise e ON e.id = r.enterprise_id WHERE {HELD} AND r.tier = 'zjtx_sme'
        AND e.region_code LIKE '46%' AND NOT EXISTS (SELECT 1 FROM recognition x WHERE x.enterprise_id = r.enterprise_id
        AND x.tier = 'little_giant' AND {HELD.replace('r.', 'x.')})""", d=as_of)
    candidates = frame_with(at, "晋级目标称号", "已评估企业数")
    assert candidates.loc[candidates["称号"] == "专精特新中小企业", "已评估企业数"].tolist() == [holders]
    assert "专精特新中小企业 → 专精特新“小巨人”" in metrics(at)


def test_pipeline_promotion_candidates_from_the_flags_job(seeded, monkeypatch, tmp_path):
    folder, _ = seeded
    copy = tmp_path / "copy"
    copy.mkdir()
    shutil.copy(folder / "zjtx.db", copy / "zjtx.db")
    engine = make_engine(f"sqlite:///{copy / 'zjtx.db'}")
    with engine.begin() as conn:  # the flags job has run once
        conn.execute(sa.insert(JobRun.__table__).values(
            job="flags", started_at=datetime.now(UTC), finished_at=datetime.now(UTC), status="success", counts={}))
    engine.dispose()
    at, engine = open_app(copy, monkeypatch, "pipeline")
    (flagged,), = sql(engine, """SELECT COUNT(DISTINCT enterprise_id) FROM flag WHERE kind = 'promotion'
                                 AND resolved_on IS NULL AND tier = 'zjtx_sme'""")
    assert flagged == 5
    assert metrics(at)["专精特新中小企业 → 专精特新“小巨人”"] == "5"
    assert all(b.key != "pipeline_evaluate" for b in at.button)  # no need to evaluate: the flags say it


# ---------------------------------------------------------------- 目标达成 KPI targets


def test_targets_page_firm_statuses_and_counts(seeded, monkeypatch):
    folder, uscc = seeded
    at, engine = open_app(folder, monkeypatch, "targets")
    assert at.title[0].value == "目标达成"
    (firms,), = sql(engine, "SELECT COUNT(DISTINCT enterprise_id) FROM firm_target")
    assert metrics(at)["企业数"] == f"{firms:,}"
    detail = frame_with(at, "统一社会信用代码", "考核年度", "状态")
    (rows,), = sql(engine, "SELECT COUNT(*) FROM firm_target")
    assert len(detail) == min(rows, 2000)

    # Narrow to 南山 (440305): the hand-made firm's six indicators, both directions.
    at.selectbox(key="targets_province").set_value("44").run()
    at.selectbox(key="targets_city_44").set_value("4403").run()
    at.selectbox(key="targets_county_4403").set_value("440305").run()
    no_errors(at)
    detail = frame_with(at, "统一社会信用代码", "考核年度", "状态")
    mine = detail[detail["统一社会信用代码"] == uscc].set_index("指标")
    assert mine["状态"].to_dict() == {
        "研发经费支出占营业收入比重": "已达成", "有效发明专利数量": "落后", "数字化和工业设计赋能、业务系统云端迁移": "无数据",
        "资产负债率": "已达成", "energy_per_output": "落后", "defect_rate": "无数据"}
    assert mine["方向"].to_dict()["资产负债率"] == "越低越好"
    assert mine["完成率 (%)"].to_dict()["资产负债率"] == pytest.approx(150.0)  # (45 − 60) / (50 − 60)
    laggards = frame_with(at, "统一社会信用代码", "未达标指标数", "完成率中位数 (%)")
    assert laggards.loc[laggards["统一社会信用代码"] == uscc, "未达标指标数"].tolist() == [2]
    assert at.get("plotly_chart"), "status, box and histogram charts are drawn"


def test_a_provincial_official_sees_their_cities_on_pipeline_and_targets(seeded, monkeypatch):
    """Issue 12: a Guangdong official's breakdowns start at Guangdong's cities (not one row for the province), and
    choosing a city goes on to its counties."""
    folder, _ = seeded
    at, engine = open_app(folder, monkeypatch, "pipeline", user=GUANGDONG_USER)
    as_of = at.date_input(key="pipeline_as_of").value
    by_city = frame_with(at, "地区代码", "创新型中小企业")
    expected = dict(sql(engine, f"""SELECT substr(e.region_code, 1, 4), COUNT(DISTINCT r.enterprise_id)
        FROM recognition r JOIN enterprise e ON e.id = r.enterprise_id WHERE {HELD} AND r.tier = 'innovative_sme'
        AND e.region_code LIKE '44%' GROUP BY substr(e.region_code, 1, 4)""", d=as_of))
    assert len(expected) > 1
    shown = dict(zip(by_city["地区代码"], by_city["创新型中小企业"], strict=True))
    assert {code: n for code, n in shown.items() if n} == expected

    at, engine = open_app(folder, monkeypatch, "targets", user=GUANGDONG_USER)
    firms_by = dict(sql(engine, """SELECT substr(e.region_code, 1, 4), COUNT(DISTINCT t.enterprise_id)
        FROM firm_target t JOIN enterprise e ON e.id = t.enterprise_id WHERE e.region_code LIKE '44%'
        GROUP BY substr(e.region_code, 1, 4)"""))
    areas = frame_with(at, "地区代码", "达标率 (%)")
    assert dict(zip(areas["地区代码"], areas["企业数"], strict=True)) == firms_by
    # Shenzhen → its districts (the hand-made firm is in 南山 440305).
    at.selectbox(key="targets_province").set_value("44").run()
    at.selectbox(key="targets_city_44").set_value("4403").run()
    no_errors(at)
    districts = frame_with(at, "地区代码", "达标率 (%)")
    assert set(districts["地区代码"]) == {code for (code,) in sql(engine, """SELECT DISTINCT e.region_code
        FROM firm_target t JOIN enterprise e ON e.id = t.enterprise_id WHERE e.region_code LIKE '4403%'""")}
    assert "440305" in set(districts["地区代码"])


def test_targets_page_regional_targets_and_trajectory(seeded, monkeypatch):
    folder, _ = seeded
    at, engine = open_app(folder, monkeypatch, "targets")
    as_of = at.date_input(key="targets_as_of").value
    progress = frame_with(at, "目标数", "实际数", "每年尚需")
    # Jurisdictions by name (data/reference/jurisdictions.csv: cn 全国, cn-sd 山东省), not by id.
    national = progress[(progress["认定机关辖区"] == "全国") & (progress["称号"] == "专精特新“小巨人”")]
    # The demo sizes its targets to the registry it builds (registry.demo): the figure is the stored one.
    (target,), = sql(engine, "SELECT target_count FROM regional_target WHERE jurisdiction = 'cn' "
                             "AND tier = 'little_giant' AND year = 2025")
    assert national["目标数"].tolist() == [target]
    judged_on = min(as_of, date(2025, 12, 31))  # a past target is judged on 31 December of its year
    (actual,), = sql(engine, f"SELECT COUNT(DISTINCT r.enterprise_id) FROM recognition r "
                             f"WHERE {HELD} AND r.tier = 'little_giant'", d=judged_on)
    assert national["实际数"].tolist() == [actual]
    at.selectbox(key="targets_region").set_value("cn-sd").run()
    no_errors(at)
    shandong = frame_with(at, "目标数", "实际数", "每年尚需")
    assert set(shandong["认定机关辖区"]) == {"山东省"}
    (sd_actual,), = sql(engine, f"""SELECT COUNT(DISTINCT r.enterprise_id) FROM recognition r JOIN enterprise e
        ON e.id = r.enterprise_id WHERE {HELD} AND r.tier = 'zjtx_sme' AND e.region_code LIKE '37%'""", d=judged_on)
    assert shandong.loc[shandong["称号"] == "专精特新中小企业", "实际数"].tolist() == [sd_actual]
    trajectory = frame_with(at, "日期", "系列")
    assert trajectory.iloc[-1]["系列"] in {"实际", "目标"}
    assert "目标" in set(trajectory["系列"])


# ---------------------------------------------------------------- 总览 Overview and 企业详情 Firm


def test_overview_firms_with_open_flags_by_kind(seeded, monkeypatch):
    folder, _ = seeded
    at, engine = open_app(folder, monkeypatch)
    open_by_kind = dict(sql(engine, "SELECT kind, COUNT(DISTINCT enterprise_id) FROM flag WHERE resolved_on IS NULL "
                                    "GROUP BY kind"))
    assert metrics(at)["预警：可晋级"] == f"{open_by_kind['promotion']:,}"
    assert {kind: metrics(at)[f"预警：{kind}"] for kind in ("数据异常", "触发退出条件", "未按时报送", "待复核")} == {
        "数据异常": "1", "触发退出条件": "0", "未按时报送": "0", "待复核": "1"}
    targets = frame_with(at, "目标数", "实际数", "状态")
    assert set(targets["状态"]) <= {"已完成", "进度正常", "进度落后", "未完成"}


def test_firm_page_targets_and_flags(seeded, monkeypatch):
    folder, uscc = seeded
    at, engine = open_app(folder, monkeypatch, "firm", uscc=uscc)
    assert at.header[0].value == "目标测试精密有限公司"
    subheaders = [s.value for s in at.subheader]
    assert "目标表完成情况" in subheaders
    table = frame_with(at, "指标", "考核年度", "状态")
    assert table.set_index("指标")["状态"].to_dict()["有效发明专利数量"] == "落后"
    assert len(table) == 6
    markdown = [m.value for m in at.markdown]
    (opened,), = sql(engine, "SELECT COUNT(*) FROM flag f JOIN enterprise e ON e.id = f.enterprise_id "
                             "WHERE e.uscc = :u AND f.resolved_on IS NULL", u=uscc)
    assert f"**未关闭的预警** ({opened})" in markdown and opened == 2
    assert "**已关闭的预警** (1)" in markdown
