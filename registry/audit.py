"""The audit trail: one append-only row per mutation — who, when, what, before and after, why.

Writers call `record(session_or_connection, actor, action, entity, entity_id, before, after, reason)` inside the
transaction that makes the change, so the change and its audit row commit (or roll back) together.
Actions are dotted names: `ingest.run`, `flags.recompute`, `user.create`, `user.role`, `review.decide`,
`recognition.revoke`, `policy.file_changed` ... (docs/access.md lists them).

Append-only is enforced three times: every engine made by registry.db.make_engine refuses an UPDATE, DELETE,
TRUNCATE, MERGE, REPLACE or upsert of audit_log before it reaches the database (and the ORM refuses to flush a change
to an AuditLog object); migrations 0002 and 0004 add database triggers that refuse them from any other client
(psql, sqlite3); and on PostgreSQL the application connects as a role that does not own the table, so it cannot
disable or drop those triggers (registry/db_roles.py).
"""

from __future__ import annotations

import dataclasses
import getpass
import json
import os
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl
import sqlalchemy as sa
from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session
from sqlmodel import Session as SQLModelSession

from registry.access import Principal, require

# The guard lives below registry.db (which installs it on every engine); re-exported for callers of this module.
from registry.audit_guard import AuditTrailIsAppendOnly as AuditTrailIsAppendOnly
from registry.db import engine_or_default as _engine
from registry.models import AuditLog, table_of, utcnow

AUDIT = table_of(AuditLog)
ACTOR_SCHEDULER = "scheduler"
ACTOR_SYSTEM = "system"


# ---------------------------------------------------------------- writing


def actor_name(actor: Principal | str) -> str:
    return actor.username if isinstance(actor, Principal) else str(actor)


def cli_actor() -> str:
    """The actor of a CLI command: `cli:<OS user>` (ZJTX_ACTOR overrides it, e.g. in a deployment script)."""
    override = os.environ.get("ZJTX_ACTOR", "").strip()
    if override:
        return override[:80]
    try:
        return f"cli:{getpass.getuser()}"[:80]
    except (OSError, KeyError):  # no login name (some containers)
        return "cli"


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, set | frozenset | tuple):
        return sorted(value, key=str) if isinstance(value, set | frozenset) else list(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return str(value)


def jsonable(value: dict[str, Any] | None) -> dict[str, Any] | None:
    """A before/after snapshot as plain JSON (dates as ISO text): what the JSON column can store on both engines."""
    if value is None:
        return None
    plain: dict[str, Any] = json.loads(json.dumps(value, default=_json_default, ensure_ascii=False))
    return plain


def record(
    session: Session | Connection,
    actor: Principal | str,
    action: str,
    entity: str,
    entity_id: str | int | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str | None = None,
) -> int:
    """Append one audit row in the caller's transaction; returns its id.

    `session` is an ORM Session or a Core Connection (ingestion works on connections). `actor` is the acting
    Principal or a name (`scheduler`, `system`, `cli:<user>`).
    """
    values = {
        "at": utcnow(), "actor": actor_name(actor)[:80], "action": action[:60], "entity": entity[:40],
        "entity_id": None if entity_id is None else str(entity_id)[:80],
        "before": jsonable(before), "after": jsonable(after), "reason": reason,
    }
    statement = sa.insert(AUDIT).values(**values)
    # SQLModel's Session spells it exec(); a Core Connection (or plain ORM Session) execute().
    result = session.exec(statement) if isinstance(session, SQLModelSession) else session.execute(statement)
    # An INSERT's result is a CursorResult holding the new key on both; the ORM Session's signature only promises
    # a Result.
    assert isinstance(result, sa.CursorResult) and result.inserted_primary_key is not None
    return int(result.inserted_primary_key[0])


# ---------------------------------------------------------------- append-only guard

# ---------------------------------------------------------------- reading

AUDIT_COLUMNS: dict[str, pl.DataType | type[pl.DataType]] = {
    "id": pl.Int64, "at": pl.Datetime("us", "UTC"), "actor": pl.String, "action": pl.String, "entity": pl.String,
    "entity_id": pl.String, "before": pl.String, "after": pl.String, "reason": pl.String,
}


def audit_entries(
    principal: Principal,
    since: datetime | date | None = None,
    until: datetime | date | None = None,
    actor: str | None = None,
    action: str | None = None,
    entity: str | None = None,
    entity_id: str | None = None,
    limit: int | None = 1000,
    *,
    engine: Engine | None = None,
) -> pl.DataFrame:
    """Audit rows, newest first, filtered; `before`/`after` as JSON text. Requires `audit.view` (admins).

    since/until: dates are whole days (until inclusive); actor / entity_id: substring; action: exact or a prefix
    ending in "." (`user.` = every user change).
    """
    require(principal, "audit.view")
    conditions = []
    if since is not None:
        conditions.append(AUDIT.c.at >= _start_of(since))
    if until is not None:
        conditions.append(AUDIT.c.at < _end_of(until))
    if actor:
        conditions.append(AUDIT.c.actor.contains(actor.strip(), autoescape=True))
    if action:
        action = action.strip()
        conditions.append(AUDIT.c.action.startswith(action, autoescape=True) if action.endswith(".")
                          else AUDIT.c.action == action)
    if entity:
        conditions.append(AUDIT.c.entity == entity.strip())
    if entity_id:
        conditions.append(AUDIT.c.entity_id.contains(entity_id.strip(), autoescape=True))
    stmt = sa.select(AUDIT).where(*conditions).order_by(AUDIT.c.id.desc())
    if limit is not None:
        stmt = stmt.limit(max(0, limit))
    with _engine(engine).connect() as conn:
        rows = conn.execute(stmt).mappings().all()
    # Audit rows are few per page (a limit applies); JSON snapshots are shown and exported as text.
    return pl.DataFrame(
        [{**row, "before": _as_text(row["before"]), "after": _as_text(row["after"])} for row in rows],
        schema=AUDIT_COLUMNS,
    )


def audit_facets(principal: Principal, *, engine: Engine | None = None) -> dict[str, list[str]]:
    """The distinct actions and entities in the trail (for filter lists). Requires `audit.view`."""
    require(principal, "audit.view")
    with _engine(engine).connect() as conn:
        return {column: list(conn.execute(sa.select(AUDIT.c[column]).distinct().order_by(AUDIT.c[column])).scalars())
                for column in ("action", "entity")}


def _as_text(value: Any) -> str | None:
    if value is None:
        return None
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _start_of(moment: datetime | date) -> datetime:
    """A date is a calendar day where the officials are (scheduler.timezone), not a UTC day."""
    if isinstance(moment, datetime):
        return moment
    from registry.settings import get_settings

    zone = ZoneInfo(get_settings().scheduler.timezone)
    return datetime(moment.year, moment.month, moment.day, tzinfo=zone)


def _end_of(moment: datetime | date) -> datetime:
    if isinstance(moment, datetime):
        return moment
    return _start_of(moment) + timedelta(days=1)


def record_export(engine: Engine, principal: Principal, what: str, file_name: str, rows: int | None) -> int:
    """One audit row for one download (docs/access.md): who, what kind (registry.access.EXPORTS), the file, the
    downloader's scope and the number of rows — written before the bytes leave, so no export goes unrecorded."""
    with engine.begin() as conn:
        return record(conn, principal, "data.export", "export", what, None,
                      {"what": what, "file": file_name, "scope": principal.jurisdiction, "role": principal.role,
                       "rows": rows})
