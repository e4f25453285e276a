"""Every page, both languages, two roles (an admin and a provincial official), runs without an exception. (The text
catalogue itself — both languages, no clashing headers, no missing or unused key — is tests/test_dashboard_i18n.py.)
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from dashboard_login import log_in, seed_user
from dashboard_seed import seed_registry
from streamlit.testing.v1 import AppTest

from dashboard.i18n import LABELS, column_label
from dashboard.pages import pages_for
from registry.db import make_engine, upgrade
from registry.models import TIERS
from registry.settings import get_settings

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "dashboard" / "app.py"


def _registry(folder: Path, fill) -> tuple[sa.Engine, Path]:
    """A migrated SQLite registry filled by `fill(engine)`, an admin and a Guangdong official, and its config file."""
    url = f"sqlite:///{folder / 'zjtx.db'}"
    engine = make_engine(url)
    upgrade(engine)
    fill(engine)
    seed_user(engine, "admin", "admin", "cn")
    seed_user(engine, "gd_official", "official", "cn-gd")
    config = folder / "config.toml"
    config.write_text(f'[database]\nurl = "{url}"\n[demo]\nfirms = 0\n', encoding="utf-8")
    return engine, config


def _app(engine: sa.Engine, config: Path, monkeypatch, username: str, lang: str) -> AppTest:
    """The dashboard on that registry, signed in as `username`, in `lang` (settings re-read from its config)."""
    monkeypatch.setenv("ZJTX_CONFIG", str(config))
    monkeypatch.delenv("ZJTX_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.query_params["lang"] = lang
    log_in(at, engine, username).run()
    assert at.radio(key="lang").value == lang
    return at


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    engine, config = _registry(tmp_path_factory.mktemp("every_page"),
                               lambda engine: seed_registry(engine, firms=150, seed=23))
    yield engine, config
    engine.dispose()


# Tier codes as the data carries them (national and regional, e.g. bj_little_giant): tables show their names.
RAW_TIER = re.compile(r"(?<![A-Za-z0-9/.-])[a-z]*_?(" + "|".join(TIERS) + r")\b")
SNAKE_CASE = re.compile(r"^[a-z]+(_[a-z0-9]+)+$")


def table_problems(frame, lang: str) -> list[str]:
    """What an official would read as broken in a table: "None" for a missing value, a raw tier code in a cell, a
    column header left as its internal name (name_en, parent_id)."""
    data = frame.value
    found = []
    if data.isna().any().any() and frame.proto.placeholder != "—":
        found.append("missing values shown as None")
    for column in data.columns:
        if SNAKE_CASE.match(str(column)):
            found.append(f"header {column!r}")
        if data[column].dtype == object:
            codes = {m.group(0) for v in data[column].dropna() if isinstance(v, str) for m in RAW_TIER.finditer(v)}
            found += [f"{column}: {code!r}" for code in sorted(codes)]
    return found


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("username,role", [("admin", "admin"), ("gd_official", "official")])
def test_every_page_runs_in_both_languages(seeded, monkeypatch, username, role, lang):
    engine, config = seeded
    try:
        at = _app(engine, config, monkeypatch, username, lang)
        visited = []
        problems = {}
        tables = 0
        for spec in pages_for(role):
            at.switch_page(spec.script).run()
            assert not at.exception, (username, lang, spec.key, [e.value for e in at.exception])
            assert not at.error, (username, lang, spec.key, [e.value for e in at.error])
            visited.append(spec.key)
            tables += len(at.dataframe)
            found = [p for frame in at.dataframe for p in table_problems(frame, lang)]
            if found:
                problems[spec.key] = found
        assert visited == [p.key for p in pages_for(role)]
        assert tables > 10 and problems == {}
    finally:
        get_settings.cache_clear()


def test_an_empty_review_queue_says_why_and_how_to_refresh(tmp_path, monkeypatch):
    """Before the first flags run the queue is empty because nothing was computed, not because nothing is due."""
    from jobs.runs import refresh_flags

    url = f"sqlite:///{tmp_path / 'zjtx.db'}"
    engine = make_engine(url)
    upgrade(engine)
    seed_user(engine, "admin", "admin", "cn")
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "{url}"\n[demo]\nfirms = 0\n', encoding="utf-8")
    monkeypatch.setenv("ZJTX_CONFIG", str(config))
    monkeypatch.delenv("ZJTX_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    try:
        at = AppTest.from_file(str(APP), default_timeout=120)
        log_in(at, engine, "admin").run()
        at.switch_page("views/review.py").run()
        assert not at.exception
        empty = [i.value for i in at.info if i.value == LABELS["review.empty_never"][0]]
        assert empty and "zjtx run-job flags" in empty[0]

        assert refresh_flags(engine, get_settings()).status == "success"
        at.run()
        assert [i.value for i in at.info if i.value.startswith("最近一次提示计算（")]
        assert not [i.value for i in at.info if i.value == LABELS["review.empty_never"][0]]
    finally:
        get_settings.cache_clear()
        engine.dispose()


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The registry `zjtx init --demo` builds (what a new user opens first), small: unlike the seeded registry it has
    recognitions on course to fail their 复核, so the review page draws its 复核-risk table."""
    from registry.demo import build_demo

    engine, config = _registry(tmp_path_factory.mktemp("every_page_demo"),
                               lambda engine: build_demo(engine, firms=400, seed=2021, progress=False))
    yield engine, config
    engine.dispose()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_page_runs_on_the_demo_registry(demo, monkeypatch, lang):
    engine, config = demo
    try:
        at = _app(engine, config, monkeypatch, "admin", lang)
        for spec in pages_for("admin"):
            at.switch_page(spec.script).run()
            assert not at.exception, (lang, spec.key, [e.value for e in at.exception])
            problems = [p for frame in at.dataframe for p in table_problems(frame, lang)]
            assert problems == [], (lang, spec.key, problems)
            if spec.key == "monitoring":
                # December: this year's reports are monthly so far, so the page opens on the last full year, and
                # that year's demo figures are there (an empty first view would read as "no data").
                opened = at.selectbox(key="monitor_period_year_period").value
                assert opened == str(datetime.now(ZoneInfo(get_settings().scheduler.timezone)).year - 1)
                with engine.connect() as conn:
                    annual = conn.execute(sa.text("SELECT COUNT(*) FROM report WHERE period = :p"),
                                          {"p": opened}).scalar_one()
                assert annual > 0
            if spec.key == "review":
                # The 复核-risk table was drawn (its headers must not collide: "Name" twice crashed it in English).
                assert any(frame.value.shape[0] > 0 and column_label("criterion_label", lang) in frame.value.columns
                           for frame in at.dataframe)
    finally:
        get_settings.cache_clear()

