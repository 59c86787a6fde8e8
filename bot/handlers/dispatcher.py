"""Dispatchers (派遣员) decide on the messages they receive: approve or deny an extension,
re-dispatch a returned case, file and dispatch a citizen's report, or void it. Only
dispatchers may press these buttons; the message is re-rendered in place once decided."""

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from bot import keyboards
from bot.callbacks import CaseCb, DispatchCb, ExtensionCb
from bot.context import BotContext
from bot.handlers import steps
from bot.handlers.common import attempt, current_case, edited, show_decision, stale_text
from bot.i18n import render_error
from dispatch.core.commands import DispatchTo
from dispatch.core.errors import DomainError
from dispatch.core.lifecycle import Action
from models import Case, Person
from models.enums import Role

# The statuses in which each button still makes sense, whatever else changed since.
BUTTON_STATUS = {
    Action.FILE: ("reported",),
    Action.VOID: ("reported",),
    Action.DISPATCH: ("returned", "filed"),
}
DISPATCHER_ACTIONS = {a.value for a in BUTTON_STATUS}


async def _dispatcher(query: CallbackQuery, person: Person) -> Message | None:
    """The message the button is on, if a dispatcher pressed it; an alert for anyone else."""
    if person.role is not Role.DISPATCHER:
        await query.answer(_("Only dispatchers may do this."), show_alert=True)
        return None
    if not isinstance(query.message, Message):  # deleted, or too old to be shown
        await query.answer(_("This button is not valid any more."), show_alert=True)
        return None
    return query.message


def _offices(case: Case, ctx: BotContext) -> InlineKeyboardMarkup:
    """The offices to send the case to; not the one that returned it."""
    return keyboards.departments(
        (d for d in ctx.casework.catalog.departments.values() if d.id != case.department_id),
        ctx.i18n.current_locale,
        lambda d: DispatchCb(case_id=case.id, version=case.version, department_id=d).pack(),
    )


async def _decided(
    query: CallbackQuery,
    message: Message,
    ctx: BotContext,
    action: Action,
    case: Case,
    person: Person,
) -> None:
    await query.answer()
    assert message.bot is not None
    await show_decision(message.bot, message.chat.id, message.message_id, ctx, action, case, person)


async def case_button(
    query: CallbackQuery,
    callback_data: CaseCb,
    state: FSMContext,
    ctx: BotContext,
    person: Person,
) -> None:
    action = Action(callback_data.action)
    message = await _dispatcher(query, person)
    if message is None:
        return
    case = await current_case(
        query, ctx, callback_data.case_id, callback_data.version, BUTTON_STATUS[action]
    )
    if case is None:
        return
    if action is Action.VOID:
        await query.answer()
        await steps.ask(
            message, state, action, case.id, case.number or "", message_id=message.message_id
        )
        return
    if action is Action.DISPATCH:
        await query.answer()
        await edited(message.edit_reply_markup(reply_markup=_offices(case, ctx)))
        return
    await file_and_dispatch(query, message, ctx, case, person)


async def file_and_dispatch(
    query: CallbackQuery, message: Message, ctx: BotContext, case: Case, person: Person
) -> None:
    """立案 then 派遣 to the office the routing rules name; when none is named (or the
    dispatch fails), the filed case waits for the dispatcher to choose the office."""
    filed = await attempt(
        query,
        ctx.casework.steps.act(Action.FILE, case.id, person.id, expected_version=case.version),
    )
    if filed is None:
        return
    try:
        done = await ctx.casework.steps.act(
            Action.DISPATCH, case.id, person.id, expected_version=filed.version
        )
    except DomainError as error:
        await query.answer(render_error(error), show_alert=True)
        await edited(message.edit_reply_markup(reply_markup=_offices(filed, ctx)))
        return
    await _decided(query, message, ctx, Action.DISPATCH, done, person)


async def dispatch_to(
    query: CallbackQuery, callback_data: DispatchCb, ctx: BotContext, person: Person
) -> None:
    message = await _dispatcher(query, person)
    if message is None:
        return
    case = await current_case(
        query, ctx, callback_data.case_id, callback_data.version, BUTTON_STATUS[Action.DISPATCH]
    )
    if case is None:
        return
    if callback_data.department_id not in ctx.casework.catalog.departments:
        await query.answer(_("This button is not valid any more."), show_alert=True)
        return
    done = await attempt(
        query,
        ctx.casework.steps.act(
            DispatchTo(callback_data.department_id),
            case.id,
            person.id,
            expected_version=case.version,
        ),
    )
    if done is not None:
        await _decided(query, message, ctx, Action.DISPATCH, done, person)


async def extension(
    query: CallbackQuery,
    callback_data: ExtensionCb,
    state: FSMContext,
    ctx: BotContext,
    person: Person,
) -> None:
    message = await _dispatcher(query, person)
    if message is None:
        return
    case = await attempt(query, ctx.casework.find_case(str(callback_data.case_id)))
    if case is None:
        return
    pending = case.extension_requested_until
    if pending is None or int(pending.timestamp()) != callback_data.until:
        await query.answer(stale_text(), show_alert=True)
        return
    if not callback_data.approve:
        await query.answer()
        await steps.ask(
            message,
            state,
            Action.DENY_EXTENSION,
            case.id,
            case.number or "",
            message_id=message.message_id,
        )
        return
    done = await attempt(
        query,
        ctx.casework.steps.act(
            Action.APPROVE_EXTENSION, case.id, person.id, expected_version=case.version
        ),
    )
    if done is not None:
        await _decided(query, message, ctx, Action.APPROVE_EXTENSION, done, person)


def build() -> Router:
    router = Router(name="dispatcher")
    router.callback_query.register(case_button, CaseCb.filter(F.action.in_(DISPATCHER_ACTIONS)))
    router.callback_query.register(dispatch_to, DispatchCb.filter())
    router.callback_query.register(extension, ExtensionCb.filter())
    return router
