"""People's link decisions and the merges and splits of canonical ids.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "link_decisions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("entity", sa.String(20), nullable=False),
        sa.Column("system_a", sa.String(64), nullable=False),
        sa.Column("source_a", sa.String(255), nullable=False),
        sa.Column("system_b", sa.String(64), nullable=False),
        sa.Column("source_b", sa.String(255), nullable=False),
        sa.Column("decision", sa.String(10), nullable=False),
        sa.Column("actor", sa.String(255), nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "id_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(40), nullable=False),
        sa.Column("entity", sa.String(20), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("canonical_id", sa.String(40), nullable=False),
        sa.Column("others", sa.JSON, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_id_events_run_id", "id_events", ["run_id"])


def downgrade() -> None:
    op.drop_table("id_events")
    op.drop_table("link_decisions")
