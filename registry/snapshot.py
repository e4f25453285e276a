"""Counts of recognitions by jurisdiction × tier × status on a date, stored daily by the snapshot job.

`counts_as_of(engine, on)` reconstructs the counts for any past date from the recognitions alone (dates,
renewals, dated revocations), so the stored daily snapshot and a later reconstruction agree as long as the
data about that date did not change. The job stores exactly what this function returns.

Per chain (firm, tier, jurisdiction) the recognition live on the date counts once, with status:
`revoked` (or `expired` when an official closed it so) on or before the date (`ended_on`; an undated
closure counts from the start), `expired` when its valid_until (given or derived from the jurisdiction's rule) has passed with no
renewal, else `active`. Withdrawn rows never happened.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlalchemy import Engine

from registry.lifecycle import LifecycleResolver, with_rules
from registry.models import Recognition, Snapshot, table_of
from registry.policy import lifecycle_for
from registry.settings import Settings

SNAPSHOT = table_of(Snapshot)
COUNT_SCHEMA = {"jurisdiction": pl.String, "tier": pl.String, "status": pl.String, "count": pl.Int64}
_RECOGNITION_COLUMNS = {
    "enterprise_id": pl.Int64, "tier": pl.String, "jurisdiction": pl.String, "recognized_on": pl.Date,
    "valid_until": pl.Date, "status": pl.String, "ended_on": pl.Date, "id": pl.Int64,
}


def recognition_counts(recognitions: pl.DataFrame, on: date,
                       resolver: LifecycleResolver = lifecycle_for) -> pl.DataFrame:
    """Pure: jurisdiction, tier, status, count from a frame of recognitions (enterprise_id or uscc as firm)."""
    firm = "uscc" if "uscc" in recognitions.columns else "enterprise_id"
    live = (
        recognitions
        .filter(pl.col("recognized_on") <= on, pl.col("status").fill_null("active") != "withdrawn")
        .sort("recognized_on", "id")
        .group_by(firm, "tier", "jurisdiction", maintain_order=True).last()
    )
    if live.is_empty():
        return pl.DataFrame(schema=COUNT_SCHEMA)
    live, _ = with_rules(live, resolver)
    ended = pl.col("status").is_in(["revoked", "expired"]) & (pl.col("ended_on").is_null() | (pl.col("ended_on") <= on))
    status = pl.when(ended).then(pl.col("status")) \
        .when(pl.col("valid_until") < on).then(pl.lit("expired")) \
        .otherwise(pl.lit("active"))
    return (live.with_columns(status=status)
            .group_by("jurisdiction", "tier", "status").agg(count=pl.len().cast(pl.Int64))
            .sort("jurisdiction", "tier", "status")
            .select(list(COUNT_SCHEMA)))


def _read_recognitions(engine: Engine) -> pl.DataFrame:
    t = table_of(Recognition).c
    with engine.connect() as conn:
        rows = conn.execute(sa.select(*(getattr(t, c) for c in _RECOGNITION_COLUMNS))).all()
    return pl.DataFrame(rows, schema=_RECOGNITION_COLUMNS, orient="row")


def counts_as_of(engine: Engine, on: date, resolver: LifecycleResolver = lifecycle_for) -> pl.DataFrame:
    """jurisdiction, tier, status, count on `on`, reconstructed from the recognitions in the database."""
    return recognition_counts(_read_recognitions(engine), on, resolver)


def stored_snapshot(engine: Engine, on: date) -> pl.DataFrame:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(SNAPSHOT.c.jurisdiction, SNAPSHOT.c.tier, SNAPSHOT.c.status, SNAPSHOT.c.count)
                            .where(SNAPSHOT.c.taken_on == on)).all()
    return pl.DataFrame(rows, schema=COUNT_SCHEMA, orient="row").sort("jurisdiction", "tier", "status")


def take_snapshot(engine: Engine, on: date, settings: Settings | None = None,
                  resolver: LifecycleResolver = lifecycle_for) -> dict[str, Any]:
    """Store the counts for `on` (replacing that day's rows: running twice a day is harmless)."""
    counts = counts_as_of(engine, on, resolver)
    with engine.begin() as conn:
        conn.execute(sa.delete(SNAPSHOT).where(SNAPSHOT.c.taken_on == on))
        if not counts.is_empty():
            conn.execute(sa.insert(SNAPSHOT), [{"taken_on": on, **r} for r in counts.iter_rows(named=True)])
    return {"taken_on": on.isoformat(), "rows": len(counts), "recognitions": int(counts["count"].sum() or 0)}
