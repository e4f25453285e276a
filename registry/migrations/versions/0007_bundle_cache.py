"""a columnar copy of the evaluation's tables, keyed by a version the database itself keeps

`registry_version`: one row whose counter `n` SQLite triggers bump on every INSERT, UPDATE and DELETE of the five
tables a policy evaluation reads (enterprise, recognition, report, attribute, event) — whatever writes them: the
application, a script, the sqlite3 shell. `bundle_cache`: those tables as Parquet, written by the flags job under
the counter it read in the same snapshot; a whole-registry read uses the copy only while the counter is unchanged
(registry/policy/bundle_cache.py, issue 13: reading 4 million rows through Python's sqlite3 cost 20–30 s at
200,000 firms).

PostgreSQL gets the tables but no triggers and never uses the copy: it reads with binary COPY, and a counter row
updated by every write would serialise its concurrent writers.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

TABLES = ("enterprise", "recognition", "report", "attribute", "event")
OPERATIONS = ("insert", "update", "delete")


def upgrade() -> None:
    op.create_table(
        'registry_version',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_table(
        'bundle_cache',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column('part', sa.Integer(), nullable=False),
        sa.Column('payload', sa.LargeBinary(), nullable=False),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('bundle_cache', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bundle_cache_version'), ['version'], unique=False)
    op.execute("INSERT INTO registry_version (id, n) VALUES (1, 0)")
    if op.get_bind().dialect.name == "sqlite":
        for table in TABLES:
            for operation in OPERATIONS:
                op.execute(f"""CREATE TRIGGER registry_version_{table}_{operation} AFTER {operation.upper()} ON {table}
                               BEGIN UPDATE registry_version SET n = n + 1 WHERE id = 1; END""")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table in TABLES:
            for operation in OPERATIONS:
                op.execute(f"DROP TRIGGER IF EXISTS registry_version_{table}_{operation}")
    with op.batch_alter_table('bundle_cache', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bundle_cache_version'))
    op.drop_table('bundle_cache')
    op.drop_table('registry_version')
