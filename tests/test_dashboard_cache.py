"""The dashboard's one cache (dashboard/cache.py), on the real engine the app uses: a page run asks the database for
its data version once, however many cached reads the page makes, and new data shows on the next run.

The data-version question is recognised in the SQL the engine executes (a SQLAlchemy event listener, no mocks):
it is the one statement that reads the highest review-decision id.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from dashboard_login import log_in, seed_user
from dashboard_seed import seed_registry
from streamlit.testing.v1 import AppTest

from dashboard.i18n import code_label
from dashboard.pages import pages_for
from registry.db import get_engine, make_engine, upgrade
from registry.settings import get_settings

APP = Path(__file__).resolve().parents[1] / "dashboard" / "app.py"
VALID_BY_TIER = """
    SELECT tier, COUNT(DISTINCT enterprise_id) FROM recognition
    WHERE status = 'active' AND recognized_on <= :d AND (valid_until IS NULL OR valid_until >= :d)
    GROUP BY tier"""


class Statements:
    """Every statement the engine executes while listening: how many asked for the data version, and in all."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine, self.versions, self.total = engine, 0, 0

    def __enter__(self) -> Statements:
        sa.event.listen(self.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *_: object) -> None:
        sa.event.remove(self.engine, "before_cursor_execute", self._seen)

    def _seen(self, conn, cursor, statement: str, parameters, context, executemany) -> None:
        self.total += 1
        self.versions += "max(review_decision.id)" in statement


@pytest.fixture
def app(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'zjtx.db'}"
    setup = make_engine(url)
    upgrade(setup)
    seed_registry(setup, firms=40, seed=5)
    seed_user(setup, "admin", "admin", "cn")
    setup.dispose()
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "{url}"\n[demo]\nfirms = 0\n', encoding="utf-8")
    monkeypatch.setenv("ZJTX_CONFIG", str(config))
    monkeypatch.delenv("ZJTX_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    engine = get_engine(url)  # the very engine the app's pages use (registry.db keeps one per URL)
    yield log_in(AppTest.from_file(str(APP), default_timeout=120), engine), engine
    get_settings.cache_clear()


# Pages whose first run computes the 复核 risk or the rule impact: those functions also ask once, to check the
# result the flags job stored against the data as it is now (registry.result_store).
STORED_RESULT_PAGES = {"overview", "review", "impact"}


def test_every_page_run_asks_for_the_data_version_once(app):
    at, engine = app
    at.run()
    for spec in pages_for("admin"):
        for attempt in ("first run", "rerun from the cache"):
            with Statements(engine) as seen:
                at.switch_page(spec.script).run()
            assert not at.exception, (spec.key, [e.value for e in at.exception])
            allowed = 2 if attempt == "first run" and spec.key in STORED_RESULT_PAGES else 1
            assert 1 <= seen.versions <= allowed, (spec.key, attempt, seen.versions)


def test_a_rerun_reads_from_the_cache_and_new_data_shows_on_the_next_run(app):
    at, engine = app
    with Statements(engine) as first:
        at.run()  # the overview, computed
    as_of = at.date_input(key="overview_as_of").value
    with engine.connect() as conn:
        before = dict(conn.execute(sa.text(VALID_BY_TIER), {"d": as_of}).all()).get("key_little_giant", 0)
    shown = {m.label: m.value for m in at.metric}
    assert shown["重点“小巨人”"] == f"{before:,}"

    assert tier_chart(at)["重点“小巨人”"] == before

    with Statements(engine) as again:
        at.run()  # nothing changed: the same figures, the page's reads served from the cache
    assert {m.label: m.value for m in at.metric} == shown
    assert again.versions == 1 and again.total < first.total, (first.total, again.total)
    assert tier_chart(at)["重点“小巨人”"] == before

    with engine.begin() as conn:  # a new recognition arrives while the dashboard is open
        conn.execute(sa.text("""INSERT INTO recognition (enterprise_id, tier, jurisdiction, recognized_on, valid_until,
                                status, created_at) VALUES (1, 'key_little_giant', 'cn', :d, NULL, 'active', :d)"""),
                     {"d": as_of})
    with Statements(engine) as fresh:
        at.run()
    # Once for the page; once more by the 复核 risk, which checks the stored result against the new data.
    assert 1 <= fresh.versions <= 2
    assert {m.label: m.value for m in at.metric}["重点“小巨人”"] == f"{before + 1:,}"
    # The chart is a finished figure kept per data version (dashboard.cache.cached_view): new data, a new figure.
    assert tier_chart(at)["重点“小巨人”"] == before + 1


def tier_chart(at: AppTest) -> dict[str, int]:
    """The overview's firms-per-tier chart as it was sent: bar label → height."""
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    bar = spec["data"][0]
    return dict(zip(bar["x"], bar["y"], strict=True))


def test_a_job_run_shows_in_the_sidebar_and_leaves_the_page_warm(app):
    """The inbox job records a run every 5 minutes, most with nothing to load: the sidebar's freshness note shows
    it on the next run, and the page's own reads stay in the cache (keyed by the data, not by job runs)."""
    from jobs.runs import run_recorded

    at, engine = app
    with Statements(engine) as first:
        at.run()
    with Statements(engine) as warm:
        at.run()
    ingest = code_label("job", "ingest", "zh")
    assert not any(ingest in c.value for c in at.sidebar.caption)

    run_recorded(engine, "ingest", lambda: {"files": 0})
    with Statements(engine) as after_job:
        at.run()
    assert not at.exception
    assert any("最近任务" in c.value and ingest in c.value for c in at.sidebar.caption)
    # Only the freshness note is read again: the overview's figures come from the cache.
    assert after_job.total - warm.total <= 3 < first.total - warm.total, (first.total, warm.total, after_job.total)
