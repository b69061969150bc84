"""What each check's last run found and the mark its findings bore after, so that a run can leave a
check whose findings have not moved without reading them.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("check_runs") as batch:
        batch.add_column(sa.Column("summary", sa.String(32), nullable=True))
        batch.add_column(sa.Column("mark", sa.String(40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("check_runs") as batch:
        batch.drop_column("mark")
        batch.drop_column("summary")
