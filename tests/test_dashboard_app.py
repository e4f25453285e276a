"""The dashboard as a user sees it (Streamlit AppTest) on a seeded SQLite registry.

Numbers on the page are checked against counts computed here with plain SQL, not against the app's own queries.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from dashboard_login import log_in, seed_user
from dashboard_seed import FEATURED_NAME, seed_registry
from streamlit.testing.v1 import AppTest

from registry.db import make_engine, upgrade
from registry.settings import get_settings

APP = Path(__file__).resolve().parents[1] / "dashboard" / "app.py"
VALID_BY_TIER = """
    SELECT tier, COUNT(DISTINCT enterprise_id) FROM recognition
    WHERE status = 'active' AND recognized_on <= :d AND (valid_until IS NULL OR valid_until >= :d)
    GROUP BY tier"""


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    """One seeded database for the module (seeding is the slow part); tests only read it."""
    folder = tmp_path_factory.mktemp("dashboard")
    url = f"sqlite:///{folder / 'zjtx.db'}"
    engine = make_engine(url)
    upgrade(engine)
    info = seed_registry(engine, firms=800, seed=11)
    seed_user(engine, "admin", "admin", "cn")  # a national admin: these tests see the whole registry
    config = folder / "config.toml"
    config.write_text(f'[database]\nurl = "{url}"\n[demo]\nfirms = 0\n', encoding="utf-8")
    yield engine, info, config
    engine.dispose()


@pytest.fixture
def app(seeded, monkeypatch):
    engine, info, config = seeded
    monkeypatch.setenv("ZJTX_CONFIG", str(config))
    monkeypatch.delenv("ZJTX_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    at = log_in(AppTest.from_file(str(APP), default_timeout=60), engine)
    yield at, engine, info
    get_settings.cache_clear()


def sql(engine, statement: str, **params):
    with engine.connect() as conn:
        return conn.execute(sa.text(statement), params).all()


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def no_errors(at) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def test_overview_counts_match_the_database(app):
    at, engine, _ = app
    at.run()
    no_errors(at)
    assert at.title[0].value == "总览"
    as_of = at.date_input(key="overview_as_of").value
    expected = dict(sql(engine, VALID_BY_TIER, d=as_of))
    shown = metrics(at)
    assert shown["专精特新“小巨人”"] == f"{expected['little_giant']:,}"
    assert shown["创新型中小企业"] == f"{expected['innovative_sme']:,}"
    assert shown["制造业单项冠军"] == f"{expected['single_champion']:,}"
    assert shown["重点“小巨人”"] == "0"
    (due,), = sql(engine, """
        SELECT COUNT(*) FROM (SELECT DISTINCT tier, enterprise_id FROM recognition
        WHERE status = 'active' AND superseded_by IS NULL AND recognized_on <= :d
          AND valid_until BETWEEN :d AND :end) AS due""", d=as_of, end=as_of + timedelta(days=180))
    assert shown["待复核"] == f"{due:,}"
    assert at.get("plotly_chart"), "the tier and province charts are drawn"
    assert {b.label for b in at.get("download_button")} >= {"下载 Excel", "下载 CSV"}


def test_overview_as_of_date_changes_the_counts(app):
    at, engine, _ = app
    at.run()
    earlier = date.today() - timedelta(days=900)
    at.date_input(key="overview_as_of").set_value(earlier).run()
    no_errors(at)
    expected = dict(sql(engine, VALID_BY_TIER, d=earlier))
    assert metrics(at)["专精特新中小企业"] == f"{expected.get('zjtx_sme', 0):,}"


def test_overview_targets_and_flags(app):
    at, engine, _ = app
    at.run()
    markdown = [m.value for m in at.markdown]
    assert "**全国“百十万千”目标**" in markdown
    tables = [df.value for df in at.dataframe]
    targets = next(t for t in tables if "目标数" in t.columns)
    assert targets["目标数"].tolist() == [10000]
    as_of = at.date_input(key="overview_as_of").value
    (actual,), = sql(engine, """
        SELECT COUNT(DISTINCT enterprise_id) FROM recognition WHERE tier = 'little_giant' AND status = 'active'
          AND recognized_on <= :d AND (valid_until IS NULL OR valid_until >= :d)""", d=as_of)
    assert targets["实际数"].tolist() == [actual]
    flags = next(t for t in tables if "提示类别" in t.columns)  # all kinds of flag, not only warnings
    assert flags["提示类别"].tolist() == ["即将到期"]
    # Choosing Guangdong shows its own target.
    at.selectbox(key="overview_region").set_value("cn-gd").run()
    regional = [df.value for df in at.dataframe if "目标数" in df.value.columns]
    assert [t["地区"].tolist() for t in regional] == [["全国"], ["广东省"]]


def test_overview_in_english(app):
    at, _, _ = app
    at.run()
    at.radio(key="lang").set_value("en").run()
    no_errors(at)
    assert at.title[0].value == "Overview"
    assert {"Little giant", "Innovative SME", "Due for review"} <= set(metrics(at))
    assert at.query_params.get("lang") == "en"


def test_registry_lists_pages_and_filters(app):
    at, engine, info = app
    at.run()
    at.switch_page("views/registry_list.py").run()
    no_errors(at)
    (total,), = sql(engine, "SELECT COUNT(*) FROM enterprise")
    assert at.caption[0].value == f"共 {total:,} 家企业"
    first_page = at.dataframe[0].value
    assert len(first_page) == 50
    at.pagination[0].set_value(2).run()
    second_page = at.dataframe[0].value
    assert len(second_page) == 50
    assert not set(first_page["统一社会信用代码"]) & set(second_page["统一社会信用代码"])

    at.selectbox(key="registry_province").set_value("44").run()
    (in_guangdong,), = sql(engine, "SELECT COUNT(*) FROM enterprise WHERE region_code LIKE '44%'")
    assert at.caption[0].value == f"共 {in_guangdong:,} 家企业"
    assert set(at.dataframe[0].value["省份"]) == {"广东省"}

    # Half-width brackets find the name written with full-width ones.
    at.text_input(key="registry_text").input("(示范)精密").run()
    assert at.dataframe[0].value["企业名称"].tolist() == [FEATURED_NAME]
    assert at.dataframe[0].value["详情"].tolist() == [f"firm?uscc={info.featured_uscc}&lang=zh"]


def test_registry_opens_the_firm_page(app):
    at, _, info = app
    at.run()
    at.switch_page("views/registry_list.py").run()
    at.text_input(key="registry_uscc").input(info.featured_uscc[:14]).run()
    at.selectbox(key="registry_pick").set_value(info.featured_uscc)
    at.button(key="registry_open").click().run()
    no_errors(at)
    assert at.header[0].value == FEATURED_NAME


def test_firm_page_by_query_parameter(app):
    at, engine, info = app
    at.query_params["uscc"] = info.featured_uscc
    at.run()
    at.switch_page("views/firm.py").run()
    no_errors(at)
    assert at.header[0].value == FEATURED_NAME
    tables = [df.value for df in at.dataframe]
    recognitions = next(t for t in tables if "认定日期" in t.columns)
    rows = sql(engine, """SELECT r.status FROM recognition r JOIN enterprise e ON e.id = r.enterprise_id
                          WHERE e.uscc = :u ORDER BY r.recognized_on, r.id""", u=info.featured_uscc)
    status_names = {"active": "有效", "superseded": "已被复核替代"}
    assert recognitions["状态"].tolist() == [status_names[s] for (s,) in rows]
    annual = next(t for t in tables if "研发费用占比 (%)" in t.columns)
    (years,), = sql(engine, """SELECT COUNT(DISTINCT year) FROM report r JOIN enterprise e ON e.id = r.enterprise_id
                               WHERE e.uscc = :u""", u=info.featured_uscc)
    assert len(annual) == years  # 4 annual reports + a year covered by 12 monthly ones
    events = next(t for t in tables if "事件" in t.columns)
    assert events["事件"].tolist() == ["更名"]
    assert "生命周期预警" in [s.value for s in at.subheader]
    (capital,), = sql(engine, "SELECT registered_capital FROM enterprise WHERE uscc = :u", u=info.featured_uscc)
    written = f"{capital / 10000:,.2f} 亿元" if capital >= 10000 else f"{capital:,.1f} 万元"
    assert f"**注册资本**  \n{written}" in [m.value for m in at.markdown]

    at.radio(key="lang").set_value("en").run()
    no_errors(at)
    assert at.title[0].value == "Firm"
    assert {"Profile", "Recognitions", "Operating data"} <= {s.value for s in at.subheader}


def test_firm_page_shows_the_firm_among_its_peers(app):
    at, engine, info = app
    at.query_params["uscc"] = info.featured_uscc
    at.run()
    at.switch_page("views/firm.py").run()
    no_errors(at)
    assert "同行对比" in [s.value for s in at.subheader]
    peers = next(df.value for df in at.dataframe if "同行百分位" in df.value.columns)
    assert set(peers["同行范围"]) <= {"同省·同行业大类", "同省·同行业门类", "全国·同行业大类", "全国·同行业门类", "全国·同称号"}
    assert peers["同行百分位"].between(0, 100).all()
    # A group smaller than the minimum (10) is only used when it is the widest one.
    small = peers[peers["同行企业数"] < 10]
    assert set(small["同行范围"]) <= {"全国·同称号"}


def test_firm_page_reads_in_plain_words(app):
    """Attribute values by name (not true/provincial), no "None" in text cells, Chinese headers and placeholder."""
    at, engine, info = app
    at.query_params["uscc"] = info.featured_uscc
    at.run()
    at.switch_page("views/firm.py").run()
    no_errors(at)
    tables = [df.value for df in at.dataframe]
    attributes = next(t for t in tables if "资质" in t.columns)
    shown = dict(zip(attributes["资质"], attributes["取值"], strict=True))
    # dashboard_seed: rd_institution = provincial, high_tech_enterprise = true (vocab: 省级 / 是).
    assert shown["研发机构"] == "省级" and shown["高新技术企业"] == "是"
    for table in tables:
        assert not [c for c in table.columns if "_" in str(c)], table.columns  # no raw column names
        for column in table.columns:
            if table[column].dtype == object:
                assert "None" not in {str(v) for v in table[column]}, column
    picker = at.selectbox(key="firm_policy_new_application")
    assert picker.placeholder == "选择适用于该企业的政策"


def test_firm_page_search_box_and_unknown_firm(app):
    at, _, info = app
    at.run()
    at.switch_page("views/firm.py").run()
    assert at.info[0].value == "请输入企业名称或统一社会信用代码"
    at.text_input(key="firm_search").input("示范）精密").run()
    no_errors(at)
    assert at.header[0].value == FEATURED_NAME
    assert at.query_params["uscc"] == info.featured_uscc

    stranger = log_in(AppTest.from_file(str(APP), default_timeout=60), app[1])
    stranger.query_params["uscc"] = "91110000000000000X"
    stranger.run()
    stranger.switch_page("views/firm.py").run()
    assert stranger.warning[0].value.endswith("91110000000000000X")


def test_firm_page_evaluates_a_policy(app):
    at, _, info = app
    at.query_params["uscc"] = info.featured_uscc
    at.run()
    at.switch_page("views/firm.py").run()
    at.selectbox(key="firm_policy_new_application").set_value("cn/sme-size/2011").run()
    no_errors(at)
    # 工业 under 300号: last year 210 employees (< 300) and revenue 12,500 万元 (≥ 300) → 小型 (small).
    # The class is explained in words (300号 sizes: 小型 = small).
    assert "**结论: 符合**  类别: small（企业规模：小型企业）" in [m.value for m in at.markdown]
    criteria = next(df.value for df in at.dataframe if "条件" in df.value.columns)
    assert set(criteria["结果"]) <= {"满足", "不满足", "缺少数据", "免于考核"}
    assert criteria["来源"].str.contains("300号").any()


def test_firm_page_opens_with_the_rule_of_the_day(app):
    """The featured firm (Shenzhen) holds 小巨人: its 复核 today is judged on the 2022 standard until the end of
    2026 (工信厅企业函〔2026〕117号), then on 2号's; the next rung (重点“小巨人”, 财建〔2021〕2号) has no support
    period after 2025, so a new application has no rule to preselect. Same resolution as the promotion flags and
    `zjtx evaluate --tier` (tests/test_rule_agreement.py)."""
    at, _, info = app
    at.query_params["uscc"] = info.featured_uscc
    at.run()
    at.switch_page("views/firm.py").run()
    assert at.selectbox(key="firm_policy_new_application").value is None
    at.radio(key="firm_purpose").set_value("review").run()
    no_errors(at)
    expected = "cn/little-giant/2022" if date.today() <= date(2026, 12, 31) else "cn/little-giant/2026"
    assert at.selectbox(key="firm_policy_review").value == expected
    assert "**结论:" in " ".join(m.value for m in at.markdown)  # evaluated at once


def test_firm_page_offers_only_the_policies_in_force_today(app):
    from registry.policy import load_policies

    at, _, info = app
    at.query_params["uscc"] = info.featured_uscc
    at.run()
    at.switch_page("views/firm.py").run()
    picker = at.selectbox(key="firm_policy_new_application")
    assert picker.value is None  # the featured 小巨人: no next-rung rule in force today, so none is preselected
    offered = set(picker.options)  # titles, as the page shows them; it judges as of today
    policies = load_policies()
    # Over: the last day it served any purpose is past (a 2022 rule set still serves 复核 in 2026: `purposes`).
    last_days = {pid: [p.effective_to, *(w.effective_to for w in p.purposes)] for pid, p in policies.items()}
    expired = {pid for pid, days in last_days.items() if None not in days and max(days) < date.today()}
    assert expired, "the policy files hold policies no longer in force (e.g. cn/key-little-giant/2021)"
    # The featured firm is in Shenzhen (440305): the national rules and those of 广东 and 深圳 apply, none other.
    own = {"cn", "cn-gd", "cn-gd-shenzhen"}
    title = {pid: f"{p.title_zh}（{p.document_no}）" for pid, p in policies.items()}
    expected = {title[pid] for pid, p in policies.items() if p.jurisdiction in own and pid not in expired
                and p.effective_from <= date.today()}
    assert title["cn/sme-size/2011"] in offered and offered == expected
    assert not offered & {title[pid] for pid in expired}
    assert not offered & {title[pid] for pid, p in policies.items() if p.jurisdiction.startswith("cn-zj")}
    assert not any(o.startswith("cn/") for o in offered)  # no bare ids


def test_new_data_shows_without_restart(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'zjtx.db'}"
    engine = make_engine(url)
    upgrade(engine)
    seed_registry(engine, firms=40, seed=3)
    seed_user(engine)
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "{url}"\n[demo]\nfirms = 0\n', encoding="utf-8")
    monkeypatch.setenv("ZJTX_CONFIG", str(config))
    get_settings.cache_clear()
    at = log_in(AppTest.from_file(str(APP), default_timeout=60), engine)
    at.run()
    as_of = at.date_input(key="overview_as_of").value
    before = dict(sql(engine, VALID_BY_TIER, d=as_of)).get("key_little_giant", 0)
    assert metrics(at)["重点“小巨人”"] == f"{before:,}"
    with engine.begin() as conn:  # a new recognition arrives while the dashboard is open
        conn.execute(sa.text("""INSERT INTO recognition (enterprise_id, tier, jurisdiction, recognized_on, valid_until,
                                status, created_at) VALUES (1, 'key_little_giant', 'cn', :d, NULL, 'active', :d)"""),
                     {"d": as_of})
    at.run()
    assert metrics(at)["重点“小巨人”"] == f"{before + 1:,}"
    get_settings.cache_clear()
    engine.dispose()


def test_overview_drills_down_from_province_to_city_to_county(app):
    at, engine, info = app
    at.run()
    as_of = at.date_input(key="overview_as_of").value
    at.selectbox(key="overview_area_province").set_value("44").run()
    at.selectbox(key="overview_area_city_pick").set_value("4403").run()
    no_errors(at)
    specs = [json.dumps(json.loads(chart.proto.spec), ensure_ascii=False) for chart in at.get("plotly_chart")]
    city_chart = next(s for s in specs if "按市分布" in s)
    county_chart = next(s for s in specs if "按区县分布" in s)
    assert "深圳市" in city_chart
    # The featured firm is registered in 南山区 (440305): the county chart counts it among the firms there.
    (nanshan,), = sql(engine, """SELECT COUNT(*) FROM enterprise e WHERE e.region_code = '440305' AND EXISTS (
        SELECT 1 FROM recognition r WHERE r.enterprise_id = e.id AND r.status = 'active' AND r.recognized_on <= :d
          AND (r.valid_until IS NULL OR r.valid_until >= :d))""", d=as_of)
    bars = json.loads(county_chart)["data"][0]
    assert nanshan >= 1 and dict(zip(bars["y"], bars["x"], strict=True))["南山区"] == nanshan
