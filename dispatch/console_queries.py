"""Read-side queries for the web front ends (Open311, console): pure SQLAlchemy,
scoped by the actor, never writing."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Select, and_, case, false, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from dispatch.actors import Actor
from dispatch.deadlines import RUNNING
from models import OPEN_STATUSES, Attachment, Case, CaseEvent
from models.enums import CaseStatus, Role

CLOSED_STATUSES = (CaseStatus.CLOSED, CaseStatus.VOIDED, CaseStatus.MERGED)
LIGHTS = ("red", "yellow", "green")


# -- Open311 --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RequestFilter:
    numbers: Sequence[str] = ()
    category_ids: Sequence[int] = ()
    start: datetime | None = None
    end: datetime | None = None
    statuses: Sequence[str] = ()  # "open", "closed"
    limit: int = 1000


@dataclass(frozen=True, slots=True)
class Photo:
    storage: str
    ref: str


@dataclass(frozen=True, slots=True)
class ServiceRequestView:
    """What an Open311 answer shows of a case, read as plain columns: a 1,000-item answer
    builds no ORM objects."""

    number: str
    status: CaseStatus
    category_id: int
    department_id: int | None
    description: str
    address: str
    lon: float
    lat: float
    created_at: datetime
    updated_at: datetime
    deadline_at: datetime | None
    closed_at: datetime | None
    voided_at: datetime | None
    attachments: list[Photo]


# The id, then the view's columns in the view's own order.
_REQUEST_COLUMNS = [
    Case.id,
    *(getattr(Case, f) for f in ServiceRequestView.__dataclass_fields__ if f != "attachments"),
]


async def _request_views(
    session: AsyncSession, query: Select[tuple[object, ...]]
) -> list[ServiceRequestView]:
    rows = (await session.execute(query)).all()
    photos: dict[int, list[Photo]] = {row.id: [] for row in rows}
    if photos:
        found = await session.execute(
            select(Attachment.case_id, Attachment.storage, Attachment.ref)
            .where(Attachment.case_id.in_(list(photos)))
            .order_by(Attachment.id)
        )
        for case_id, storage, ref in found:
            photos[case_id].append(Photo(storage, ref))
    return [ServiceRequestView(*row[1:], attachments=photos[row.id]) for row in rows]


async def service_requests(session: AsyncSession, f: RequestFilter) -> list[ServiceRequestView]:
    """Cases as Open311 service requests, newest first. A list of numbers overrides the rest."""
    query = select(*_REQUEST_COLUMNS).where(Case.number.is_not(None))
    if f.numbers:
        query = query.where(Case.number.in_(list(f.numbers)))
    else:
        if f.category_ids:
            query = query.where(Case.category_id.in_(list(f.category_ids)))
        if f.start is not None:
            query = query.where(Case.created_at >= f.start)
        if f.end is not None:
            query = query.where(Case.created_at <= f.end)
        wanted = set(f.statuses)
        if wanted == {"open"}:
            query = query.where(Case.status.in_(OPEN_STATUSES))
        elif wanted == {"closed"}:
            query = query.where(Case.status.in_(CLOSED_STATUSES))
    query = query.order_by(Case.created_at.desc(), Case.id.desc()).limit(f.limit)
    return await _request_views(session, query)


async def service_request(session: AsyncSession, number: str) -> ServiceRequestView | None:
    views = await _request_views(session, select(*_REQUEST_COLUMNS).where(Case.number == number))
    return views[0] if views else None


async def case_by_number(session: AsyncSession, number: str) -> Case | None:
    return await session.scalar(
        select(Case).options(selectinload(Case.attachments)).where(Case.number == number)
    )


# -- the console ----------------------------------------------------------------------------


def visible_to(actor: Actor) -> ColumnElement[bool]:
    """The cases a console user may look at."""
    if actor.role is Role.ADMIN:
        return true()
    if actor.role is Role.OFFICE_MEMBER:
        return Case.department_id == actor.department_id if actor.department_id else false()
    if actor.role is Role.GRID_WORKER:
        return Case.reporter_id == actor.person_id
    if actor.area_id is None:
        return true()
    return or_(Case.community_id == actor.area_id, Case.town_id == actor.area_id)


def light_condition(light: str, now: datetime) -> ColumnElement[bool]:
    """The SQL form of DeadlinePlanner.light for running cases."""
    running = and_(Case.status.in_(RUNNING), Case.deadline_at.is_not(None))
    if light == "red":
        return and_(running, Case.deadline_at < now)
    if light == "yellow":
        return and_(running, Case.deadline_at >= now, Case.yellow_at <= now)
    return and_(
        running, Case.deadline_at >= now, or_(Case.yellow_at.is_(None), Case.yellow_at > now)
    )


async def inbox(
    session: AsyncSession,
    actor: Actor,
    now: datetime,
    *,
    light: str = "",
    status: str = "",
    search: str = "",
    offset: int = 0,
    limit: int = 200,
) -> list[Case]:
    query = select(Case).where(visible_to(actor), Case.number.is_not(None))
    if search.strip():
        query = query.where(Case.number.contains(search.strip()))
    if status in CaseStatus.__members__.values():
        query = query.where(Case.status == CaseStatus(status))
    elif not search.strip():
        query = query.where(Case.status.in_(OPEN_STATUSES))
    if light in LIGHTS:
        query = query.where(light_condition(light, now))
    query = query.order_by(Case.deadline_at.is_(None), Case.deadline_at, Case.id.desc())
    return list((await session.scalars(query.offset(offset).limit(limit))).all())


async def timeline(session: AsyncSession, case_id: int) -> list[CaseEvent]:
    query = select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)
    return list((await session.scalars(query)).all())


# The dispatcher's queue: citizen reports to file, returned cases to re-dispatch, extension
# requests to decide.
QUEUE_SECTIONS: dict[str, ColumnElement[bool]] = {
    "to_file": Case.status == CaseStatus.REPORTED,
    "returned": Case.status == CaseStatus.RETURNED,
    "extensions": and_(Case.status.in_(RUNNING), Case.extension_requested_until.is_not(None)),
}


async def queue_section(
    session: AsyncSession, actor: Actor, section: str, offset: int = 0, limit: int = 200
) -> tuple[int, list[Case]]:
    """How many cases wait in one section of the queue, and a page of them, oldest first."""
    condition = and_(visible_to(actor), QUEUE_SECTIONS[section])
    total = await session.scalar(select(func.count(Case.id)).where(condition))
    query = select(Case).where(condition).order_by(Case.created_at, Case.id)
    rows = (await session.scalars(query.offset(offset).limit(limit))).all()
    return total or 0, list(rows)


async def overdue(
    session: AsyncSession, actor: Actor, now: datetime, offset: int = 0, limit: int = 50
) -> tuple[int, list[Case]]:
    """How many running cases are past their deadline, and a page of them, oldest first."""
    condition = and_(visible_to(actor), Case.status.in_(RUNNING), Case.deadline_at < now)
    total = await session.scalar(select(func.count(Case.id)).where(condition))
    query = select(Case).where(condition).order_by(Case.deadline_at, Case.id)
    rows = (await session.scalars(query.offset(offset).limit(limit))).all()
    return total or 0, list(rows)


async def open_cases_on_map(session: AsyncSession, actor: Actor, limit: int = 5000) -> list[Case]:
    query = (
        select(Case)
        .where(visible_to(actor), Case.status.in_(OPEN_STATUSES))
        .order_by(Case.id.desc())
        .limit(limit)
    )
    return list((await session.scalars(query)).all())


def _local_day(
    session: AsyncSession, column: ColumnElement[datetime], tz: str
) -> ColumnElement[str]:
    if session.bind.dialect.name == "postgresql":
        return func.to_char(func.timezone(tz, column), "YYYY-MM-DD")
    return func.date(column)  # the embedded database: days in UTC are close enough


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
    received_day = _local_day(session, Case.created_at, tz)
    received = dict(
        (
            await session.execute(
                select(received_day, func.count())
                .where(scope, Case.created_at >= start, Case.created_at < end)
                .group_by(received_day)
            )
        ).all()
    )
    closed_day = _local_day(session, Case.closed_at, tz)
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
