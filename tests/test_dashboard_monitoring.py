"""The 运行监测 page as users see it (Streamlit AppTest) on a demo registry: an analyst (national) and a provincial
official (cn-zj), in Chinese and English. Figures on the page are checked against plain SQL on the database."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from dashboard_login import log_in, seed_user
from streamlit.testing.v1 import AppTest

from registry.db import make_engine, upgrade
from registry.demo import build_demo
from registry.settings import get_settings

APP = Path(__file__).resolve().parents[1] / "dashboard" / "app.py"
USERS = {"watcher": ("analyst", "cn"), "zj_officer": ("official", "cn-zj")}
# Firms holding 专精特新中小企业 or 小巨人 (the page's default tiers) on a day, as registry.selection.held_on reads it.
HELD = """SELECT COUNT(DISTINCT r.enterprise_id) FROM recognition r JOIN enterprise e ON e.id = r.enterprise_id
          WHERE r.tier IN ('zjtx_sme', 'little_giant') AND r.status <> 'withdrawn' AND r.recognized_on <= :d
            AND (r.valid_until IS NULL OR r.valid_until >= :d) AND (r.ended_on IS NULL OR r.ended_on > :d)
            AND NOT (r.status IN ('revoked', 'expired') AND r.ended_on IS NULL) AND e.region_code LIKE :prefix"""


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("monitoring")
    url = f"sqlite:///{folder / 'zjtx.db'}"
    engine = make_engine(url)
    upgrade(engine)
    build_demo(engine, firms=600, seed=5, as_of=date(2026, 12, 1))
    for username, (role, jurisdiction) in USERS.items():
        seed_user(engine, username, role, jurisdiction)
    config = folder / "config.toml"
    config.write_text(f'[database]\nurl = "{url}"\n[demo]\nfirms = 0\n', encoding="utf-8")
    yield engine, config
    engine.dispose()


def open_page(seeded, monkeypatch, username: str, lang: str = "zh") -> AppTest:
    engine, config = seeded
    monkeypatch.setenv("ZJTX_CONFIG", str(config))
    monkeypatch.delenv("ZJTX_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    at = log_in(AppTest.from_file(str(APP), default_timeout=120), engine, username)
    at.query_params["lang"] = lang
    at.run()
    at.switch_page("views/monitoring.py").run()
    no_errors(at)
    return at


def no_errors(at) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def held(engine, day: date, prefix: str = "") -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text(HELD), {"d": day, "prefix": f"{prefix}%"}).scalar_one()


def chart_titles(at) -> list[str]:
    import json

    return [json.loads(chart.proto.spec)["layout"]["title"]["text"] for chart in at.get("plotly_chart")]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_analyst_sees_the_cohort_with_titled_charts(seeded, monkeypatch, lang):
    engine, _ = seeded
    at = open_page(seeded, monkeypatch, "watcher", lang)
    assert at.title[0].value == ("运行监测" if lang == "zh" else "Performance monitoring")
    period = at.selectbox(key="monitor_period_year_period").value
    firms_label = "监测企业数" if lang == "zh" else "Firms in cohort"
    shown = {m.label: m.value for m in at.metric}
    assert shown[firms_label] == f"{held(engine, date(int(period), 12, 31)):,}"
    titles = chart_titles(at)
    assert len(titles) == 2
    unit = r"(万元|亿元)" if lang == "zh" else r"(CNY 10k|CNY 100m)"
    assert all(re.search(unit, title) for title in titles), titles
    # R&D intensity: in percent, and the page says the ratio covers firms reporting both parts.
    at.selectbox(key="monitor_metric").set_value("rd_intensity").run()
    no_errors(at)
    assert all("%" in title for title in chart_titles(at))
    note = "两项数据均已填报" if lang == "zh" else "reported both parts"
    assert any(note in caption.value for caption in at.caption)


def test_quarter_grain_and_ytd_basis(seeded, monkeypatch):
    at = open_page(seeded, monkeypatch, "watcher")
    at.selectbox(key="monitor_grain").set_value("quarter").run()
    at.selectbox(key="monitor_basis").set_value("ytd").run()
    no_errors(at)
    assert at.selectbox(key="monitor_period_quarter_ytd").value.count("Q") == 1


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_provincial_official_sees_only_the_province_and_opens_a_firm(seeded, monkeypatch, lang):
    engine, _ = seeded
    at = open_page(seeded, monkeypatch, "zj_officer", lang)
    period = at.selectbox(key="monitor_period_year_period").value
    firms_label = "监测企业数" if lang == "zh" else "Firms in cohort"
    assert {m.label: m.value for m in at.metric}[firms_label] == f"{held(engine, date(int(period), 12, 31), '33'):,}"
    assert at.selectbox(key="monitor_province").options == [("全部" if lang == "zh" else "All"),
                                                            ("浙江省" if lang == "zh" else "Zhejiang")]
    breakdown = next(df.value for df in at.dataframe if "tier" not in df.value.columns and len(df.value.columns) > 8)
    assert all(str(code).startswith("33") for code in breakdown.iloc[:, 0])
    at.selectbox(key="monitor_cell_area").set_value(0).run()
    no_errors(at)
    firms = at.selectbox(key="monitor_pick_firm")
    uscc = firms.value
    assert uscc[2:4] == "33"  # USCC characters 3–4 are the registering region's province
    at.button(key="monitor_open_firm").click().run()
    no_errors(at)
    with engine.connect() as conn:
        name = conn.execute(sa.text("SELECT name FROM enterprise WHERE uscc = :u"), {"u": uscc}).scalar_one()
    assert at.header[0].value == name  # the firm page, opened on that firm
