"""Steps that need words or a photo after the button: return, transfer, resolve, extension
(office), rework (reporter), deny an extension and void (dispatcher). The pending step waits
in the draft for the same person's answer in the same chat."""

import re
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.conversation.i18n import N_, _, render_error
from bot.conversation.io import Inbound, Other, Photo, Text
from bot.conversation.render import DECIDED, decision
from bot.conversation.report import is_cancel, stored, too_large, too_large_text
from bot.conversation.turn import Turn
from dispatch.core.commands import RequestExtension, StepCommand, TransferTo, Void
from dispatch.core.errors import DomainError, InvalidInput
from dispatch.core.lifecycle import Action
from dispatch.intake import PhotoRef
from models import Case, CategoryCondition
from models.enums import ConditionKind

PENDING = "pending"
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


async def ask(
    t: Turn, action: Action, case: Case, choices: list[str] | None = None, **params: int | str
) -> None:
    """Asks for the step's note; `choices` are numbered for the reply to pick one."""
    number = case.number or ""
    await t.start(
        PENDING,
        action=action.value,
        case_id=case.id,
        number=number,
        photos=[],
        choices=choices or [],
        **params,
    )
    t.reply(prompt(t.draft.data), expects_reply=True)


def prompt(d: dict[str, Any]) -> str:
    """The pending step's question, with its numbered choices if any."""
    text = _(PROMPTS[Action(d["action"])]).format(number=d["number"])
    if d.get("choices"):
        text += "\n" + _("Start the reply with the number of the condition not met:")
        text += "".join(f"\n{n}. {choice}" for n, choice in enumerate(d["choices"], 1))
    return text


def conditions(t: Turn, case: Case, kind: ConditionKind) -> list[CategoryCondition]:
    """The case's category's filing or closing conditions (立案/结案条件), in order."""
    category = t.casework.catalog.categories_by_id[case.category_id]
    return t.casework.catalog.conditions_for(category, kind)


def picked_condition(note: str, offered: list[CategoryCondition]) -> tuple[int | None, str]:
    """“2 the rest of the note” → the second condition's id, and the note (its text if no
    more is said)."""
    head, _sep, rest = note.strip().partition(" ")
    if head.isdigit() and 1 <= int(head) <= len(offered):
        chosen = offered[int(head) - 1]
        return chosen.id, rest.strip() or chosen.text_zh
    return None, note


class UnreadableExtension(ValueError):
    """The extension request is neither “days reason” nor “YYYY-MM-DD reason”."""


def parse_until(text: str, deadline: datetime | None, tz: ZoneInfo) -> tuple[datetime, str]:
    """“3 reason” (days added to the deadline) or “YYYY-MM-DD reason” (end of that day)."""
    head, _sep, reason = text.strip().partition(" ")
    if head.isdigit() and deadline is not None and 0 < int(head) <= 365:
        return deadline + timedelta(days=int(head)), reason.strip()
    if DATE.match(head):
        try:
            day = datetime.strptime(head, "%Y-%m-%d").date()
        except ValueError as exc:
            raise UnreadableExtension from exc
        return datetime.combine(day, time(23, 59), tz), reason.strip()
    raise UnreadableExtension


async def on_message(t: Turn, event: Inbound) -> None:
    if is_cancel(event):
        await t.clear()
        t.reply(_("Cancelled."))
        return
    if isinstance(event, Photo):
        if too_large(t, event):
            t.reply(too_large_text(t), expects_reply=True)
            return
        await t.save(PENDING, photos=[*t.draft.data["photos"], stored(event)])
        if event.caption:
            await finish(t, event.caption)
        else:
            t.reply(_("Photo received; now reply with a short note."), expects_reply=True)
    elif isinstance(event, Text):
        await finish(t, event.text)
    elif isinstance(event, Other) and event.kind == "document":
        t.reply(_("Please send the picture as a photo, not as a file."), expects_reply=True)
    else:
        t.reply(prompt(t.draft.data), expects_reply=True)


async def finish(t: Turn, note: str) -> None:
    """Runs the pending step; invalid input keeps it pending for another try."""
    d = t.draft.data
    action = Action(d["action"])
    command: StepCommand = action
    if action is Action.TRANSFER:
        command = TransferTo(d["department_id"])
    photos = [
        PhotoRef(storage=p.get("storage", "telegram"), ref=p["ref"], size_bytes=p.get("size"))
        for p in d["photos"]
    ]
    try:
        if action is Action.REQUEST_EXTENSION:
            case = await t.casework.find_case(str(d["case_id"]))
            until, note = parse_until(note, case.deadline_at, t.ctx.tz)
            command = RequestExtension(until)
        if action is Action.VOID:
            case = await t.casework.find_case(str(d["case_id"]))
            offered = conditions(t, case, ConditionKind.FILING)
            if offered:
                condition, note = picked_condition(note, offered)
                command = Void(condition)
    except UnreadableExtension:
        t.reply(
            _("Give the extra days or the new date (YYYY-MM-DD), then the reason."),
            expects_reply=True,
        )
        return
    try:
        case = await t.casework.steps.act(command, d["case_id"], t.me.id, note, photos=photos)
    except InvalidInput as error:
        t.reply(render_error(error), expects_reply=True)
        return
    except DomainError as error:
        await t.clear()
        t.reply(render_error(error))
        return
    await t.clear()
    t.reply(_(DONE[action]).format(number=d["number"], department=""))
    if d.get("message_id"):  # a dispatcher's message: it shows the decision from now on
        t.message_id = d["message_id"]
        payload = {**t.casework.snapshot(case), "note": note.strip(), "actor": t.me.name}
        t.edit(decision(action, payload, t.locale, t.ctx.tz))
