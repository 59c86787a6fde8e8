"""Cases: a reporter's open cases and favourite categories, a case by number or by its
sender's id, an actor's inbox and queues, a case's timeline, the overdue list, the map."""

from datetime import datetime

from sqlalchemy import ColumnElement, and_, false, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from dispatch.core.actors import Actor
from dispatch.core.deadlines import RUNNING
from models import OPEN_STATUSES, Case, CaseEvent, Category
from models.enums import CaseSource, CaseStatus, Role

LIGHTS = ("red", "yellow", "green")


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
