"""Read-side queries of the supervision pages, scoped by the actor."""

from sqlalchemy import ColumnElement, false, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from dispatch.core.actors import Actor
from models import Case, CaseReview, RectificationNotice
from models.enums import NoticeStatus, Role


def notices_visible_to(actor: Actor) -> ColumnElement[bool]:
    """An office sees its own notices; supervisors those of cases in their area."""
    if actor.role is Role.ADMIN:
        return true()
    if actor.role is Role.OFFICE_MEMBER:
        return RectificationNotice.department_id == (actor.department_id or -1)
    if actor.role is not Role.SUPERVISOR:
        return false()
    if actor.area_id is None:
        return true()
    return or_(Case.community_id == actor.area_id, Case.town_id == actor.area_id)


async def notices(
    session: AsyncSession, actor: Actor, open_only: bool = False, limit: int = 200
) -> list[RectificationNotice]:
    query = (
        select(RectificationNotice)
        .join(Case, Case.id == RectificationNotice.case_id)
        .options(selectinload(RectificationNotice.case))
        .where(notices_visible_to(actor))
        .order_by(RectificationNotice.deadline_at)
        .limit(limit)
    )
    if open_only:
        query = query.where(RectificationNotice.status != NoticeStatus.ACCEPTED)
    return list((await session.scalars(query)).all())


async def notice_for(
    session: AsyncSession, actor: Actor, notice_id: int
) -> RectificationNotice | None:
    return await session.scalar(
        select(RectificationNotice)
        .join(Case, Case.id == RectificationNotice.case_id)
        .options(selectinload(RectificationNotice.case), selectinload(RectificationNotice.review))
        .where(RectificationNotice.id == notice_id, notices_visible_to(actor))
    )


async def recent_reviews(session: AsyncSession, actor: Actor, limit: int = 50) -> list[CaseReview]:
    query = (
        select(CaseReview)
        .join(Case, Case.id == CaseReview.case_id)
        .options(selectinload(CaseReview.case))
        .order_by(CaseReview.reviewed_at.desc())
        .limit(limit)
    )
    if actor.area_id is not None:
        query = query.where(or_(Case.community_id == actor.area_id, Case.town_id == actor.area_id))
    return list((await session.scalars(query)).all())
