"""Group chats and conversations: a chat's binding, the bindings list, and the purge of
stale drafts and update ids."""

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    ChatBinding,
    ChatState,
    ProcessedUpdate,
)


async def chat_binding(session: AsyncSession, channel: str, chat_id: str) -> ChatBinding | None:
    return await session.scalar(
        select(ChatBinding).where(ChatBinding.channel == channel, ChatBinding.chat_id == chat_id)
    )


async def chat_bindings(session: AsyncSession, offset: int, limit: int) -> list[ChatBinding]:
    query = select(ChatBinding).order_by(ChatBinding.id).offset(offset).limit(limit)
    return list((await session.scalars(query)).all())


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
