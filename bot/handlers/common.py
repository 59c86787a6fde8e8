"""Helpers the handlers share: replies for domain errors, and the cancel words."""

from collections.abc import Awaitable
from typing import TypeVar

from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.context import BotContext
from bot.i18n import LOCALES, render_error
from dispatch.errors import DomainError

T = TypeVar("T")


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
