"""A check's findings indexed with their versions, so that a run reads each check's mark (how many
findings, the sum of their versions) from the index alone.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-26
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_findings_check_version", "findings", ["check", "version"])
    op.drop_index("ix_findings_check", table_name="findings")


def downgrade() -> None:
    op.create_index("ix_findings_check", "findings", ["check"])
    op.drop_index("ix_findings_check_version", table_name="findings")
