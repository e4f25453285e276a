"""finished results the flags job computes for the pages (复核 risk, rule impact)

`finished_result`: one row per kind + parameters — the data version and policy-file fingerprint it was computed
from, when, how long it took, and the result frames as Parquet (registry.result_store). The pages read it when
both still match, instead of evaluating the whole registry on first visit.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'finished_result',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column('params', sqlmodel.sql.sqltypes.AutoString(length=400), nullable=False),
        sa.Column('data_version', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('policy_fingerprint', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('computed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('seconds', sa.Float(), nullable=False),
        sa.Column('payload', sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('kind', 'params', name='uq_finished_result_key'),
    )


def downgrade() -> None:
    op.drop_table('finished_result')
