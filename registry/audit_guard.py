"""The audit trail's append-only guard, installed by registry.db.make_engine on every engine of the application.

Kept apart from registry.audit (which reads and writes the trail through registry.db) so the database layer does not
depend on the audit service: imports run one way (docs/architecture.md).
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Engine, event

from registry.models import AuditLog


class AuditTrailIsAppendOnly(RuntimeError):
    """An attempt to change or remove audit rows."""


# Statements that change or remove existing audit rows, naming audit_log (quoted or schema-qualified or not):
# UPDATE, DELETE FROM, TRUNCATE, MERGE INTO, REPLACE INTO / INSERT OR REPLACE INTO (SQLite: deletes the row with that
# id), and INSERT ... ON CONFLICT ... DO UPDATE (an upsert). A plain INSERT is what the trail is for. (The text is
# matched as written, so the same words inside a string literal are refused too: a false alarm, never a miss.)
_AUDIT_LOG = r"""(?:only\s+)?(?:"?\w+"?\.)?"?audit_log"?(?:\W|$)"""
_REWRITE = re.compile(
    r"\b(?:update|delete\s+from|truncate(?:\s+table)?|merge\s+into|replace\s+into|insert\s+or\s+replace\s+into)\s+"
    + _AUDIT_LOG
    + r"|\binsert\s+(?:or\s+\w+\s+)?into\s+" + _AUDIT_LOG + r".*\bon\s+conflict\b.*\bdo\s+update\b",
    re.IGNORECASE | re.DOTALL,
)


def _refuse_rewrites(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
    if _REWRITE.search(statement):
        raise AuditTrailIsAppendOnly(
            "审计日志只能追加，不能修改、替换或删除 / the audit trail is append-only: UPDATE, DELETE, TRUNCATE, MERGE, "
            "REPLACE and upserts of audit_log are refused")


def install_append_only_guard(engine: Engine) -> None:
    """Refuse rewrites of audit_log (UPDATE, DELETE, TRUNCATE, MERGE, REPLACE, upserts) on this engine, whatever
    the API used (ORM, Core, raw SQL)."""
    if not event.contains(engine, "before_cursor_execute", _refuse_rewrites):
        event.listen(engine, "before_cursor_execute", _refuse_rewrites)


@event.listens_for(AuditLog, "before_update")
@event.listens_for(AuditLog, "before_delete")
def _refuse_orm_changes(mapper: Any, connection: Any, target: AuditLog) -> None:
    raise AuditTrailIsAppendOnly(
        f"审计日志只能追加 / the audit trail is append-only: audit row {target.id} cannot be changed or deleted")
