"""The aiogram routers: group chats that move (supergroup upgrade), then every message and
button press through the conversation core, and the last resort for failures."""

import contextlib
import logging

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.types import CallbackQuery, ErrorEvent, Message, User
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.conversation import Conversation
from bot.conversation.i18n import normalise_locale, translate
from bot.conversation.io import Outbound, Reply, Sender
from bot.telegram.answers import first_toast, perform
from bot.telegram.updates import CHANNEL, event_of, press_of, sender
from dispatch.chat_bindings import migrate_chat

log = logging.getLogger("gridgov.bot")


async def _perform(bot: Bot, conversation: Conversation, who: Sender, answers: list[Outbound]):
    asks = any(isinstance(a, Reply) and a.ask_location for a in answers)
    locale = await conversation.locale_of(who) if asks else ""
    await perform(bot, who.chat_id, answers, locale, private=not who.is_group)


def build_router(conversation: Conversation, sessions: async_sessionmaker[AsyncSession]) -> Router:
    router = Router(name="telegram")

    async def migrated(message: Message) -> None:
        """A bound group upgraded to a supergroup: the binding follows it. Telegram tells the
        old chat (migrate_to_chat_id) and the new one (migrate_from_chat_id)."""
        if message.migrate_to_chat_id:
            old, new = message.chat.id, message.migrate_to_chat_id
        else:
            assert message.migrate_from_chat_id is not None
            old, new = message.migrate_from_chat_id, message.chat.id
        if await migrate_chat(sessions, CHANNEL, str(old), str(new)):
            log.info("chat %s moved to %s (supergroup)", old, new)

    async def on_message(message: Message, bot: Bot) -> None:
        if message.from_user is None:
            return
        who = sender(message.from_user, message.chat)
        answers = await conversation.handle(who, event_of(message))
        await _perform(bot, conversation, who, answers)

    async def on_press(query: CallbackQuery, bot: Bot) -> None:
        chat = query.message.chat if query.message is not None else None
        who = sender(query.from_user, chat)
        answers = await conversation.handle(who, press_of(query))
        toast = first_toast(answers)
        if toast is None:
            await query.answer()
        else:
            await query.answer(toast.text, show_alert=toast.alert)
        await _perform(bot, conversation, who, answers)

    async def failed(event: ErrorEvent, event_from_user: User | None = None) -> None:
        update = event.update
        log.error("update %s failed", update.update_id, exc_info=event.exception)
        locale = normalise_locale(event_from_user.language_code if event_from_user else None)
        text = translate("Sorry, something went wrong. Please try again.", locale)
        with contextlib.suppress(TelegramAPIError):
            if update.callback_query is not None:
                await update.callback_query.answer(text, show_alert=True)
            elif update.message is not None and update.message.chat.type == "private":
                await update.message.answer(text)

    router.message.register(migrated, F.migrate_to_chat_id | F.migrate_from_chat_id)
    router.message.register(on_message)
    router.callback_query.register(on_press)
    router.errors.register(failed)
    return router
