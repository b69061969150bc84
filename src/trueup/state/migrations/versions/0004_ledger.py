"""The debt ledger's totals after each run, for the trend.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ledger_snapshots",
        sa.Column("run_id", sa.String(40), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("totals", sa.JSON, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("ledger_snapshots")
