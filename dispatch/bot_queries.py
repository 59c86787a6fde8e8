"""Queries for the chat front ends: a person's open cases and favourite categories, a group
chat's binding, a report by its sender's id, a person's language, and the purge of stale
conversations and update ids."""

from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from models import OPEN_STATUSES, Case, Category, ChatBinding, ChatState, Person, ProcessedUpdate
from models.enums import CaseSource


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


async def chat_binding(session: AsyncSession, channel: str, chat_id: str) -> ChatBinding | None:
    return await session.scalar(
        select(ChatBinding).where(ChatBinding.channel == channel, ChatBinding.chat_id == chat_id)
    )


async def set_locale(session: AsyncSession, person_id: int, locale: str) -> None:
    await session.execute(update(Person).where(Person.id == person_id).values(locale=locale))


async def purge_chat_states(session: AsyncSession, older_than: datetime) -> int:
    """Forgets conversations (report drafts, pending replies) untouched since `older_than`:
    the storage ignores them after the draft TTL anyway."""
    result = await session.execute(delete(ChatState).where(ChatState.updated_at < older_than))
    return result.rowcount or 0


async def purge_processed_updates(session: AsyncSession, older_than: datetime) -> int:
    """Forgets the ids of updates handled before `older_than`; Telegram redelivers an update
    for a day at most, so two days of them are enough to drop every repeat."""
    result = await session.execute(
        delete(ProcessedUpdate).where(ProcessedUpdate.processed_at < older_than)
    )
    return result.rowcount or 0
