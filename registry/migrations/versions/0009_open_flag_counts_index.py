"""a covering index for counting open flags

The overview, the pipeline and the briefing count open flags per kind (and severity) and the firms they concern.
With only ix_flag_open (kind, resolved_on) SQLite read every flag row from the table: 0.8 s at 268,000 open flags
(200,000 firms). A partial index of the open flags' kind, severity and firm answers the counts from the index
alone: 0.06 s (docs/benchmarks.md). Both engines have partial indexes.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

OPEN = sa.text("resolved_on IS NULL")


def upgrade() -> None:
    op.create_index("ix_flag_open_counts", "flag", ["kind", "severity", "enterprise_id"],
                    sqlite_where=OPEN, postgresql_where=OPEN)


def downgrade() -> None:
    op.drop_index("ix_flag_open_counts", table_name="flag")
