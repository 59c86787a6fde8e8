"""Group chats that change: when a bound group is upgraded to a supergroup, Telegram tells
the old chat (migrate_to_chat_id) and the new one (migrate_from_chat_id); either moves the
binding, so cards and alerts keep arriving. Whoever upgraded it need not be registered."""

import logging

from aiogram import F, Router
from aiogram.types import Message

from bot.context import CHANNEL, BotContext
from dispatch.chat_bindings import migrate_chat

log = logging.getLogger("gridgov.bot")


async def migrated(message: Message, ctx: BotContext) -> None:
    if message.migrate_to_chat_id:
        old, new = message.chat.id, message.migrate_to_chat_id
    else:
        assert message.migrate_from_chat_id is not None
        old, new = message.migrate_from_chat_id, message.chat.id
    if await migrate_chat(ctx.casework.sessions, CHANNEL, str(old), str(new)):
        log.info("chat %s moved to %s (supergroup)", old, new)


def build() -> Router:
    router = Router(name="chats")
    router.message.register(migrated, F.migrate_to_chat_id | F.migrate_from_chat_id)
    return router
