"""The dashboard's entry point (`zjtx serve` / `zjtx up` run it with Streamlit).

It sets up the page, the language switch and the data-freshness note, and builds the navigation from the one page
registry (dashboard/pages.py), filtered by the current principal's role.
"""

from __future__ import annotations

# Plotly finds pandas in sys.modules without importing it: while one session's first run is still importing pandas,
# another session's chart would get the half-initialised module ("partially initialized module 'pandas' has no
# attribute 'Series'"). Imported here, through the import lock, every run waits until pandas is complete.
import pandas  # noqa: F401
import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from dashboard import cache, components, exports, freshness, login
from dashboard.i18n import t
from dashboard.pages import PAGES, PageSpec, pages_for
from registry.db import DatabaseError

# An emoji favicon is drawn in the browser (inline SVG); a ":material/…" one is fetched from fonts.gstatic.com,
# which an intranet cannot reach.
st.set_page_config(page_title="专精特新 zjtx", page_icon="🏭", layout="wide")
# Exports only through the app's download buttons (role-checked, formula-safe); `zjtx serve` sets it too.
st.set_option("client.disableDataExport", True)
# A download's file is built only for the session that drew its button (dashboard/exports.py).
exports.bind_downloads_to_sessions()

lang = components.language_switch()


def nav_pages(specs: list[PageSpec] | tuple[PageSpec, ...]) -> list:
    return [st.Page(spec.path, title=t(f"page.{spec.key}", lang), icon=spec.icon, default=spec.default,
                    url_path=None if spec.default else spec.key) for spec in specs]


try:
    # Nobody gets past this line without signing in: the sign-in page is shown and the run stops. Meanwhile every
    # page is registered, hidden and never run, only so that the address the user came with (/firm?uscc=...)
    # is still there after signing in; the pages actually opened are the role's, below.
    principal = login.require_login(lang, keep_address=lambda: st.navigation(nav_pages(PAGES), position="hidden"))
except (SQLAlchemyError, DatabaseError) as exc:
    st.error(f"{t('app.db_unavailable', lang)} — {str(exc).splitlines()[0]}")
    st.stop()

navigation = st.navigation(nav_pages(pages_for(principal.role)))

try:
    cache.note_data_version()  # every cached read of this run is keyed by it (dashboard/cache.py)
    freshness.freshness_note()
except (SQLAlchemyError, DatabaseError) as exc:
    # A database that is missing or not migrated: one clear line instead of a traceback on every page.
    st.error(f"{t('app.db_unavailable', lang)} — {str(exc).splitlines()[0]}")
    st.stop()

login.session_controls(principal, lang)

navigation.run()
