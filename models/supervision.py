"""Supervision records: the review checklist, case-file reviews (案卷评查), rectification
notices (整改通知) and the filing and closing conditions of categories (立案/结案条件)."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, Json, enum_column, utcnow
from models.cases import Case
from models.enums import ConditionKind, NoticeStatus, Satisfaction
from models.organisation import Department


class ReviewItem(Base):
    """One line of the review checklist, with its weight in the review's score."""

    __tablename__ = "review_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200), default="")
    weight: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(default=True)


class CaseReview(Base):
    """A supervisor's review of one closed case against the checklist in force that day.

    `items` keeps the checklist as it was applied (code, names, weight, passed, note), so a
    later change of the checklist does not rewrite old reviews."""

    __tablename__ = "case_reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), unique=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    reviewed_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    score: Mapped[float]
    passed: Mapped[bool]
    items: Mapped[list[dict[str, Any]]] = mapped_column(Json, default=list)
    note: Mapped[str] = mapped_column(Text, default="")

    case: Mapped[Case] = relationship()
    department: Mapped[Department | None] = relationship()


class RectificationNotice(Base):
    """整改通知: what a failed review asks an office to correct, by a working-day deadline.

    While it waits for an answer `next_check_at` holds its next escalation rung; the sweep
    finds due notices through the partial index on that column."""

    __tablename__ = "rectification_notices"
    __table_args__ = (
        Index(
            "ix_rectification_notices_due",
            "next_check_at",
            postgresql_where=text("next_check_at IS NOT NULL"),
            sqlite_where=text("next_check_at IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("case_reviews.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    issued_by_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    deadline_at: Mapped[datetime]
    status: Mapped[NoticeStatus] = mapped_column(enum_column(NoticeStatus))
    requirements: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text, default="")
    answered_at: Mapped[datetime | None]
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    closed_at: Mapped[datetime | None]
    # Set when accepted: the accepted answer came by the deadline.
    on_time: Mapped[bool | None]
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    next_check_at: Mapped[datetime | None]

    case: Mapped[Case] = relationship()
    review: Mapped[CaseReview] = relationship()
    department: Mapped[Department] = relationship()


class CategoryCondition(Base):
    """A condition a report must meet to be filed, or a case to be closed, in a category."""

    __tablename__ = "category_conditions"
    __table_args__ = (UniqueConstraint("category_code", "kind", "text_zh"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # A 小类 code, or a 大类 code for every sub-category under it.
    category_code: Mapped[str] = mapped_column(String(4), index=True)
    kind: Mapped[ConditionKind] = mapped_column(enum_column(ConditionKind))
    text_zh: Mapped[str] = mapped_column(String(300))
    text_en: Mapped[str] = mapped_column(String(300), default="")
    position: Mapped[int] = mapped_column(Integer, default=0)


class FollowUp(Base):
    """回访: the call (or the citizen's answer through a one-time link) after a citizen's or the
    hotline's case is closed. A case closed again after a reopening gets a new one."""

    __tablename__ = "follow_ups"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    closed_at: Mapped[datetime]  # the closure this follows up
    due_at: Mapped[datetime] = mapped_column(index=True)
    # The one-time link's secret, like an invite code; void once answered.
    token: Mapped[str] = mapped_column(String(32), unique=True)
    answered_at: Mapped[datetime | None]
    satisfaction: Mapped[Satisfaction | None] = mapped_column(enum_column(Satisfaction))
    note: Mapped[str] = mapped_column(Text, default="")
    channel: Mapped[str] = mapped_column(String(8), default="")  # phone, link
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    reopened: Mapped[bool] = mapped_column(default=False)

    case: Mapped[Case] = relationship()


class ScoringFormula(Base):
    """A version of the monthly 考核 formula of one level (office, community, town, grid worker):
    weights (adding up to 100) and targets per figure. A month is scored with the latest
    version in force on its first day."""

    __tablename__ = "scoring_formulas"
    __table_args__ = (UniqueConstraint("level", "valid_from"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    level: Mapped[str] = mapped_column(String(16))
    valid_from: Mapped[date]  # the first day of a month
    # [{"metric": "on_time", "weight": 40, "target": 0.95}, ...]
    terms: Mapped[list[dict[str, Any]]] = mapped_column(Json)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
