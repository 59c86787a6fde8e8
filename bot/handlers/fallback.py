"""Last in line: buttons nobody understood (tampered, or from a bot version long gone)."""

from aiogram import Router
from aiogram.types import CallbackQuery
from aiogram.utils.i18n import gettext as _


async def unknown_button(query: CallbackQuery) -> None:
    await query.answer(_("This button is not valid any more."), show_alert=True)


def build() -> Router:
    router = Router(name="fallback")
    router.callback_query.register(unknown_button)
    return router
