"""Chat updates and callbacks as received, persisted before they are answered, and the WeCom
cards that can still be updated in place."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, utcnow


class InboundUpdate(Base):
    """A Telegram webhook update or a WeCom callback, written before the 200 answer and marked
    done once handled: an answered update is never lost, and a redelivered one (same key)
    has one effect."""

    __tablename__ = "inbound_updates"
    __table_args__ = (
        UniqueConstraint("channel", "key"),
        Index("ix_inbound_updates_unfinished", "done_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    # Telegram's update_id; WeCom's MsgId, or user + CreateTime + event for events.
    key: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)  # the update as received (WeCom: decrypted XML)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    done_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)


class WecomCard(Base):
    """A template card sent to one WeCom member for a case. WeCom updates a card with a
    one-time `response_code`: the one from `message/send`, then the one each button press
    brings; None when spent (the next change of the case sends a new card)."""

    __tablename__ = "wecom_cards"

    task_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    userid: Mapped[str] = mapped_column(String(64))
    response_code: Mapped[str | None] = mapped_column(String(512))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
