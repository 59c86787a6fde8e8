"""The grid worker's menu: open cases with their lights, a case by number, and the verify
buttons on a resolved case (✅ closes it, ❌ sends it back with a note or photo)."""

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot import texts
from bot.callbacks import VerifyCb
from bot.context import BotContext
from bot.handlers import steps
from bot.handlers.common import attempt, drop_buttons, stale_text
from dispatch import queries
from dispatch.core.lifecycle import Action
from models import Person
from models.enums import Role


async def my_cases(message: Message, ctx: BotContext, person: Person) -> None:
    async with ctx.casework.sessions() as session:
        cases = await queries.cases.open_cases(session, person.id)
    if not cases:
        await message.answer(_("You have no open cases."))
        return
    locale = ctx.i18n.current_locale
    lines = [_("Your open cases:")]
    lines += [texts.overdue_line(ctx.casework.snapshot(c), locale, ctx.tz) for c in cases]
    lines.append(_("Details: /case N"))
    await message.answer("\n".join(lines))


async def case_details(message: Message, command: CommandObject, ctx: BotContext) -> None:
    if not command.args:
        await message.answer(_("Give the case number: /case N"))
        return
    case = await attempt(message, ctx.casework.find_case(command.args))
    if case is not None:
        snapshot = ctx.casework.snapshot(case)
        await message.answer(texts.summary(snapshot, ctx.i18n.current_locale, ctx.tz))


async def verify(
    query: CallbackQuery,
    callback_data: VerifyCb,
    state: FSMContext,
    ctx: BotContext,
    person: Person,
) -> None:
    case = await attempt(query, ctx.casework.find_case(str(callback_data.case_id)))
    if case is None:
        return
    if case.version != callback_data.version:
        await query.answer(stale_text(), show_alert=True)
        return
    if not callback_data.fixed:
        if case.reporter_id != person.id and person.role is not Role.DISPATCHER:
            await query.answer(_("Only the reporter may verify this case."), show_alert=True)
            return
        await query.answer()
        assert isinstance(query.message, Message)
        await steps.ask(query.message, state, Action.REWORK, case.id, case.number or "")
        return
    done = await attempt(
        query,
        ctx.casework.steps.act(Action.VERIFY, case.id, person.id, expected_version=case.version),
    )
    if done is None:
        return
    await query.answer(_("Case #{number} is closed.").format(number=done.number))
    if isinstance(query.message, Message):
        await drop_buttons(query.message)


def build() -> Router:
    router = Router(name="worker")
    router.message.register(my_cases, Command("my"))
    router.message.register(case_details, Command("case"))
    router.callback_query.register(verify, VerifyCb.filter())
    return router
