"""Read-side queries for the admin pages: pure SQLAlchemy, never writing. Long lists take an
offset and a limit."""

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    ApiKey,
    CalendarDay,
    Case,
    ChatBinding,
    GridLayer,
    OutboxMessage,
    Person,
    RoutingRule,
)
from models.enums import OutboxStatus

UNDELIVERED = (OutboxStatus.DEAD, OutboxStatus.UNDELIVERABLE)


async def people(session: AsyncSession, offset: int, limit: int) -> list[Person]:
    query = select(Person).order_by(Person.id).offset(offset).limit(limit)
    return list((await session.scalars(query)).all())


async def api_keys(session: AsyncSession) -> list[ApiKey]:
    return list((await session.scalars(select(ApiKey).order_by(ApiKey.id))).all())


async def routing_rules(session: AsyncSession, offset: int, limit: int) -> list[RoutingRule]:
    query = (
        select(RoutingRule)
        .order_by(RoutingRule.category_code, RoutingRule.area_code)
        .offset(offset)
        .limit(limit)
    )
    return list((await session.scalars(query)).all())


async def calendar_year(session: AsyncSession, year: int) -> list[CalendarDay]:
    query = (
        select(CalendarDay)
        .where(CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31))
        .order_by(CalendarDay.day)
    )
    return list((await session.scalars(query)).all())


async def chat_bindings(session: AsyncSession, offset: int, limit: int) -> list[ChatBinding]:
    query = select(ChatBinding).order_by(ChatBinding.id).offset(offset).limit(limit)
    return list((await session.scalars(query)).all())


async def grid_layers(session: AsyncSession, limit: int = 10) -> list[GridLayer]:
    """The newest layers first; the first is the one in force."""
    query = select(GridLayer).order_by(GridLayer.id.desc()).limit(limit)
    return list((await session.scalars(query)).all())


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
