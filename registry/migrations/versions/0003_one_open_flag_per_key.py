"""at most one open flag per key

A partial unique index on flag(key) where resolved_on IS NULL: the flags job diffs the open flags against a
recomputation, and two runs at once (the scheduler and `zjtx run-job flags` in another process) could both open
the same flag. Open duplicates already present are closed first — the earliest opened stays open, the others are
resolved on the day they were opened — so the upgrade cannot fail on them.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

OPEN = sa.text("resolved_on IS NULL")


def upgrade() -> None:
    op.execute("""
        UPDATE flag SET resolved_on = opened_on
        WHERE resolved_on IS NULL
          AND id NOT IN (SELECT MIN(id) FROM flag WHERE resolved_on IS NULL GROUP BY key)""")
    op.create_index("uq_flag_open_key", "flag", ["key"], unique=True, sqlite_where=OPEN, postgresql_where=OPEN)


def downgrade() -> None:
    op.drop_index("uq_flag_open_key", table_name="flag")
