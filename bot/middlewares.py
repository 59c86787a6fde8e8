"""Middlewares: each update at most once, who is writing, and in which language."""

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import CallbackQuery, Message, TelegramObject, Update, User
from aiogram.utils.i18n import I18nMiddleware
from aiogram.utils.i18n import gettext as _
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from bot.context import CHANNEL, BotContext
from bot.i18n import normalise_locale
from bot.storage import autocommit
from dispatch.registration import person_for_chat
from models import Person, ProcessedUpdate

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class IdempotencyMiddleware(BaseMiddleware):
    """Records the update id first, in one autocommitted statement; a redelivered update is
    dropped."""

    def __init__(self, ctx: BotContext) -> None:
        self.sessions = ctx.casework.sessions
        self.clock = ctx.casework.clock

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        assert isinstance(event, Update)
        async with autocommit(self.sessions) as session:
            insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
            result = await session.execute(
                insert(ProcessedUpdate)
                .values(channel=CHANNEL, update_id=str(event.update_id), processed_at=self.clock())
                .on_conflict_do_nothing()
            )
        if not result.rowcount:
            return None
        return await handler(event, data)


class IdentityMiddleware(BaseMiddleware):
    """Puts the registered person behind the Telegram user into `data["person"]` (or None)."""

    def __init__(self, ctx: BotContext) -> None:
        self.sessions = ctx.casework.sessions

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        person = None
        if user is not None:
            async with autocommit(self.sessions) as session:
                person = await person_for_chat(session, CHANNEL, str(user.id))
        data["person"] = person
        return await handler(event, data)


class LocaleMiddleware(I18nMiddleware):
    """A registered person's language, else the Telegram client's."""

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        person: Person | None = data.get("person")
        if person is not None:
            return normalise_locale(person.locale)
        user: User | None = data.get("event_from_user")
        return normalise_locale(user.language_code if user else None)


class RequirePerson(BaseMiddleware):
    """Members only: anyone else is told how to register, and nothing else happens."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        if data.get("person") is not None:
            return await handler(event, data)
        text = _("You are not registered yet. Ask your administrator for an invite: /start CODE")
        if isinstance(event, CallbackQuery):
            await event.answer(text, show_alert=True)
        elif isinstance(event, Message) and event.chat.type == "private":
            await event.answer(text)
        return None
