"""A bound group chat that changes its id: Telegram upgrades a group to a supergroup, and
the old id is dead from then on. The binding follows the chat to its new id."""

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models import CaseChatMessage, ChatBinding, OutboxMessage
from models.enums import OutboxStatus


async def migrate_chat(
    sessions: async_sessionmaker[AsyncSession], channel: str, old_chat_id: str, new_chat_id: str
) -> bool:
    """Moves the binding of `old_chat_id` to `new_chat_id` and re-addresses the messages still
    waiting for it, in one transaction; True when a binding moved. The case messages shown in
    the old chat are forgotten (their ids mean nothing in the new one): the next step of each
    case posts its card afresh. Running it again, or for an unbound chat, changes nothing."""
    async with sessions() as session, session.begin():
        old = ChatBinding.channel == channel, ChatBinding.chat_id == old_chat_id
        taken = await session.scalar(
            select(ChatBinding.id).where(
                ChatBinding.channel == channel, ChatBinding.chat_id == new_chat_id
            )
        )
        if taken is None:
            result = await session.execute(
                update(ChatBinding).where(*old).values(chat_id=new_chat_id)
            )
        else:  # the new chat was bound on its own already: that binding stands
            result = await session.execute(delete(ChatBinding).where(*old))
        await session.execute(
            delete(CaseChatMessage).where(
                CaseChatMessage.channel == channel, CaseChatMessage.chat_id == old_chat_id
            )
        )
        await session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.channel == channel,
                OutboxMessage.address == old_chat_id,
                OutboxMessage.status == OutboxStatus.PENDING,
            )
            .values(address=new_chat_id)
        )
        return taken is None and bool(result.rowcount)
