"""The configuration as the admin pages list it: routing rules, a calendar year, grid layers."""

from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    CalendarDay,
    GridLayer,
    RoutingRule,
)


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


async def grid_layers(session: AsyncSession, limit: int = 10) -> list[GridLayer]:
    """The newest layers first; the first is the one in force."""
    query = select(GridLayer).order_by(GridLayer.id.desc()).limit(limit)
    return list((await session.scalars(query)).all())
