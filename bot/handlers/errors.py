"""The last resort: a failure nobody foresaw is logged, and the user is asked to try again
instead of hearing nothing."""

import contextlib
import logging

from aiogram import Router
from aiogram.exceptions import TelegramAPIError
from aiogram.types import ErrorEvent, User
from aiogram.utils.i18n import gettext as _

from bot.context import BotContext
from bot.i18n import normalise_locale

log = logging.getLogger("gridgov.bot")


async def failed(event: ErrorEvent, ctx: BotContext, event_from_user: User | None = None) -> None:
    update = event.update
    log.error("update %s failed", update.update_id, exc_info=event.exception)
    locale = normalise_locale(event_from_user.language_code if event_from_user else None)
    with ctx.i18n.context(), ctx.i18n.use_locale(locale), contextlib.suppress(TelegramAPIError):
        text = _("Sorry, something went wrong. Please try again.")
        if update.callback_query is not None:
            await update.callback_query.answer(text, show_alert=True)
        elif update.message is not None and update.message.chat.type == "private":
            await update.message.answer(text)


def build() -> Router:
    router = Router(name="errors")
    router.errors.register(failed)
    return router
