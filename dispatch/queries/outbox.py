"""The outbox as the admin sees it: what could not be delivered, and counts by status."""

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    Case,
    OutboxMessage,
)
from models.enums import OutboxStatus

UNDELIVERED = (OutboxStatus.DEAD, OutboxStatus.UNDELIVERABLE)


@dataclass(frozen=True)
class Undelivered:
    message: OutboxMessage
    case_number: str | None


async def undelivered(session: AsyncSession, offset: int, limit: int) -> list[Undelivered]:
    """Dead letters and messages to unreachable chats, newest first."""
    rows = await session.execute(
        select(OutboxMessage, Case.number)
        .outerjoin(Case, Case.id == OutboxMessage.case_id)
        .where(OutboxMessage.status.in_(UNDELIVERED))
        .order_by(OutboxMessage.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return [Undelivered(message, number) for message, number in rows.all()]


async def outbox_counts(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(
        select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    )
    return {str(status): int(count) for status, count in rows.all()}
