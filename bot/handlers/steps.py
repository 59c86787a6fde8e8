"""Steps that need words or a photo after the button: return, transfer, resolve, extension
(office), rework (reporter), deny an extension and void (dispatcher). The pending step waits
in the FSM for the same user's reply."""

import re
from datetime import datetime, time, timedelta

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from bot import keyboards
from bot.context import BotContext
from bot.handlers.common import is_cancel, show_decision
from bot.i18n import render_error
from bot.texts import DECIDED
from dispatch.core.commands import RequestExtension, StepCommand, TransferTo
from dispatch.core.errors import N_, DomainError, InvalidInput
from dispatch.core.lifecycle import Action
from dispatch.intake import PhotoRef
from models import Person

DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

PROMPTS = {
    Action.RETURN: N_("Case #{number}: reply with the reason for returning it."),
    Action.TRANSFER: N_("Case #{number}: reply with the reason for the transfer."),
    Action.RESOLVE: N_("Case #{number}: reply with a photo of the result and a short note."),
    Action.REQUEST_EXTENSION: N_(
        "Case #{number}: reply with the extra days or the new date, and the reason "
        "(e.g. “3 waiting for parts” or “2026-12-01 waiting for parts”)."
    ),
    Action.REWORK: N_(
        "Case #{number}: reply with what is still wrong (a note, or a photo with a caption)."
    ),
    Action.DENY_EXTENSION: N_("Case #{number}: reply with the reason for denying the extension."),
    Action.VOID: N_("Case #{number}: reply with the reason for voiding the report."),
}
DONE = {
    Action.RETURN: N_("Case #{number} returned."),
    Action.TRANSFER: N_("Case #{number} transferred."),
    Action.RESOLVE: N_("Case #{number} resolved; the reporter will verify it."),
    Action.REQUEST_EXTENSION: N_("Extension for case #{number} requested."),
    Action.REWORK: N_("Case #{number} sent back to the office for rework."),
    Action.DENY_EXTENSION: DECIDED[Action.DENY_EXTENSION],
    Action.VOID: DECIDED[Action.VOID],
}


class Pending(StatesGroup):
    reply = State()


async def ask(
    message: Message,
    state: FSMContext,
    action: Action,
    case_id: int,
    number: str,
    **params: int,
) -> None:
    await state.set_state(Pending.reply)
    await state.set_data(
        {"action": action.value, "case_id": case_id, "number": number, "photos": [], **params}
    )
    await message.answer(
        _(PROMPTS[action]).format(number=number), reply_markup=keyboards.force_reply()
    )


class UnreadableExtension(ValueError):
    """The extension request is neither “days reason” nor “YYYY-MM-DD reason”."""


def parse_until(text: str, deadline: datetime | None, ctx: BotContext) -> tuple[datetime, str]:
    """“3 reason” (days added to the deadline) or “YYYY-MM-DD reason” (end of that day)."""
    head, _sep, reason = text.strip().partition(" ")
    if head.isdigit() and deadline is not None and 0 < int(head) <= 365:
        return deadline + timedelta(days=int(head)), reason.strip()
    if DATE.match(head):
        day = datetime.strptime(head, "%Y-%m-%d").date()
        return datetime.combine(day, time(23, 59), ctx.tz), reason.strip()
    raise UnreadableExtension


async def cancel(message: Message, state: FSMContext) -> None:
    await state.clear()
    await message.reply(_("Cancelled."))


async def photo(message: Message, state: FSMContext, ctx: BotContext, person: Person) -> None:
    assert message.photo
    best = message.photo[-1]
    if best.file_size and best.file_size > ctx.max_upload_bytes:
        await message.reply(
            _("This photo is too large (over {mb} MB); please send a smaller one.").format(
                mb=ctx.max_upload_bytes // (1024 * 1024)
            ),
            reply_markup=keyboards.force_reply(),
        )
        return
    data = await state.get_data()
    photos = [*data["photos"], {"ref": best.file_id, "size": best.file_size}]
    await state.update_data(photos=photos)
    if message.caption:
        await finish(message, state, ctx, person, message.caption)
    else:
        await message.reply(
            _("Photo received; now reply with a short note."), reply_markup=keyboards.force_reply()
        )


async def text(message: Message, state: FSMContext, ctx: BotContext, person: Person) -> None:
    if is_cancel(ctx, message.text):
        await cancel(message, state)
        return
    await finish(message, state, ctx, person, message.text or "")


async def other(message: Message, state: FSMContext) -> None:
    if message.document:
        await message.reply(
            _("Please send the picture as a photo, not as a file."),
            reply_markup=keyboards.force_reply(),
        )
        return
    data = await state.get_data()
    await message.reply(_(PROMPTS[Action(data["action"])]).format(number=data["number"]))


async def finish(
    message: Message, state: FSMContext, ctx: BotContext, person: Person, note: str
) -> None:
    """Runs the pending step; invalid input keeps it pending for another try."""
    data = await state.get_data()
    action = Action(data["action"])
    command: StepCommand = action
    if action is Action.TRANSFER:
        command = TransferTo(data["department_id"])
    photos = [
        PhotoRef(storage="telegram", ref=p["ref"], size_bytes=p.get("size")) for p in data["photos"]
    ]
    try:
        if action is Action.REQUEST_EXTENSION:
            case = await ctx.casework.find_case(str(data["case_id"]))
            until, note = parse_until(note, case.deadline_at, ctx)
            command = RequestExtension(until)
    except UnreadableExtension:
        await message.reply(
            _("Give the extra days or the new date (YYYY-MM-DD), then the reason."),
            reply_markup=keyboards.force_reply(),
        )
        return
    try:
        case = await ctx.casework.steps.act(
            command, data["case_id"], person.id, note, photos=photos
        )
    except InvalidInput as error:
        await message.reply(render_error(error), reply_markup=keyboards.force_reply())
        return
    except DomainError as error:
        await state.clear()
        await message.reply(render_error(error))
        return
    await state.clear()
    await message.reply(_(DONE[action]).format(number=data["number"]))
    if "message_id" in data:  # a dispatcher's message: it shows the decision from now on
        assert message.bot is not None
        await show_decision(
            message.bot, message.chat.id, data["message_id"], ctx, action, case, person, note
        )


def build() -> Router:
    router = Router(name="steps")
    router.message.register(cancel, Pending.reply, Command("cancel"))
    router.message.register(photo, Pending.reply, F.photo)
    router.message.register(text, Pending.reply, F.text)
    router.message.register(other, Pending.reply)
    return router
