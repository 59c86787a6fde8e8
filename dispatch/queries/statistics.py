"""Figures over the cases: counts per local day, and the snapshot the metrics endpoint exports."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from dispatch.core.actors import Actor
from dispatch.queries.cases import visible_to
from models import Case, CaseEvent, OutboxMessage

LATENCY_BUCKETS = (300.0, 900.0, 1800.0, 3600.0, 4 * 3600.0, 8 * 3600.0, 24 * 3600.0, 72 * 3600.0)


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


@dataclass(frozen=True)
class MetricsSnapshot:
    cases_by_status: dict[str, int]
    cases_by_source: dict[str, int]
    escalation_events: dict[str, int]
    outbox_by_status: dict[str, int]
    oldest_pending_outbox: datetime | None
    latency_buckets: list[tuple[float, int]]
    latency_count: int
    latency_sum: float


def _seconds_between(
    session: AsyncSession, later: ColumnElement[datetime], earlier: ColumnElement[datetime]
) -> ColumnElement[float]:
    if session.bind.dialect.name == "postgresql":
        return func.extract("epoch", later - earlier)
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0


async def metrics_snapshot(session: AsyncSession) -> MetricsSnapshot:
    async def grouped(column: ColumnElement, *where: ColumnElement[bool]) -> dict[str, int]:
        rows = await session.execute(select(column, func.count()).where(*where).group_by(column))
        return {str(k): int(v) for k, v in rows.all()}

    latency = _seconds_between(session, Case.dispatched_at, Case.created_at)
    columns = [func.count(), func.coalesce(func.sum(latency), 0.0)]
    columns += [func.count().filter(latency <= bucket) for bucket in LATENCY_BUCKETS]
    row = (await session.execute(select(*columns).where(Case.dispatched_at.is_not(None)))).one()
    return MetricsSnapshot(
        cases_by_status=await grouped(Case.status),
        cases_by_source=await grouped(Case.source),
        escalation_events=await grouped(
            CaseEvent.action, CaseEvent.action.in_(["remind", "escalate"])
        ),
        outbox_by_status=await grouped(OutboxMessage.status),
        oldest_pending_outbox=await session.scalar(
            select(func.min(OutboxMessage.created_at)).where(OutboxMessage.status == "pending")
        ),
        latency_buckets=[(b, int(n)) for b, n in zip(LATENCY_BUCKETS, row[2:], strict=True)],
        latency_count=int(row[0]),
        latency_sum=float(row[1]),
    )


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
