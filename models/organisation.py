"""Offices, people, their chat identities, invites, chat bindings and API keys."""

from datetime import datetime

from sqlalchemy import Boolean, Column, ForeignKey, String, Table, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, enum_column, utcnow
from models.enums import CaseSource, ChatKind, DepartmentKind, Role
from models.geography import Area, Grid


class Department(Base):
    """An office that handles cases: a functional department or a community/town office."""

    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100), default="")
    kind: Mapped[DepartmentKind] = mapped_column(enum_column(DepartmentKind))
    # For an area office: the community or town it answers for (属地兜底).
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"), unique=True)

    area: Mapped[Area | None] = relationship()


person_grids = Table(
    "person_grids",
    Base.metadata,
    Column("person_id", ForeignKey("people.id", ondelete="CASCADE"), primary_key=True),
    Column("grid_id", ForeignKey("grids.id", ondelete="CASCADE"), primary_key=True),
)


class Person(Base):
    __tablename__ = "people"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[Role] = mapped_column(enum_column(Role))
    # Scope: an office member's department; a supervisor's or dispatcher's area (None = county).
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"), index=True)
    is_head: Mapped[bool] = mapped_column(Boolean, default=False)
    phone: Mapped[str | None] = mapped_column(String(32))
    locale: Mapped[str] = mapped_column(String(8), default="zh_CN")
    username: Mapped[str | None] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    department: Mapped[Department | None] = relationship()
    area: Mapped[Area | None] = relationship()
    grids: Mapped[list[Grid]] = relationship(secondary=person_grids)


class ChatIdentity(Base):
    """A person's account on a chat channel (Telegram user id now, WeChat openid later)."""

    __tablename__ = "chat_identities"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    person: Mapped[Person] = relationship()


class Invite(Base):
    """A one-time code binding a chat user to a person, or a group chat to an office."""

    __tablename__ = "invites"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    chat_kind: Mapped[ChatKind | None] = mapped_column(enum_column(ChatKind))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]

    person: Mapped[Person | None] = relationship()


class ChatBinding(Base):
    """A group chat bound to an office, or to the supervisors of an area."""

    __tablename__ = "chat_bindings"
    __table_args__ = (UniqueConstraint("channel", "chat_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[ChatKind] = mapped_column(enum_column(ChatKind))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"), index=True)
    title: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApiKey(Base):
    """An Open311 API key; only its SHA-256 digest is stored."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    key_digest: Mapped[str] = mapped_column(String(64), unique=True)
    # The source of the cases reported with the key: citizen apps, or the 12345 hotline.
    source: Mapped[CaseSource] = mapped_column(
        enum_column(CaseSource), default=CaseSource.CITIZEN, server_default="citizen"
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
