"""outbox priority and the per-chat claim index

The outbox worker claims a few messages per chat (most urgent first, then oldest), so one
chat's backlog cannot hold back everybody else's messages (issue 10). `priority` orders
escalations before routine messages; the partial index over pending rows by chat hands the
claim's window function each chat's messages in order.

Revision ID: 0007
Revises: 0008
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PENDING = sa.text("status = 'pending'")


def upgrade() -> None:
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("priority", sa.SmallInteger(), server_default="0", nullable=False)
        )
        batch_op.create_index(
            "ix_outbox_pending_by_chat",
            ["channel", "address", sa.text("priority DESC"), "id"],
            unique=False,
            postgresql_where=PENDING,
            sqlite_where=PENDING,
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_pending_by_chat")
        batch_op.drop_column("priority")
