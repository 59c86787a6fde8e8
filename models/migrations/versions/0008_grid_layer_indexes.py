"""store each grid layer's prepared lookup index and map outlines

Building the index of a 20,000-grid layer takes seconds of CPU, and every instance did it on
every start and every new layer; now the import builds it once and instances load the bytes.

Revision ID: 0008
Revises: 0003
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "grid_layer_indexes",
        sa.Column("layer_id", sa.Integer(), nullable=False),
        sa.Column("format", sa.Integer(), nullable=False),
        sa.Column("index_data", sa.LargeBinary(), nullable=False),
        sa.Column("outlines", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["layer_id"],
            ["grid_layers.id"],
            name=op.f("fk_grid_layer_indexes_layer_id_grid_layers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("layer_id", name=op.f("pk_grid_layer_indexes")),
    )
    if op.get_bind().dialect.name == "postgresql":
        # Stored as is: compressing the index halves it, but every load then spends a second
        # of the server's CPU decompressing it.
        op.execute("ALTER TABLE grid_layer_indexes ALTER COLUMN index_data SET STORAGE EXTERNAL")


def downgrade() -> None:
    op.drop_table("grid_layer_indexes")
