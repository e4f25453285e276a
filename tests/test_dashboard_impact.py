"""The rule-impact page (影响评估) as an admin and a provincial official see it, in Chinese and English (Streamlit
AppTest on the registry of tests/impact_seed.py). Which firms are evaluated is read off that registry by hand."""

from __future__ import annotations

from pathlib import Path

import pytest
from dashboard_login import log_in, seed_user
from impact_seed import AS_OF, seed_impact_registry
from streamlit.testing.v1 import AppTest

from dashboard.pages import pages_for
from registry.db import make_engine, upgrade
from registry.impact import default_pair
from registry.policy import get_policy
from registry.policy.schema import children_of, iter_nodes
from registry.settings import get_settings

APP = Path(__file__).resolve().parents[1] / "dashboard" / "app.py"


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("impact")
    url = f"sqlite:///{folder / 'zjtx.db'}"
    engine = make_engine(url)
    upgrade(engine)
    seed_impact_registry(engine)
    seed_user(engine, "admin", "admin", "cn")
    seed_user(engine, "gd_official", "official", "cn-gd")
    seed_user(engine, "gd_analyst", "analyst", "cn-gd")
    config = folder / "config.toml"
    config.write_text(f'[database]\nurl = "{url}"\n[demo]\nfirms = 0\n', encoding="utf-8")
    yield engine, config
    engine.dispose()


@pytest.fixture
def open_page(seeded, monkeypatch):
    engine, config = seeded
    monkeypatch.setenv("ZJTX_CONFIG", str(config))
    monkeypatch.delenv("ZJTX_DATABASE_URL", raising=False)
    get_settings.cache_clear()

    def run(username: str, lang: str) -> AppTest:
        at = log_in(AppTest.from_file(str(APP), default_timeout=120), engine, username)
        at.query_params["lang"] = lang
        at.run()
        at.switch_page("views/impact.py").run()
        at.date_input(key="impact_as_of").set_value(AS_OF).run()
        assert not at.exception, [e.value for e in at.exception]
        assert not at.error, [e.value for e in at.error]
        return at

    yield run
    get_settings.cache_clear()


def frames_with(at, column: str) -> list:
    """The tables shown that have this column header, in page order."""
    return [d.value for d in at.dataframe if column in d.value.columns]


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


@pytest.mark.parametrize("lang,title,evaluated,lost", [("zh", "影响评估", "评估企业数", "复核可过、新申请不过的企业"),
                                                       ("en", "Rule impact", "Firms evaluated",
                                                        "Pass today's review standard, fail a new application")])
def test_the_admin_sees_every_holder_and_candidate(open_page, lang, title, evaluated, lost):
    at = open_page("admin", lang)
    assert at.title[0].value == title
    # Holders of the 小巨人 tier and 专精特新 candidates in force on 2026-06-30: A–H (tests/impact_seed.py).
    assert metrics(at)[evaluated] == "8"
    from_id, to_id = default_pair()
    assert at.selectbox(key="impact_from").value == from_id and at.selectbox(key="impact_to").value == to_id
    assert any(s.value.startswith(lost) for s in at.subheader)
    # How sure each rule set's wording is travels with the numbers (2号's rows are B: not yet checked).
    lowest = get_policy(to_id).lowest_confidence()
    assert any((f"新标准 {lowest}" if lang == "zh" else f"new rules {lowest}") in c.value for c in at.caption)
    gates, = frames_with(at, "淘汰企业数" if lang == "zh" else "Firms failing")
    criteria = get_policy(to_id).criteria
    leaves = [n for n in iter_nodes(criteria) if not children_of(n) and n is not criteria]
    # One row per criterion of the new rule set, by its name (not the policy file's criterion id).
    assert len(gates) == len(leaves)
    assert set(gates.iloc[:, 0]) == {n.label_zh if lang == "zh" else n.label_en for n in leaves}
    assert len(at.get("plotly_chart")) == 1
    assert len(at.get("download_button")) >= 4  # gates and the review-pass/new-fail list, Excel and CSV


@pytest.mark.parametrize("lang,evaluated", [("zh", "评估企业数"), ("en", "Firms evaluated")])
def test_a_provincial_official_sees_the_province(open_page, lang, evaluated):
    at = open_page("gd_official", lang)
    assert at.selectbox(key=f"impact_scope_{default_pair()[1]}").value == "cn-gd"
    assert metrics(at)[evaluated] == "7"  # G is in Zhejiang
    firms = frames_with(at, "对比" if lang == "zh" else "Comparison")[-1]  # the last: every firm evaluated
    assert len(firms) == 7 and not any(u.startswith("91330100") for u in firms.iloc[:, 0])


def test_every_role_that_sees_policies_sees_the_page():
    for role in ("admin", "manager", "official", "analyst"):
        keys = [p.key for p in pages_for(role)]
        assert ("impact" in keys) == ("policies" in keys), role


def test_an_analyst_gets_no_download(open_page):
    at = open_page("gd_analyst", "zh")
    assert metrics(at)["评估企业数"] == "7"
    assert len(at.get("download_button")) == 0
