"""Every download button of the dashboard goes through `export_button`: the role check (the one rule,
registry.access.can_export), the file built only when the button is pressed, and one audit row per download
(registry.export.record_export).

Built when pressed (Streamlit's deferred download, `data=callable`): the page holds no file, and the click is
handled over the signed-in session's own connection — the random placeholder id is sent to that browser only.
At the click the account is read again: a user disabled, locked or moved to another role or jurisdiction since
the page was drawn gets no file. The bytes are then served from Streamlit's media store under a content hash
until the second script run after the press drops them; that address needs no session — what remains is written
down in docs/access.md, "下载链接与会话", and shown by tests/test_download_session.py.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl
import streamlit as st

from dashboard.components import XLSX_MIME, current_principal, settings, today, tr
from registry import auth
from registry.access import EXPORTS, PermissionDenied, can_export
from registry.audit import record_export
from registry.db import get_engine
from registry.export import to_csv_bytes, to_excel_bytes

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


def bind_downloads_to_sessions() -> None:
    """Only the session that drew a download button can have its file built.

    Streamlit 1.67 checks that a "build this download" request names its own connection's session, but not that
    the placeholder it names was registered by that session: a placeholder id that leaked could be redeemed from
    any other connection, even one nobody signed in on. This wraps Streamlit's handler with that comparison (the
    media manager records the registering session with each placeholder). Called once by app.py; a Streamlit
    upgrade that changes these internals fails tests/test_download_session.py rather than silently reopening it.
    """
    try:
        from streamlit.proto.ForwardMsg_pb2 import BackendOperationResponse
        from streamlit.runtime.backend_operation_handler import DeferredFileHandler
    except ImportError:  # a Streamlit without this handler has no deferred builds over the session to bind
        return

    if getattr(DeferredFileHandler, "_zjtx_session_bound", False):
        return
    unchecked = DeferredFileHandler.handle

    async def handle(self, request, session_id: str) -> BackendOperationResponse:
        # Fails closed: without the registry of placeholders nothing is built.
        entry = getattr(self._get_media_file_mgr(), "_deferred_callables", {}).get(request.deferred_file.file_id)
        if entry is None or entry.get("session_id") != session_id:
            return BackendOperationResponse(request_id=request.request_id,
                                            error_msg="Failed to generate file for download")
        return await unchecked(self, request, session_id)

    DeferredFileHandler.handle = handle
    DeferredFileHandler._zjtx_session_bound = True


def download_buttons(frame: pl.DataFrame | Callable[[], pl.DataFrame], basename: str, key: str,
                     sheet_name: str | None = None, what: str = "firms") -> None:
    """Excel and CSV buttons for a table, for the roles that may export a `what` (registry.access.EXPORTS:
    "aggregate" for counts that name no firm, "firms" for anything that does). Built only when pressed, audited
    (dashboard/exports.py). A callable frame is only computed then too (big downloads)."""
    def frame_now() -> pl.DataFrame:
        return frame() if callable(frame) else frame

    def built(convert: Callable[[pl.DataFrame], bytes]) -> Callable[[], tuple[bytes, int]]:
        def build() -> tuple[bytes, int]:
            data = frame_now()
            return convert(data), data.height
        return build

    stamp = today().strftime("%Y%m%d")
    with st.container(horizontal=True, gap="small"):
        export_button(tr("download.excel"), built(lambda f: to_excel_bytes(f, sheet_name or basename)), what=what,
                      file_name=f"{basename}_{stamp}.xlsx", mime=XLSX_MIME, key=f"{key}_xlsx", icon=":material/table:")
        export_button(tr("download.csv"), built(to_csv_bytes), what=what, file_name=f"{basename}_{stamp}.csv",
                      mime="text/csv", key=f"{key}_csv", icon=":material/download:")
