"""report metrics of the 2022 and 2026 national rules

CONTRACT §3b: Ⅰ类 / Ⅰ类高价值 / 自主研发Ⅰ类 / Ⅱ类 知识产权, 科技人员, 成本费用支出总额, 主导产品国际细分市场占有率 and
国内细分市场排名 — nullable columns on `report` (blank = not reported, never 0). The new attributes need no schema
change: attributes are rows.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

COLUMNS = ("class1_ip", "class1_ip_high_value", "class1_ip_own", "class2_ip", "tech_staff", "total_cost",
           "intl_market_share", "national_rank")


def upgrade() -> None:
    with op.batch_alter_table("report") as batch:
        for name in COLUMNS:
            batch.add_column(sa.Column(name, sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("report") as batch:
        for name in reversed(COLUMNS):
            batch.drop_column(name)
