"""Text from files and users is never Markdown or HTML on any page (issue 16): firm names, products, ownership,
batches, document numbers, flag evidence, review reasons and deciders, event details, file names, rejection
reasons, target sources, audit reasons and usernames all carry Markdown and HTML here, and every page — as an
admin, who sees every page — draws them as literal text.

Checked on what Streamlit renders as Markdown: every element's `body` (st.markdown, captions, headings, alerts)
and every `label` (widgets, metrics, expanders, tabs). The payload points at 127.0.0.1:9; escaped text
(dashboard/safe_text.py) writes ":" and "." as character references, so the address only appears in a body
when the text went through unescaped. Tables and selectbox options are plain text by nature and not checked.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from dashboard_login import log_in, seed_user
from dashboard_seed import seed_registry
from ops_seed import seed_operations
from streamlit.testing.v1 import AppTest

from dashboard.i18n import t
from dashboard.pages import pages_for
from registry.audit import record
from registry.db import make_engine, upgrade
from registry.models import (
    AuditLog,
    Enterprise,
    Event,
    Flag,
    IngestionRun,
    Recognition,
    RegionalTarget,
    RejectedRow,
    ReviewDecision,
    User,
)
from registry.settings import get_settings

APP = Path(__file__).resolve().parents[1] / "dashboard" / "app.py"
PAYLOAD = "![x](http://127.0.0.1:9/x.png) <img src=http://127.0.0.1:9/y.png> [link](http://127.0.0.1:9/) **bold**"
LIVE = ("127.0.0.1:9", "<img", "**bold**", "](http")
PLAIN = {"json", "code", "text"}  # elements that show their body as text, never as Markdown


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile-text")
    url = f"sqlite:///{folder / 'zjtx.db'}"
    engine = make_engine(url)
    upgrade(engine)
    info = seed_registry(engine, firms=40, seed=5)
    ops = seed_operations(engine, info.today)
    seed_user(engine, "admin", "admin", "cn")
    tainted = sa.literal(" " + PAYLOAD)
    with engine.begin() as conn:
        e, r = Enterprise.__table__, Recognition.__table__
        conn.execute(sa.update(e).values(name=e.c.name + tainted, main_product=PAYLOAD, ownership=PAYLOAD))
        conn.execute(sa.update(r).values(batch=sa.func.coalesce(r.c.batch, "") + tainted, document_no=PAYLOAD))
        conn.execute(sa.update(Flag.__table__).values(evidence={"reason": PAYLOAD, "note": PAYLOAD}))
        conn.execute(sa.update(Event.__table__).values(detail=PAYLOAD))
        conn.execute(sa.update(IngestionRun.__table__).values(file_name=PAYLOAD + ".csv", error=PAYLOAD))
        conn.execute(sa.update(RejectedRow.__table__).values(reason=PAYLOAD))
        conn.execute(sa.update(RegionalTarget.__table__).values(source=PAYLOAD))
        conn.execute(sa.update(User.__table__).values(display_name=PAYLOAD))
        conn.execute(sa.insert(ReviewDecision.__table__).values(
            recognition_id=ops.review_recognition_id,
            enterprise_id=sa.select(r.c.enterprise_id).where(r.c.id == ops.review_recognition_id).scalar_subquery(),
            decision="watch", reason=PAYLOAD, decided_by=PAYLOAD))
        record(conn, PAYLOAD, "review.decide", "recognition", PAYLOAD, {"x": PAYLOAD}, {"y": PAYLOAD}, PAYLOAD)
    config = folder / "config.toml"
    config.write_text(f'[database]\nurl = "{url}"\n[demo]\nfirms = 0\n', encoding="utf-8")
    assert engine.connect().execute(sa.select(sa.func.count()).select_from(AuditLog.__table__)).scalar_one() > 1
    yield engine, info, ops, config
    engine.dispose()


def markdown_texts(at) -> list[tuple[str, str]]:
    """(element type, text) for everything Streamlit renders as Markdown."""
    found: list[tuple[str, str]] = []

    def walk(node) -> None:
        proto = getattr(node, "proto", None)
        if proto is not None and getattr(node, "type", "") not in PLAIN:
            for field in ("body", "label"):
                value = getattr(proto, field, None)
                if isinstance(value, str) and value:
                    found.append((getattr(node, "type", "?"), value))
        for child in (getattr(node, "children", None) or {}).values():
            walk(child)

    walk(at._tree)
    return found


def test_no_page_renders_names_as_markdown(hostile, monkeypatch):
    engine, info, ops, config = hostile
    monkeypatch.setenv("ZJTX_CONFIG", str(config))
    monkeypatch.delenv("ZJTX_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    visited: list[str] = []
    shown_payload = 0

    def check(at, where: str) -> None:
        nonlocal shown_payload
        assert not at.exception, (where, [e.value for e in at.exception])
        texts = markdown_texts(at)
        live = [(kind, text) for kind, text in texts if any(m in text for m in LIVE)]
        assert not live, f"{where}: live Markdown/HTML from data: {live[:3]}"
        # The escaped payload is there (so the check saw the data, not an empty page).
        shown_payload += sum("127&#46;0&#46;0&#46;1" in text for _, text in texts)
        visited.append(where)

    try:
        at = AppTest.from_file(str(APP), default_timeout=120)
        log_in(at, engine, "admin").run()
        for spec in pages_for("admin"):
            at.switch_page(spec.script).run()
            check(at, spec.key)
            if spec.key == "intake":
                at.session_state["intake_tab"] = t("intake.runs", "zh")
                at.run()
                at.selectbox(key="intake_run").set_value(ops.bad_run_id).run()
                check(at, "intake/runs")
            if spec.key == "review":  # the first item is open: its name, code, rule and source
                assert at.selectbox(key="review_pick").value is not None
        firm = AppTest.from_file(str(APP), default_timeout=120)
        log_in(firm, engine, "admin")
        for uscc in (info.featured_uscc, ops.review_uscc, PAYLOAD):  # the last: a hostile address
            firm.query_params["uscc"] = uscc
            firm.run()
            firm.switch_page("views/firm.py").run()
            check(firm, f"firm/{uscc[:8]}")
    finally:
        get_settings.cache_clear()
    assert {"overview", "registry", "review", "intake/runs", "audit"} <= set(visited)
    assert shown_payload >= 5, "the pages showed the hostile text (escaped)"
