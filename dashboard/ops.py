"""What the operations pages share: cached calls into the registry's operations modules (registry.intake,
registry.review, registry.briefing), who may act, the database engine, and local times."""

from __future__ import annotations

import importlib
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl
import streamlit as st
from sqlalchemy import Engine

from dashboard.components import current_principal, data_version, settings
from registry import access
from registry.access import Principal
from registry.db import get_engine


def engine() -> Engine:
    return get_engine(settings().database_url)


def allowed(action: str, principal: Principal | None = None) -> bool:
    """Whether the current principal may do `action` (registry.access ACTIONS, e.g. `data.ingest`)."""
    return access.can(principal or current_principal(), action)


@st.cache_data(show_spinner=False, max_entries=64, ttl=3600)
def _cached(module: str, name: str, version: str, database_url: str, principal: tuple[str, str, str] | None,
            kwargs: tuple[tuple[str, Any], ...]) -> Any:
    del version  # only a cache key: new data is a new entry
    function = getattr(importlib.import_module(module), name)
    args = (Principal(*principal),) if principal is not None else ()
    return function(*args, engine=get_engine(database_url), **dict(kwargs))


def cached(module: str, name: str, *, scoped: bool = True, **kwargs: Any) -> Any:
    """registry.<module>.<name>([principal,] engine=..., **kwargs), cached until the data changes."""
    principal = current_principal()
    key = (principal.username, principal.role, principal.jurisdiction) if scoped else None
    return _cached(f"registry.{module}", name, data_version(), settings().database_url, key,
                   tuple(sorted(kwargs.items())))


def local_times(frame: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    """UTC timestamps (naive from SQLite, aware from PostgreSQL) shown in the configured zone, to the minute."""
    zone = settings().scheduler.timezone
    exprs = []
    for name in columns:
        if name not in frame.columns:
            continue
        column = pl.col(name)
        dtype = frame.schema[name]
        if isinstance(dtype, pl.Datetime) and dtype.time_zone is None:
            column = column.dt.replace_time_zone("UTC")
        exprs.append(column.dt.convert_time_zone(zone).dt.replace_time_zone(None).dt.truncate("1m").alias(name))
    return frame.with_columns(exprs)


def now_utc() -> datetime:
    return datetime.now(ZoneInfo("UTC"))
