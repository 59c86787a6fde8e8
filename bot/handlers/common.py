"""Helpers the handlers share: replies for domain errors, the cancel words, the case behind
a button, and editing a message in place."""

from collections.abc import Awaitable, Collection
from typing import TypeVar

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot import texts
from bot.context import BotContext
from bot.i18n import LOCALES, render_error
from dispatch.core.errors import DomainError
from dispatch.core.lifecycle import Action
from models import Case, Person

T = TypeVar("T")
# Telegram's answers to an edit that has nothing left to do: shown already, or deleted.
EDIT_MOOT = ("message is not modified", "message to edit not found")


async def attempt(event: Message | CallbackQuery, step: Awaitable[T]) -> T | None:
    """Runs a use case; a domain error is told to the user (an alert for a button)."""
    try:
        return await step
    except DomainError as error:
        text = render_error(error)
        if isinstance(event, CallbackQuery):
            await event.answer(text, show_alert=True)
        else:
            await event.reply(text)
        return None


def is_cancel(ctx: BotContext, text: str | None) -> bool:
    if not text:
        return False
    words = {ctx.i18n.gettext("Cancel", locale=locale) for locale in LOCALES}
    return text.strip() in words | {"/cancel"}


def stale_text() -> str:
    return _("This button is out of date: the case has changed since. Use the latest message.")


async def current_case(
    query: CallbackQuery, ctx: BotContext, case_id: int, version: int, statuses: Collection[str]
) -> Case | None:
    """The case, if the button still fits it: the version the message showed, or a status in
    which the button still makes sense. A clear alert otherwise."""
    case = await attempt(query, ctx.casework.find_case(str(case_id)))
    if case is None:
        return None
    if case.version != version and case.status.value not in statuses:
        await query.answer(stale_text(), show_alert=True)
        return None
    return case


async def edited(step: Awaitable[object]) -> None:
    """An edit of a message; one that is moot (no change, message deleted) is fine."""
    try:
        await step
    except TelegramBadRequest as exc:
        if not any(reason in exc.message.lower() for reason in EDIT_MOOT):
            raise


async def drop_buttons(message: Message) -> None:
    await edited(message.edit_reply_markup(reply_markup=None))


async def show_decision(
    bot: Bot,
    chat_id: int,
    message_id: int,
    ctx: BotContext,
    action: Action,
    case: Case,
    person: Person,
    note: str = "",
) -> None:
    """Re-renders a dispatcher's message in place with the decision taken on it."""
    payload = {**ctx.casework.snapshot(case), "note": note.strip(), "actor": person.name}
    text = texts.decision(action, payload, ctx.i18n.current_locale, ctx.tz)
    await edited(bot.edit_message_text(text=text, chat_id=chat_id, message_id=message_id))
