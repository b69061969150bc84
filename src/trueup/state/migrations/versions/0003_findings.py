"""Findings and their audit trail.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "findings",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("fingerprint", sa.String(32), nullable=False, unique=True),
        sa.Column("check", sa.String(64), nullable=False),
        sa.Column("category", sa.String(40), nullable=False),
        sa.Column("severity", sa.String(10), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("detail", sa.Text),
        sa.Column("owner", sa.String(255)),
        sa.Column("assignee", sa.String(255)),
        sa.Column("handoff", sa.String(64)),
        sa.Column("field", sa.String(255)),
        sa.Column("money", sa.Numeric(18, 2)),
        sa.Column("minutes", sa.Float, nullable=False),
        sa.Column("cause", sa.String(20), nullable=False),
        sa.Column("cause_reason", sa.Text),
        sa.Column("entities", sa.JSON, nullable=False),
        sa.Column("values", sa.JSON),
        sa.Column("digest", sa.String(32), nullable=False),
        sa.Column("suppressed_until", sa.DateTime(timezone=True)),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("first_run", sa.String(40), nullable=False),
        sa.Column("last_run", sa.String(40), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_index("ix_findings_check", "findings", ["check"])
    op.create_index("ix_findings_category", "findings", ["category"])
    op.create_index("ix_findings_state", "findings", ["state"])
    op.create_table(
        "finding_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("finding_id", sa.Integer, sa.ForeignKey("findings.id", ondelete="CASCADE"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(255), nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("from_state", sa.String(20)),
        sa.Column("to_state", sa.String(20), nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("run_id", sa.String(40)),
        sa.Column("detail", sa.JSON, nullable=False),
    )
    op.create_index("ix_finding_events_finding_id", "finding_events", ["finding_id"])


def downgrade() -> None:
    op.drop_table("finding_events")
    op.drop_table("findings")
