"""The notification outbox and the chat front ends' persistent state."""

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, SmallInteger, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, enum_column, utcnow
from models.enums import OutboxStatus, RecipientKind


class OutboxMessage(Base):
    """A message to one chat, written in the same transaction as the change it reports."""

    __tablename__ = "outbox_messages"
    __table_args__ = (
        Index("ix_outbox_due", "status", "next_attempt_at"),
        # The worker's claim ranks each chat's pending messages (most urgent, then oldest):
        # this partial index hands them over in that order, without a sort.
        Index(
            "ix_outbox_pending_by_chat",
            "channel",
            "address",
            text("priority DESC"),
            "id",
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
        # The retention purge walks the delivered messages by delivery time.
        Index(
            "ix_outbox_sent_at",
            "sent_at",
            postgresql_where=text("status = 'sent'"),
            sqlite_where=text("status = 'sent'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # One event, one recipient, one delivery: a second insert with the same key is dropped.
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(48))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    recipient_kind: Mapped[RecipientKind] = mapped_column(enum_column(RecipientKind))
    recipient_id: Mapped[int | None] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(String(64))  # chat id on that channel
    locale: Mapped[str] = mapped_column(String(8), default="zh_CN")
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[OutboxStatus] = mapped_column(
        enum_column(OutboxStatus), default=OutboxStatus.PENDING
    )
    # Higher goes first (escalations before routine messages); see notifications.PRIORITY.
    priority: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    external_message_id: Mapped[str | None] = mapped_column(String(64))


class ProcessedUpdate(Base):
    """A chat update already handled, so a redelivered one is ignored."""

    __tablename__ = "processed_updates"

    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    update_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    processed_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class ChatState(Base):
    """A chat conversation's state and draft (the bot's FSM), so it survives a restart."""

    __tablename__ = "chat_states"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    state: Mapped[str | None] = mapped_column(String(100))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ConsoleSession(Base):
    """A logged-in web console session; only the token's digest is stored."""

    __tablename__ = "console_sessions"

    token_digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class InstanceSecret(Base):
    """A secret generated once per database when the settings give none (e.g. the key that
    signs chat buttons), so that every instance on this database shares it."""

    __tablename__ = "instance_secrets"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    value: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
