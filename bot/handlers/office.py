"""The office group chat: the buttons of the task card. Only bound members of that office
may press them; the card itself is edited in place by the outbox as the case moves."""

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot import keyboards
from bot.callbacks import CaseCb, TransferCb
from bot.context import CHANNEL, BotContext
from bot.handlers import steps
from bot.handlers.common import attempt, current_case, drop_buttons
from dispatch import queries
from dispatch.core.lifecycle import Action
from models import Person
from models.enums import ChatKind

# The status a card shows when it offers the button: an old card is refused.
BUTTON_STATUS = {
    Action.ACCEPT: "dispatched",
    Action.RETURN: "dispatched",
    Action.TRANSFER: "dispatched",
    Action.RESOLVE: "accepted",
    Action.REQUEST_EXTENSION: "accepted",
}
OFFICE_ACTIONS = {a.value for a in BUTTON_STATUS}


async def _member(query: CallbackQuery, ctx: BotContext, person: Person) -> bool:
    """In a group, the group must be bound to an office and the person must belong to it."""
    if query.message is None or query.message.chat.type == "private":
        return True
    async with ctx.casework.sessions() as session:
        binding = await queries.chats.chat_binding(session, CHANNEL, str(query.message.chat.id))
    if (
        binding is None
        or binding.kind is not ChatKind.OFFICE
        or binding.department_id != person.department_id
    ):
        await query.answer(_("Only members of this office may do this."), show_alert=True)
        return False
    return True


async def card_button(
    query: CallbackQuery,
    callback_data: CaseCb,
    state: FSMContext,
    ctx: BotContext,
    person: Person,
) -> None:
    action = Action(callback_data.action)
    if not await _member(query, ctx, person):
        return
    case = await current_case(
        query, ctx, callback_data.case_id, callback_data.version, (BUTTON_STATUS[action],)
    )
    if case is None:
        return
    if action is Action.ACCEPT:
        done = await attempt(query, ctx.casework.steps.act(Action.ACCEPT, case.id, person.id))
        if done is not None:
            await query.answer(_("Case #{number} accepted.").format(number=done.number))
        return
    if action is Action.TRANSFER:
        departments = [
            d for d in ctx.casework.catalog.departments.values() if d.id != case.department_id
        ]
        await query.answer()
        assert isinstance(query.message, Message)
        await query.message.reply(
            _("Case #{number}: transfer to which office?").format(number=case.number),
            reply_markup=keyboards.departments(
                departments,
                ctx.i18n.current_locale,
                lambda d: TransferCb(case_id=case.id, version=case.version, department_id=d).pack(),
            ),
        )
        return
    await query.answer()
    assert isinstance(query.message, Message)
    await steps.ask(query.message, state, action, case.id, case.number or "")


async def transfer_to(
    query: CallbackQuery,
    callback_data: TransferCb,
    state: FSMContext,
    ctx: BotContext,
    person: Person,
) -> None:
    if not await _member(query, ctx, person):
        return
    case = await current_case(
        query, ctx, callback_data.case_id, callback_data.version, (BUTTON_STATUS[Action.TRANSFER],)
    )
    if case is None:
        return
    if callback_data.department_id not in ctx.casework.catalog.departments:
        await query.answer(_("This button is not valid any more."), show_alert=True)
        return
    await query.answer()
    assert isinstance(query.message, Message)
    await drop_buttons(query.message)
    await steps.ask(
        query.message,
        state,
        Action.TRANSFER,
        case.id,
        case.number or "",
        department_id=callback_data.department_id,
    )


def build() -> Router:
    router = Router(name="office")
    router.callback_query.register(card_button, CaseCb.filter(F.action.in_(OFFICE_ACTIONS)))
    router.callback_query.register(transfer_to, TransferCb.filter())
    return router
