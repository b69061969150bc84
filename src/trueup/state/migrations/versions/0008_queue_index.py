"""An index in the findings queue's order.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_findings_queue", "findings", [sa.text("first_seen DESC"), sa.text("money DESC")])


def downgrade() -> None:
    op.drop_index("ix_findings_queue", "findings")
