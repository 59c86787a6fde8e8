"""Last in line: buttons nobody understood (tampered, or from a bot version long gone), and
private messages no step is waiting for (a photo or a location out of the blue)."""

from aiogram import F, Router
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.handlers.registration import help_text
from models import Person


async def unknown_button(query: CallbackQuery) -> None:
    await query.answer(_("This button is not valid any more."), show_alert=True)


async def unexpected(message: Message, person: Person) -> None:
    """Only members get this far: the members' gate has answered anyone else."""
    await message.answer(_("Nothing is waiting for that now.") + "\n\n" + help_text(person.role))


def build() -> Router:
    router = Router(name="fallback")
    router.callback_query.register(unknown_button)
    router.message.register(unexpected, F.chat.type == "private")
    return router
