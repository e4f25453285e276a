"""audit_log refuses REPLACE and upserts on SQLite too

Migration 0002's triggers refuse UPDATE and DELETE. On SQLite, `REPLACE INTO audit_log(id, ...)` (or
`INSERT OR REPLACE`) with an existing id deletes the old row without firing DELETE triggers (unless the
connection set recursive_triggers), so row 1 could be rewritten through any client. A BEFORE INSERT trigger that
refuses an insert whose id already exists stops REPLACE, INSERT OR REPLACE, and INSERT ... ON CONFLICT DO UPDATE
(whose BEFORE INSERT triggers fire before the conflict is found). An insert without an id (every insert of the
application) is unaffected: NEW.id is NULL or a fresh rowid there.

PostgreSQL needs nothing here: ON CONFLICT DO UPDATE and MERGE fire the UPDATE/DELETE triggers of 0002. What
protects those triggers from the table's owner is that the application does not connect as the owner
(registry/db_roles.py, deploy/postgresql/roles.sql, docs/deployment.md).

audit_log is the only append-only table (0002): other tables' rows are updated by design (flags are resolved,
recognitions superseded, runs finish).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07
"""
from alembic import op


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

# Worded so that the application's statement guard (registry.audit) does not mistake the trigger for a rewrite.
MESSAGE = "audit_log is append-only: an existing audit row cannot be replaced (REPLACE or upsert refused)"


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"""CREATE TRIGGER audit_log_no_replace BEFORE INSERT ON audit_log
                       WHEN NEW.id IS NOT NULL AND EXISTS (SELECT 1 FROM audit_log WHERE id = NEW.id)
                       BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_replace")
