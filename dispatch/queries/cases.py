"""Cases: a reporter's open cases and favourite categories, a case by number or by its
sender's id, an actor's inbox and queues, a case's timeline, the overdue list, the map."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, false, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from dispatch.assessment import due_within, overdue_by
from dispatch.core.actors import Actor
from dispatch.core.deadlines import RUNNING
from models import OPEN_STATUSES, Case, CaseEvent, Category
from models.enums import CaseSource, CaseStatus, Role

LIGHTS = ("red", "yellow", "green")
CLOSED_STATUSES = (CaseStatus.CLOSED, CaseStatus.VOIDED, CaseStatus.MERGED)


async def open_cases(session: AsyncSession, reporter_id: int, limit: int = 20) -> list[Case]:
    query = (
        select(Case)
        .options(selectinload(Case.attachments))
        .where(Case.reporter_id == reporter_id, Case.status.in_(OPEN_STATUSES))
        .order_by(Case.created_at.desc())
        .limit(limit)
    )
    return list((await session.scalars(query)).all())


async def frequent_categories(session: AsyncSession, reporter_id: int, limit: int = 4) -> list[str]:
    """The sub-category codes this person reports most, most frequent first."""
    count = func.count(Case.id)
    query = (
        select(Category.code)
        .join(Case, Case.category_id == Category.id)
        .where(Case.reporter_id == reporter_id, Category.active.is_(True))
        .group_by(Category.code)
        .order_by(count.desc(), Category.code)
        .limit(limit)
    )
    return list((await session.scalars(query)).all())


async def case_by_external_ref(session: AsyncSession, source: CaseSource, ref: str) -> Case | None:
    return await session.scalar(select(Case).where(Case.source == source, Case.external_ref == ref))


async def case_by_number(session: AsyncSession, number: str) -> Case | None:
    return await session.scalar(
        select(Case).options(selectinload(Case.attachments)).where(Case.number == number)
    )


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


async def timeline(session: AsyncSession, case_id: int) -> list[CaseEvent]:
    query = select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)
    return list((await session.scalars(query)).all())


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


# The columns a case list may be sorted by, by their name in the URL.
SORTABLE: dict[str, ColumnElement] = {
    "number": Case.number,
    "deadline": Case.deadline_at,
    "created": Case.created_at,
    "updated": Case.updated_at,
    "category": Case.category_id,
    "status": Case.status,
    "office": Case.department_id,
}
STATUS_GROUPS = {"open": OPEN_STATUSES, "closed": CLOSED_STATUSES}
# What an assessment figure counts, for the drill-down from the monthly ranking: the period a
# case falls in by one of its dates (as in dispatch.assessment), and the figure's condition.
PERIOD_BASES = ("due", "closed", "filed")
CONDITIONS = ("overdue", "reworked")


@dataclass(frozen=True)
class Period:
    basis: str  # "due" (deadline in it, voided and merged excluded), "closed" or "filed"
    start: datetime
    end: datetime

    def condition(self) -> ColumnElement[bool]:
        if self.basis == "due":
            return due_within(self.start, self.end)
        column = Case.closed_at if self.basis == "closed" else Case.filed_at
        return and_(column >= self.start, column < self.end)


@dataclass(frozen=True)
class CaseFilter:
    """What a case list shows, as the URL carries it. Empty fields do not filter."""

    light: str = ""
    status: str = ""  # a status, "open" (the default), "closed" or "all"
    category_ids: Sequence[int] = ()
    department_id: int | None = None
    area_id: int | None = None
    reporter_id: int | None = None
    start: datetime | None = None  # reported at or after
    end: datetime | None = None  # reported before
    period: Period | None = None
    condition: str = ""  # one of CONDITIONS
    text: str = ""
    sort: str = "deadline"
    descending: bool = False


def _list_conditions(actor: Actor, now: datetime, f: CaseFilter) -> list[ColumnElement[bool]]:
    conditions = [visible_to(actor), Case.number.is_not(None)]
    if f.status in STATUS_GROUPS:
        conditions.append(Case.status.in_(STATUS_GROUPS[f.status]))
    elif f.status in CaseStatus.__members__.values():
        conditions.append(Case.status == CaseStatus(f.status))
    elif f.status != "all":
        conditions.append(Case.status.in_(OPEN_STATUSES))
    if f.light in LIGHTS:
        conditions.append(light_condition(f.light, now))
    if f.category_ids:
        conditions.append(Case.category_id.in_(list(f.category_ids)))
    if f.department_id is not None:
        conditions.append(Case.department_id == f.department_id)
    if f.area_id is not None:
        conditions.append(or_(Case.community_id == f.area_id, Case.town_id == f.area_id))
    if f.reporter_id is not None:
        conditions.append(Case.reporter_id == f.reporter_id)
    if f.period is not None:
        conditions.append(f.period.condition())
    if f.condition == "overdue":
        conditions.append(overdue_by(now))
    elif f.condition == "reworked":
        conditions.append(Case.rework_count > 0)
    if f.start is not None:
        conditions.append(Case.created_at >= f.start)
    if f.end is not None:
        conditions.append(Case.created_at < f.end)
    if f.text.strip():
        pattern = f"%{f.text.strip()}%"
        conditions.append(
            or_(
                Case.number.contains(f.text.strip()),
                Case.description.ilike(pattern),
                Case.address.ilike(pattern),
            )
        )
    return conditions


async def case_list(
    session: AsyncSession,
    actor: Actor,
    now: datetime,
    f: CaseFilter,
    offset: int = 0,
    limit: int = 50,
) -> tuple[int, list[Case]]:
    """How many cases match, and a page of them in the chosen order."""
    conditions = _list_conditions(actor, now, f)
    total = await session.scalar(select(func.count(Case.id)).where(*conditions))
    column = SORTABLE.get(f.sort, Case.deadline_at)
    order = [column.desc() if f.descending else column, Case.id.desc()]
    if f.sort not in SORTABLE or f.sort == "deadline":
        order.insert(0, Case.deadline_at.is_(None))  # cases without a deadline last
    query = select(Case).where(*conditions).order_by(*order).offset(offset).limit(limit)
    return total or 0, list((await session.scalars(query)).all())


@dataclass(frozen=True)
class NavCounts:
    """The counts beside the console's menu: what waits for this person."""

    open: int = 0
    new_tasks: int = 0  # dispatched, not yet accepted
    overdue: int = 0
    to_file: int = 0  # citizen reports and returned cases waiting for a dispatcher
    extensions: int = 0  # extension requests waiting for a decision


async def nav_counts(session: AsyncSession, actor: Actor, now: datetime) -> NavCounts:
    running = Case.status.in_(RUNNING)
    row = (
        await session.execute(
            select(
                func.count(),
                func.count().filter(Case.status == CaseStatus.DISPATCHED),
                func.count().filter(running, Case.deadline_at < now),
                func.count().filter(Case.status.in_((CaseStatus.REPORTED, CaseStatus.RETURNED))),
                func.count().filter(running, Case.extension_requested_until.is_not(None)),
            ).where(visible_to(actor), Case.status.in_(OPEN_STATUSES))
        )
    ).one()
    return NavCounts(*(int(n or 0) for n in row))
