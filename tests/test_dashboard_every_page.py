"""Every page, both languages, two roles (an admin and a provincial official), runs without an exception; the label
catalogue has no two column headers with the same text (a table with both would crash: polars refuses duplicate
column names) and no key the dashboard code asks for is missing from it.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import pytest
from dashboard_login import log_in, seed_user
from dashboard_seed import seed_registry
from streamlit.testing.v1 import AppTest

from dashboard.i18n import COLUMNS, LABELS
from dashboard.i18n_access import ACCESS_LABELS
from dashboard.pages import pages_for
from registry.db import make_engine, upgrade
from registry.models import TIERS
from registry.settings import get_settings

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "dashboard" / "app.py"

# Column keys that name the same thing and may therefore share a header (no table shows two of one group).
# A new pair with one text must be either renamed or, after checking that no table carries both, listed here.
INTENDED_SYNONYMS: list[set[str]] = [
    {"status", "state", "report_status"}, {"region", "region_name", "area"}, {"detail", "link"},
    {"criterion", "condition"}, {"points", "score"}, {"file_name", "file"}, {"class", "impact_role"},
    {"depth", "level"}, {"metric", "indicator"}, {"name", "label"}, {"kind", "flag"},
    {"due_on", "report_due_on"}, {"target_count", "target_value"}, {"actual", "actual_value"},
    {"source", "obligation_source"}, {"evidence", "evidence_text"},
]


def _same_group(keys: list[str]) -> bool:
    return any(set(keys) <= group for group in INTENDED_SYNONYMS)


@pytest.mark.parametrize("language", [0, 1], ids=["zh", "en"])
def test_no_two_column_headers_read_the_same(language):
    by_text: dict[str, list[str]] = defaultdict(list)
    for key, pair in COLUMNS.items():
        by_text[pair[language]].append(key)
    clashes = {text: keys for text, keys in by_text.items() if len(keys) > 1 and not _same_group(keys)}
    assert not clashes, clashes


def test_every_key_the_dashboard_asks_for_is_in_the_catalogue():
    """Literal keys passed to t()/tr()/ta() in dashboard code (a missing key would show the raw key to the user)."""
    call = re.compile(r"\b(t|tr|ta)\(\s*[\"']([a-z_]+\.[a-z0-9_.]+)[\"']")
    known = set(LABELS) | set(ACCESS_LABELS)
    asked = {(m.group(2), path.relative_to(ROOT).as_posix())
             for path in (ROOT / "dashboard").rglob("*.py") for m in call.finditer(path.read_text(encoding="utf-8"))}
    assert len(asked) > 100, "the pattern no longer finds the calls"
    missing = sorted((key, where) for key, where in asked if key not in known)
    assert not missing, missing


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("every_page")
    url = f"sqlite:///{folder / 'zjtx.db'}"
    engine = make_engine(url)
    upgrade(engine)
    seed_registry(engine, firms=150, seed=23)
    seed_user(engine, "admin", "admin", "cn")
    seed_user(engine, "gd_official", "official", "cn-gd")
    config = folder / "config.toml"
    config.write_text(f'[database]\nurl = "{url}"\n[demo]\nfirms = 0\n', encoding="utf-8")
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
    monkeypatch.setenv("ZJTX_CONFIG", str(config))
    monkeypatch.delenv("ZJTX_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    try:
        at = AppTest.from_file(str(APP), default_timeout=120)
        at.query_params["lang"] = lang
        log_in(at, engine, username).run()
        assert at.radio(key="lang").value == lang
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
