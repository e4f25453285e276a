"""The flags job: recompute the lifecycle flags as of a date and store them idempotently.

A flag that still holds stays open (same `key`, evidence refreshed); a new one opens on the date; an open one
that no longer holds is resolved with the date. Running it twice on one day changes nothing the second time.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlalchemy import Engine

from registry.audit import ACTOR_SCHEDULER, record
from registry.lifecycle import FlagWindows, LifecycleResolver, compute_flags
from registry.models import Enterprise, Flag, table_of
from registry.policy import bundle_cache, lifecycle_for
from registry.policy.bundle import load_bundle
from registry.policy.indicators import with_annual_figures
from registry.review import watched_flag_keys
from registry.settings import Settings

FLAG = table_of(Flag)
_CHUNK = 2000


class ConcurrentFlagsRun(RuntimeError):
    """Another process changed the flags while this run was storing them; nothing of this run was stored."""


def _written_meanwhile(engine: Engine, exc: sa.exc.DBAPIError) -> bool:
    """The error says another writer got there first: on PostgreSQL the one-open-flag-per-key index refused a
    flag it had just opened; on SQLite this run's read snapshot went stale before its first write."""
    text = str(exc)
    if isinstance(exc, sa.exc.IntegrityError):
        return "uq_flag_open_key" in text or "flag.key" in text
    return engine.dialect.name == "sqlite" and "database is locked" in text


def store_flags(engine: Engine, as_of: date, settings: Settings,
                resolver: LifecycleResolver = lifecycle_for, actor: str = ACTOR_SCHEDULER) -> dict[str, Any]:
    """Returns counts: computed, opened, kept, updated, resolved. The recomputation is one audit row by `actor`,
    in the same transaction."""
    # This whole-registry read, and the annual figures computed from it, become the columnar copy that later
    # whole reads take on SQLite (registry/policy/bundle_cache.py).
    bundle = with_annual_figures(load_bundle(engine, refresh_copy=True))
    if bundle.copy_version is not None and bundle.annual is not None:
        bundle_cache.add_annual(engine, bundle.copy_version, bundle.annual)
    flags = compute_flags(bundle, as_of, FlagWindows.from_settings(settings.lifecycle), resolver)
    try:
        with engine.begin() as conn:
            counts = _store(conn, flags, as_of, actor)
    except (sa.exc.IntegrityError, sa.exc.OperationalError) as exc:
        if not _written_meanwhile(engine, exc):
            raise
        # The transaction rolled back: nothing of this run is stored; the next run starts from the other's.
        raise ConcurrentFlagsRun("另一进程同时写入了提示，本次未保存，请重新运行 / another process wrote flags at the "
                                 "same time; nothing of this run was stored — run it again") from exc
    return counts


def _store(conn: sa.Connection, flags: pl.DataFrame, as_of: date, actor: str) -> dict[str, Any]:
    """Diff the computed flags against the open ones and write the difference, in the caller's transaction."""
    e = table_of(Enterprise)
    firm_ids = pl.DataFrame(conn.execute(sa.select(e.c.uscc, e.c.id)).all(),
                            schema={"uscc": pl.String, "enterprise_id": pl.Int64}, orient="row")
    flags = flags.join(firm_ids, on="uscc", how="inner")
    # A flag a manager closed with "keep under watch" (registry.review) is not reopened.
    flags = flags.filter(~pl.col("key").is_in(list(watched_flag_keys(conn))))
    open_rows = {r.key: r for r in conn.execute(
        sa.select(FLAG.c.id, FLAG.c.key, FLAG.c.severity, FLAG.c.due_on, FLAG.c.evidence)
        .where(FLAG.c.resolved_on.is_(None)))}
    wanted = set(flags["key"].to_list())

    new_rows, changed = [], []
    for f in flags.iter_rows(named=True):
        evidence = json.loads(f["evidence"])
        existing = open_rows.get(f["key"])
        if existing is None:
            new_rows.append({
                "enterprise_id": f["enterprise_id"], "recognition_id": f["recognition_id"], "tier": f["tier"],
                "jurisdiction": f["jurisdiction"], "kind": f["flag"], "severity": f["severity"],
                "due_on": f["due_on"], "key": f["key"], "evidence": evidence, "opened_on": as_of,
            })
        elif (existing.severity, existing.due_on, existing.evidence) != (f["severity"], f["due_on"], evidence):
            changed.append({"fid": existing.id, "sev": f["severity"], "due": f["due_on"], "ev": evidence})
    for i in range(0, len(new_rows), _CHUNK):
        conn.execute(sa.insert(FLAG), new_rows[i:i + _CHUNK])
    if changed:
        conn.execute(sa.update(FLAG).where(FLAG.c.id == sa.bindparam("fid")).values(
            severity=sa.bindparam("sev"), due_on=sa.bindparam("due"), evidence=sa.bindparam("ev")), changed)
    gone = [r.id for key, r in open_rows.items() if key not in wanted]
    for i in range(0, len(gone), _CHUNK):
        conn.execute(sa.update(FLAG).where(FLAG.c.id.in_(gone[i:i + _CHUNK])).values(resolved_on=as_of))
    counts = {"as_of": as_of.isoformat(), "computed": len(flags), "opened": len(new_rows),
              "kept": len(wanted) - len(new_rows), "updated": len(changed), "resolved": len(gone)}
    # Counts only: the flag rows themselves keep their history (opened_on, resolved_on are never erased).
    record(conn, actor, "flags.recompute", "flag", as_of.isoformat(), None, counts)
    return counts
