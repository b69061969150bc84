"""Pages of the findings queue: how many records a finding is about and the first few of them, so
a page need not read a finding's whole list (a stalled handoff lists every record it holds up);
severity as a rank; and the queue's whole order in its indexes, overall and per category, so a
page reads its rows in order instead of sorting thousands that tie on time and money.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

PREVIEW = 10  # trueup.state.findings.PREVIEW when this was written
QUEUE: list[str | sa.TextClause] = [
    sa.text("first_seen DESC"), sa.text("money DESC"), sa.text("severity_rank DESC"), "id", "state"
]  # fmt: skip


def upgrade() -> None:
    op.add_column("findings", sa.Column("severity_rank", sa.Integer(), nullable=False, server_default="0"))
    op.add_column("findings", sa.Column("entity_count", sa.Integer(), nullable=False, server_default="0"))
    op.add_column("findings", sa.Column("entities_preview", sa.JSON(), nullable=True))
    op.execute(
        "UPDATE findings SET severity_rank = CASE severity WHEN 'critical' THEN 2 WHEN 'warning' THEN 1 ELSE 0 END"
    )
    findings = sa.table(
        "findings",
        sa.column("id", sa.Integer()),
        sa.column("entities", sa.JSON()),
        sa.column("entity_count", sa.Integer()),
        sa.column("entities_preview", sa.JSON()),
    )
    bind = op.get_bind()
    rows = bind.execute(sa.select(findings.c.id, findings.c.entities)).all()
    if rows:
        bind.execute(
            findings.update()
            .where(findings.c.id == sa.bindparam("_id"))
            .values(entity_count=sa.bindparam("_count"), entities_preview=sa.bindparam("_preview")),
            [
                {"_id": fid, "_count": len(entities), "_preview": entities[:PREVIEW]}
                for fid, entities in ((r[0], _list(r[1])) for r in rows)
            ],
        )
    op.drop_index("ix_findings_queue", "findings")
    op.drop_index("ix_findings_category", "findings")
    op.create_index("ix_findings_queue", "findings", QUEUE)
    op.create_index("ix_findings_category_queue", "findings", ["category", *QUEUE])


def _list(value: object) -> list[object]:
    return json.loads(value) if isinstance(value, str) else list(value or [])  # type: ignore[call-overload]


def downgrade() -> None:
    op.drop_index("ix_findings_category_queue", "findings")
    op.drop_index("ix_findings_queue", "findings")
    op.create_index("ix_findings_category", "findings", ["category"])
    op.create_index("ix_findings_queue", "findings", [sa.text("first_seen DESC"), sa.text("money DESC")])
    op.drop_column("findings", "entities_preview")
    op.drop_column("findings", "entity_count")
    op.drop_column("findings", "severity_rank")
