"""/start CODE binds a Telegram user to a person; /bind CODE binds a group chat to an office;
/lang switches the language."""

from aiogram import F, Router
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from bot.context import CHANNEL, BotContext
from bot.handlers.common import attempt
from bot.i18n import normalise_locale
from dispatch import queries
from dispatch.registration import redeem_chat_invite, redeem_person_invite
from models import Person
from models.enums import Role


def help_text(role: Role) -> str:
    lines = {
        Role.GRID_WORKER: _("/report – report an incident\n/my – my open cases\n/case N – details"),
        Role.OFFICE_MEMBER: _("Tasks arrive in your office group with buttons.\n/case N – details"),
        Role.SUPERVISOR: _("/overdue – overdue cases\n/stats – figures\n/case N – details"),
    }
    return lines.get(role, _("/case N – details")) + "\n" + _("/lang en|zh – language")


async def start(message: Message, command: CommandObject, ctx: BotContext, person: Person | None):
    code = (command.args or "").strip()
    if not code:
        if person is None:
            await message.answer(
                _(
                    "Welcome! You are not registered yet. Ask your administrator for an invite "
                    "and send: /start CODE"
                )
            )
        else:
            await message.answer(help_text(person.role))
        return
    assert message.from_user is not None
    locale = normalise_locale(message.from_user.language_code)

    async def redeem() -> Person:
        async with ctx.casework.sessions() as session, session.begin():
            found = await redeem_person_invite(
                session, code, CHANNEL, str(message.from_user.id), ctx.casework.clock()
            )
            found.locale = locale
            return found

    registered = await attempt(message, redeem())
    if registered is None:
        return
    with ctx.i18n.use_locale(locale):
        await message.answer(
            _("Welcome, {name}! You are registered.").format(name=registered.name)
            + "\n\n"
            + help_text(registered.role)
        )


async def bind(message: Message, command: CommandObject, ctx: BotContext) -> None:
    code = (command.args or "").strip()
    if not code:
        await message.reply(_("Send the office's invite code: /bind CODE"))
        return

    async def redeem() -> str:
        async with ctx.casework.sessions() as session, session.begin():
            binding = await redeem_chat_invite(
                session,
                code,
                CHANNEL,
                str(message.chat.id),
                message.chat.title or "",
                ctx.casework.clock(),
            )
            if binding.department_id:
                return ctx.casework.catalog.department_name(binding.department_id)
            return ctx.casework.catalog.area_name(binding.area_id) or _("the county")

    name = await attempt(message, redeem())
    if name is not None:
        await message.reply(_("This chat is now bound to {name}.").format(name=name))


async def lang(message: Message, command: CommandObject, ctx: BotContext, person: Person | None):
    if person is None:
        await message.answer(
            _("You are not registered yet. Ask your administrator for an invite: /start CODE")
        )
        return
    locale = normalise_locale(command.args or ("zh" if person.locale == "en" else "en"))
    async with ctx.casework.sessions() as session, session.begin():
        await queries.people.set_locale(session, person.id, locale)
    with ctx.i18n.use_locale(locale):
        await message.answer(_("Language: English"))


def build() -> Router:
    router = Router(name="registration")
    router.message.register(start, CommandStart(), F.chat.type == "private")
    router.message.register(bind, Command("bind"), F.chat.type.in_({"group", "supergroup"}))
    router.message.register(lang, Command("lang"))
    return router
