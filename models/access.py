"""Console access: the audit record of who signed in and changed access, and the login
throttle's counters."""

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, utcnow


class AuditEvent(Base):
    """One access event: a login (or a refused one), a logout, an API key created or revoked,
    an invite, a chat account linked or a group chat bound. Who (the person; the name tried,
    or the operator at the command line), when, from where."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    action: Mapped[str] = mapped_column(String(32))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    username: Mapped[str] = mapped_column(String(64), default="")
    remote: Mapped[str] = mapped_column(String(64), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class LoginThrottle(Base):
    """Failed logins counted in a fixed window per key ("account:NAME@ADDRESS",
    "address:ADDRESS"). A login attempt increments its counters in one statement before the
    password is checked, so parallel attempts cannot all pass the limit."""

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    failures: Mapped[int]
    window_started_at: Mapped[datetime]
