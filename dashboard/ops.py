"""What the operations pages share: who may act, and local times."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import polars as pl

from dashboard.components import current_principal, settings
from registry import access
from registry.access import Principal


def allowed(action: str, principal: Principal | None = None) -> bool:
    """Whether the current principal may do `action` (registry.access ACTIONS, e.g. `data.ingest`)."""
    return access.can(principal or current_principal(), action)


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
