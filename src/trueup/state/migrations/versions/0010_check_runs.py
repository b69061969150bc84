"""The last run of each check, where open findings' `last_seen` and `last_run` are read from, so a
run stamps one row per check instead of rewriting every finding it sees again.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "check_runs",
        sa.Column("check", sa.String(64), primary_key=True),
        sa.Column("run_id", sa.String(40), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.execute(
        'INSERT INTO check_runs ("check", run_id, seen_at)'
        ' SELECT "check", max(last_run), max(last_seen) FROM findings'
        " WHERE state IN ('open', 'acknowledged', 'suppressed', 'reopened') GROUP BY \"check\""
    )


def downgrade() -> None:
    op.drop_table("check_runs")
