"""supervision: case reviews, rectification notices, category conditions

Revision ID: 0006
Revises: 0010
Create Date: 2026-12-02 12:40:13.901766
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import models.base

revision: str = "0006"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "category_conditions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("category_code", sa.String(length=4), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("filing", "closing", name="conditionkind", native_enum=False, length=15),
            nullable=False,
        ),
        sa.Column("text_zh", sa.String(length=300), nullable=False),
        sa.Column("text_en", sa.String(length=300), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_category_conditions")),
        sa.UniqueConstraint(
            "category_code", "kind", "text_zh", name=op.f("uq_category_conditions_category_code")
        ),
    )
    with op.batch_alter_table("category_conditions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_category_conditions_category_code"), ["category_code"], unique=False
        )

    op.create_table(
        "review_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name_zh", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("weight", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_items")),
        sa.UniqueConstraint("code", name=op.f("uq_review_items_code")),
    )
    op.create_table(
        "case_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("reviewer_id", sa.Integer(), nullable=False),
        sa.Column("reviewed_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("score", sa.Double(), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column(
            "items",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_reviews_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["departments.id"],
            name=op.f("fk_case_reviews_department_id_departments"),
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_id"], ["people.id"], name=op.f("fk_case_reviews_reviewer_id_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_reviews")),
        sa.UniqueConstraint("case_id", name=op.f("uq_case_reviews_case_id")),
    )
    with op.batch_alter_table("case_reviews", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_case_reviews_department_id"), ["department_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_case_reviews_reviewed_at"), ["reviewed_at"], unique=False
        )

    op.create_table(
        "rectification_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("issued_by_id", sa.Integer(), nullable=False),
        sa.Column("issued_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("deadline_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "open", "answered", "accepted", name="noticestatus", native_enum=False, length=16
            ),
            nullable=False,
        ),
        sa.Column("requirements", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("answered_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("answered_by_id", sa.Integer(), nullable=True),
        sa.Column("closed_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("on_time", sa.Boolean(), nullable=True),
        sa.Column("escalation_level", sa.Integer(), nullable=False),
        sa.Column("next_check_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["answered_by_id"],
            ["people.id"],
            name=op.f("fk_rectification_notices_answered_by_id_people"),
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_rectification_notices_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["departments.id"],
            name=op.f("fk_rectification_notices_department_id_departments"),
        ),
        sa.ForeignKeyConstraint(
            ["issued_by_id"],
            ["people.id"],
            name=op.f("fk_rectification_notices_issued_by_id_people"),
        ),
        sa.ForeignKeyConstraint(
            ["review_id"],
            ["case_reviews.id"],
            name=op.f("fk_rectification_notices_review_id_case_reviews"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rectification_notices")),
    )
    with op.batch_alter_table("rectification_notices", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rectification_notices_case_id"), ["case_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_rectification_notices_department_id"), ["department_id"], unique=False
        )
        batch_op.create_index(
            "ix_rectification_notices_due",
            ["next_check_at"],
            unique=False,
            postgresql_where=sa.text("next_check_at IS NOT NULL"),
            sqlite_where=sa.text("next_check_at IS NOT NULL"),
        )
        batch_op.create_index(
            batch_op.f("ix_rectification_notices_review_id"), ["review_id"], unique=False
        )

    op.create_table(
        "follow_ups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("closed_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("due_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.Column("answered_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "satisfaction",
            sa.Enum(
                "satisfied",
                "basically_satisfied",
                "dissatisfied",
                name="satisfaction",
                native_enum=False,
                length=27,
            ),
            nullable=True,
        ),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("reopened", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_follow_ups_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["people.id"], name=op.f("fk_follow_ups_recorded_by_id_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_follow_ups")),
        sa.UniqueConstraint("token", name=op.f("uq_follow_ups_token")),
    )
    with op.batch_alter_table("follow_ups", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_follow_ups_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_follow_ups_due_at"), ["due_at"], unique=False)

    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "source",
                sa.Enum(
                    "grid_worker",
                    "citizen",
                    "console",
                    "hotline",
                    name="casesource",
                    native_enum=False,
                    length=19,
                ),
                server_default="citizen",
                nullable=False,
            )
        )
    op.create_table(
        "scoring_formulas",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column(
            "terms",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["people.id"], name=op.f("fk_scoring_formulas_created_by_id_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scoring_formulas")),
        sa.UniqueConstraint("level", "valid_from", name=op.f("uq_scoring_formulas_level")),
    )
    with op.batch_alter_table("categories", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("public_description", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("categories", schema=None) as batch_op:
        batch_op.drop_column("public_description")
    op.drop_table("scoring_formulas")
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_column("source")

    with op.batch_alter_table("follow_ups", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_follow_ups_due_at"))
        batch_op.drop_index(batch_op.f("ix_follow_ups_case_id"))

    op.drop_table("follow_ups")
    with op.batch_alter_table("rectification_notices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rectification_notices_review_id"))
        batch_op.drop_index(
            "ix_rectification_notices_due",
            postgresql_where=sa.text("next_check_at IS NOT NULL"),
            sqlite_where=sa.text("next_check_at IS NOT NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_rectification_notices_department_id"))
        batch_op.drop_index(batch_op.f("ix_rectification_notices_case_id"))

    op.drop_table("rectification_notices")
    with op.batch_alter_table("case_reviews", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_reviews_reviewed_at"))
        batch_op.drop_index(batch_op.f("ix_case_reviews_department_id"))

    op.drop_table("case_reviews")
    op.drop_table("review_items")
    with op.batch_alter_table("category_conditions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_category_conditions_category_code"))

    op.drop_table("category_conditions")
