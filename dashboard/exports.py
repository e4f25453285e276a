"""Every download button of the dashboard goes through `export_button`: the role check (the one rule,
registry.access.can_export), the file built only when the button is pressed, and one audit row per download
(registry.export.record_export).

Built when pressed (Streamlit's deferred download, `data=callable`): the page holds no file, and the click is
handled over the signed-in session's own connection — the random placeholder id is sent to that browser only.
At the click the account is read again: a user disabled, locked or moved to another role or jurisdiction since
the page was drawn gets no file. The bytes are then served once from Streamlit's media store under an unguessable
content hash until the next script run drops them (docs/access.md, "导出 Exports").
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from dashboard.components import current_principal, settings
from registry import auth
from registry.access import EXPORTS, PermissionDenied, can_export
from registry.db import get_engine
from registry.export import record_export

# A download's content and how many rows it holds (None when "rows" means nothing, e.g. a PDF).
Built = tuple[bytes, int | None]


def may_export(what: str) -> bool:
    return can_export(current_principal(), what)


def export_button(label: str, build: Callable[[], Built], *, what: str, file_name: str, mime: str, key: str,
                  icon: str | None = None, container=None) -> bool:
    """A download button for a `what` (registry.access.EXPORTS); nothing at all for a role that may not export
    it. Returns whether the button was drawn."""
    principal = current_principal()
    if not can_export(principal, what):
        return False
    database_url = settings().database_url

    def deliver() -> bytes:
        engine = get_engine(database_url)
        now = auth.current_principal(engine, principal.username)
        if now is None or now != principal or not can_export(now, what):
            raise PermissionDenied(f"权限不足：不能导出{EXPORTS[what][1]} / permission denied: may not export "
                                   f"{EXPORTS[what][2]}")
        data, rows = build()
        record_export(engine, principal, what, file_name, rows)
        return data

    (container or st).download_button(label, deliver, file_name=file_name, mime=mime, key=key, icon=icon,
                                      on_click="ignore")
    return True
