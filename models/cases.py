"""Cases, their append-only event trail and their attachments."""

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, enum_column, utcnow
from models.catalog import Category
from models.enums import CaseSource, CaseStatus, CoordSystem, LocationStatus
from models.geography import Area, Grid
from models.organisation import Department, Person

OPEN_STATUSES = (
    CaseStatus.REPORTED,
    CaseStatus.FILED,
    CaseStatus.DISPATCHED,
    CaseStatus.ACCEPTED,
    CaseStatus.RETURNED,
    CaseStatus.RESOLVED,
    CaseStatus.SUSPENDED,
)


class Case(Base):
    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_status_category", "status", "category_id"),
        Index("ix_cases_created_at", "created_at"),
        Index("ix_cases_updated_at", "updated_at"),
        Index("ix_cases_department_status", "department_id", "status"),
        # Running cases by deadline (overdue lists, lights); RUNNING in dispatch.deadlines.
        Index(
            "ix_cases_running_deadline",
            "deadline_at",
            postgresql_where=text("status IN ('dispatched', 'accepted')"),
            sqlite_where=text("status IN ('dispatched', 'accepted')"),
        ),
        UniqueConstraint("source", "external_ref"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str | None] = mapped_column(String(20), unique=True)
    source: Mapped[CaseSource] = mapped_column(enum_column(CaseSource))
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    # A citizen's name, phone, e-mail or device id: kept for the record, never published.
    reporter_contact: Mapped[dict[str, Any] | None]
    # The sender's own id for the report (chat draft, Open311 token): a resend is not a new case.
    external_ref: Mapped[str | None] = mapped_column(String(64))

    lon: Mapped[float] = mapped_column(Float)  # WGS84, used for dispatch
    lat: Mapped[float] = mapped_column(Float)
    raw_lon: Mapped[float] = mapped_column(Float)  # as received
    raw_lat: Mapped[float] = mapped_column(Float)
    raw_crs: Mapped[CoordSystem] = mapped_column(enum_column(CoordSystem))
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    location_status: Mapped[LocationStatus] = mapped_column(enum_column(LocationStatus))
    address: Mapped[str] = mapped_column(String(500), default="")
    description: Mapped[str] = mapped_column(Text, default="")

    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"))
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"), index=True)
    community_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"), index=True)
    town_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    priority: Mapped[int] = mapped_column(Integer, default=2)
    status: Mapped[CaseStatus] = mapped_column(enum_column(CaseStatus))

    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    filed_at: Mapped[datetime | None] = mapped_column(index=True)
    dispatched_at: Mapped[datetime | None]
    accepted_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None] = mapped_column(index=True)
    voided_at: Mapped[datetime | None]

    # The handling clock: started at dispatch or acceptance, paused while suspended.
    clock_started_at: Mapped[datetime | None]
    deadline_at: Mapped[datetime | None] = mapped_column(index=True)
    yellow_at: Mapped[datetime | None]
    suspended_at: Mapped[datetime | None]
    status_before_suspension: Mapped[CaseStatus | None] = mapped_column(enum_column(CaseStatus))
    # Working seconds of the limit still left when the case was suspended.
    remaining_work_seconds: Mapped[int | None] = mapped_column(Integer)
    # When the sweep next needs to look at this case (yellow, overdue, next level); indexed
    # so that the sweep's cost grows with the due cases, not with all cases.
    next_check_at: Mapped[datetime | None] = mapped_column(index=True)
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    reminded: Mapped[bool] = mapped_column(default=False)

    extension_requested_until: Mapped[datetime | None]
    extension_reason: Mapped[str | None] = mapped_column(Text)

    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    rework_count: Mapped[int] = mapped_column(Integer, default=0)
    # Filled at closure for the assessment figures.
    closed_on_time: Mapped[bool | None]
    handling_work_seconds: Mapped[int | None] = mapped_column(Integer)

    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__: ClassVar[dict[str, Any]] = {"version_id_col": version}

    category: Mapped[Category] = relationship()
    grid: Mapped[Grid | None] = relationship()
    community: Mapped[Area | None] = relationship(foreign_keys=[community_id])
    town: Mapped[Area | None] = relationship(foreign_keys=[town_id])
    department: Mapped[Department | None] = relationship()
    reporter: Mapped[Person | None] = relationship()
    attachments: Mapped[list["Attachment"]] = relationship(
        back_populates="case", order_by="Attachment.id"
    )


class CaseEvent(Base):
    """One step of a case's history; rows are only ever inserted (the audit trail)."""

    __tablename__ = "case_events"
    __table_args__ = (Index("ix_case_events_case_at", "case_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    action: Mapped[str] = mapped_column(String(32), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    actor_label: Mapped[str] = mapped_column(String(100), default="")
    at: Mapped[datetime] = mapped_column(default=utcnow)
    from_status: Mapped[CaseStatus | None] = mapped_column(enum_column(CaseStatus))
    to_status: Mapped[CaseStatus | None] = mapped_column(enum_column(CaseStatus))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    note: Mapped[str] = mapped_column(Text, default="")
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Attachment(Base):
    """A photo or file: a chat file id or a path in the local media store."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("case_events.id"))
    purpose: Mapped[str] = mapped_column(String(16))  # report, result, rework
    storage: Mapped[str] = mapped_column(String(16))  # telegram, local
    ref: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(64), default="image/jpeg")
    size_bytes: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    case: Mapped[Case] = relationship(back_populates="attachments")
    event: Mapped[CaseEvent | None] = relationship()


class CaseChatMessage(Base):
    """The one message that shows a case in a chat, edited in place as the case moves."""

    __tablename__ = "case_chat_messages"
    __table_args__ = (UniqueConstraint("case_id", "channel", "chat_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    channel: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(64))
    message_id: Mapped[str] = mapped_column(String(64))
    has_photo: Mapped[bool] = mapped_column(default=False)
