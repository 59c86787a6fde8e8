"""Figures over the cases for the console: counts per local day and per category."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from dispatch.core.actors import Actor
from dispatch.queries.cases import visible_to
from models import Case


def _local_day(
    session: AsyncSession, column: ColumnElement[datetime], tz: str, at: datetime
) -> ColumnElement[str]:
    """The day in `tz` of a UTC timestamp. SQLite knows no zones: the zone's offset at `at`
    is added (exact for zones without daylight saving time, such as China's)."""
    if session.bind.dialect.name == "postgresql":
        return func.to_char(func.timezone(tz, column), "YYYY-MM-DD")
    offset = at.astimezone(ZoneInfo(tz)).utcoffset() or timedelta()
    return func.date(column, f"{int(offset.total_seconds()):+d} seconds")


@dataclass(frozen=True)
class DayCounts:
    day: str
    received: int
    closed: int
    closed_on_time: int


async def daily_counts(
    session: AsyncSession, actor: Actor, start: datetime, end: datetime, tz: str
) -> list[DayCounts]:
    """Intake and closures per local day in [start, end), for the dashboard's charts."""
    scope = visible_to(actor)
    received_day = _local_day(session, Case.created_at, tz, start)
    received = dict(
        (
            await session.execute(
                select(received_day, func.count())
                .where(scope, Case.created_at >= start, Case.created_at < end)
                .group_by(received_day)
            )
        ).all()
    )
    closed_day = _local_day(session, Case.closed_at, tz, start)
    closed = {
        row[0]: (int(row[1]), int(row[2] or 0))
        for row in (
            await session.execute(
                select(
                    closed_day,
                    func.count(),
                    func.sum(case((Case.closed_on_time.is_(True), 1), else_=0)),
                )
                .where(scope, Case.closed_at >= start, Case.closed_at < end)
                .group_by(closed_day)
            )
        ).all()
    }
    days = sorted(set(received) | set(closed))
    return [DayCounts(str(d), int(received.get(d, 0)), *closed.get(d, (0, 0))) for d in days]


async def received_by_category(
    session: AsyncSession, actor: Actor, start: datetime, end: datetime
) -> dict[int, int]:
    """Cases reported in [start, end) per category id."""
    rows = await session.execute(
        select(Case.category_id, func.count())
        .where(visible_to(actor), Case.created_at >= start, Case.created_at < end)
        .group_by(Case.category_id)
    )
    return {int(k): int(v) for k, v in rows.all()}
