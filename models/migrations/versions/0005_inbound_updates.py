"""inbound updates persisted before they are answered; WeCom cards

A Telegram webhook update or a WeCom callback is written to `inbound_updates` before the
server answers 200, handled in the background and marked done; at start-up the unfinished
ones are handled. `wecom_cards` keeps each WeCom template card's one-time response code, so
the card can be updated for every member once one of them acts.

Revision ID: 0005
Revises: 0009
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0005"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "inbound_updates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("received_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("done_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbound_updates")),
        sa.UniqueConstraint("channel", "key", name=op.f("uq_inbound_updates_channel")),
    )
    with op.batch_alter_table("inbound_updates", schema=None) as batch_op:
        batch_op.create_index("ix_inbound_updates_unfinished", ["done_at", "id"], unique=False)

    op.create_table(
        "wecom_cards",
        sa.Column("task_id", sa.String(length=128), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("userid", sa.String(length=64), nullable=False),
        sa.Column("response_code", sa.String(length=512), nullable=True),
        sa.Column("updated_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_wecom_cards_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("task_id", name=op.f("pk_wecom_cards")),
    )
    with op.batch_alter_table("wecom_cards", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_wecom_cards_case_id"), ["case_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("wecom_cards", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_wecom_cards_case_id"))
    op.drop_table("wecom_cards")
    with op.batch_alter_table("inbound_updates", schema=None) as batch_op:
        batch_op.drop_index("ix_inbound_updates_unfinished")
    op.drop_table("inbound_updates")
