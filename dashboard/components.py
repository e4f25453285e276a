"""Pieces every page uses: language, the current principal, labelled tables and downloads."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import polars as pl
import streamlit as st

from dashboard.i18n import LANGUAGES, code_label, column_label, column_labels, t
from registry.access import Principal
from registry.settings import Settings, get_settings

LANG_KEY = "lang"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MISSING = "—"  # how every table shows a missing value


# ---------------------------------------------------------------- language


def current_lang() -> str:
    """zh or en: the switch's value; first time, `?lang=` from the URL, else the configured default."""
    if LANG_KEY not in st.session_state:
        requested = st.query_params.get(LANG_KEY)
        st.session_state[LANG_KEY] = requested if requested in LANGUAGES else get_settings().dashboard.language
    return st.session_state[LANG_KEY]


def tr(key: str, **values: object) -> str:
    return t(key, current_lang(), **values)


def language_switch() -> str:
    """The sidebar switch. The choice is also written to the URL so that a shared link opens in it."""
    current_lang()
    with st.sidebar:
        lang = st.radio(t("app.language", "zh"), list(LANGUAGES), format_func=LANGUAGES.get, key=LANG_KEY,
                        horizontal=True)
    if st.query_params.get(LANG_KEY) != lang:
        st.query_params[LANG_KEY] = lang
    return lang


# ---------------------------------------------------------------- who, when, which database


def current_principal() -> Principal:
    """The signed-in user (dashboard/login.py). app.py's gate signs someone in before any page runs; a page run
    without a session (never the system principal) stops here."""
    from dashboard.login import signed_in_principal

    principal = signed_in_principal()
    if principal is None:
        st.stop()
    return principal


def settings() -> Settings:
    return get_settings()


def today() -> date:
    """Today in the configured time zone (the officials' calendar day, not the server's UTC day)."""
    return datetime.now(ZoneInfo(settings().scheduler.timezone)).date()


# ---------------------------------------------------------------- tables and downloads


def labelled(frame: pl.DataFrame, codes: dict[str, str] | None = None, lang: str | None = None) -> pl.DataFrame:
    """The frame as the user reads it: codes replaced by their names (`codes` maps column → code kind, e.g.
    {"tier": "tier"}), comma-joined tier lists translated, headers in `lang` (default: the current language)."""
    lang = lang or current_lang()
    codes = dict(codes or {})
    if "tiers" in frame.columns:
        codes.setdefault("tiers", "tier")
    exprs = []
    for column, kind in codes.items():
        if column not in frame.columns:
            continue
        if column == "tiers":  # a comma-joined list of tier codes
            values = frame[column].str.split(",").explode().drop_nulls().unique().to_list()
            mapping = {v: code_label(kind, v, lang) for v in values}
            separator = ", " if lang == "en" else "、"
            exprs.append(pl.col(column).str.split(",").list.eval(pl.element().replace(mapping)).list.join(separator))
        else:
            mapping = {v: code_label(kind, v, lang) for v in frame[column].drop_nulls().unique().to_list()}
            exprs.append(pl.col(column).replace(mapping))
    # An empty text cell reads "—", not "None" (not reported is not a value).
    exprs += [pl.col(c).fill_null(MISSING) for c, dtype in frame.schema.items() if dtype == pl.String and c not in codes]
    labelled_frame = frame.with_columns(exprs)
    labelled_frame = labelled_frame.with_columns(
        pl.col(c).fill_null(MISSING) for c in codes if c in frame.columns and labelled_frame.schema[c] == pl.String)
    return labelled_frame.rename(column_labels(frame.columns, lang))


class Table(NamedTuple):
    """A table as the user reads it (dashboard.components.labelled) and how its columns are shown."""

    frame: pl.DataFrame
    column_config: dict[str, Any]


def labelled_table(frame: pl.DataFrame, codes: dict[str, str] | None = None, lang: str | None = None) -> Table:
    """The labelled frame and its column settings: built once and shown on every run (dashboard/sections.py)."""
    lang = lang or current_lang()
    shown = labelled(frame, codes, lang)
    # Dates as dates (Streamlit would otherwise show a midnight time after each one).
    config = {name: st.column_config.DateColumn(name, format="YYYY-MM-DD")
              for name, dtype in shown.schema.items() if dtype == pl.Date}
    # Years as years ("2023"), not as numbers with a thousands separator ("2,023").
    config |= {column_label(name, lang): st.column_config.NumberColumn(column_label(name, lang), format="%d")
               for name, dtype in frame.schema.items()
               if dtype.is_integer() and (name in ("year", "cohort", "year1", "year2") or name.endswith("_year"))}
    return Table(shown, config)


def show_table(shown: Table, **kwargs: Any) -> pl.DataFrame:
    """Show a labelled table (no index); returns what was shown, for the matching download."""
    # A missing number reads "—" like a missing text, not Streamlit's "None".
    kwargs.setdefault("placeholder", MISSING)
    st.dataframe(shown.frame, hide_index=True, column_config={**shown.column_config,
                                                              **kwargs.pop("column_config", {})}, **kwargs)
    return shown.frame


def table(frame: pl.DataFrame, codes: dict[str, str] | None = None, **kwargs: Any) -> pl.DataFrame:
    """Show a labelled table (no index); returns what was shown, for the matching download."""
    return show_table(labelled_table(frame, codes), **kwargs)


def firm_link_expr(uscc_column: str, lang: str) -> pl.Expr:
    """Relative link to the firm page for each code in the column; the page opens in the same language."""
    return pl.lit("firm?uscc=") + pl.col(uscc_column) + pl.lit(f"&lang={lang}")
