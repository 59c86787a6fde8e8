"""Buttons on case messages: the office card (签收/退回/移送/办结/申请延期, members of the
case's office only), the dispatcher's decisions (立案并派遣/作废/改派, extension 批准/驳回),
the reporter's verification (✅/❌) and the supervisor's 督办. Every press is checked before
anything is shown: the signature (a forged button reveals nothing), the presser's role and
office, and the case version the message showed (an old button is told so)."""

from collections.abc import Collection, Iterable

from bot.conversation import buttons as data
from bot.conversation import steps
from bot.conversation.buttons import BadButton, CaseButton
from bot.conversation.i18n import _, render_error
from bot.conversation.io import Button, Buttons
from bot.conversation.render import decision
from bot.conversation.turn import Turn
from dispatch import queries
from dispatch.core.commands import DispatchTo, Verify
from dispatch.core.errors import DomainError
from dispatch.core.lifecycle import Action
from models import Case, Department
from models.enums import ChatKind, ConditionKind, Role

# The statuses in which each button still makes sense, whatever else changed since.
OFFICE_STATUS = {
    Action.ACCEPT: ("dispatched",),
    Action.RETURN: ("dispatched",),
    Action.TRANSFER: ("dispatched",),
    Action.RESOLVE: ("accepted",),
    Action.REQUEST_EXTENSION: ("accepted",),
}
DISPATCHER_STATUS = {
    Action.FILE: ("reported",),
    Action.VOID: ("reported",),
    Action.DISPATCH: ("returned", "filed"),
}


def not_valid() -> str:
    return _("This button is not valid any more.")


def stale() -> str:
    return _("This button is out of date: the case has changed since. Use the latest message.")


async def on_press(t: Turn, raw: str) -> None:
    try:
        button = data.parse_case_button(t.ctx.signer, raw)
        action = Action(button.action) if button.kind == "c" else None
    except (BadButton, ValueError):
        t.toast(not_valid(), alert=True)
        return
    if action in OFFICE_STATUS or button.kind == "t":
        await office(t, button, action)
    elif action in DISPATCHER_STATUS or button.kind in ("d", "x"):
        await dispatcher(t, button, action)
    elif button.kind == "v":
        await verify(t, button)
    elif action is Action.URGE:
        await urge(t, button)
    else:
        t.toast(not_valid(), alert=True)


async def checked(t: Turn, button: CaseButton, statuses: Collection[str] = ()) -> Case | None:
    """The case, if the button is ours and still fits it: the version the message showed, or
    a status in which the button still makes sense. An alert otherwise."""
    case = await t.attempt(t.casework.find_case(str(button.case_id)))
    if case is None:
        return None
    if not button.signed:
        t.toast(not_valid(), alert=True)
        return None
    if case.version != button.stamp and case.status.value not in statuses:
        t.toast(stale(), alert=True)
        return None
    return case


def offices(t: Turn, items: Iterable[Department], pack: "OfficeData") -> Buttons:
    found = [
        Button(d.name_en if t.locale == "en" and d.name_en else d.name, pack(d.id)) for d in items
    ]
    return tuple(tuple(found[i : i + 2]) for i in range(0, len(found), 2))


class OfficeData:
    """Packs the signed data of an office choice for one case."""

    def __init__(self, t: Turn, kind: str, case: Case) -> None:
        self.signer, self.kind, self.case = t.ctx.signer, kind, case

    def __call__(self, department_id: int) -> str:
        return data.to_office(
            self.signer, self.kind, self.case.id, self.case.version, department_id
        )


# -- the office --------------------------------------------------------------------------


async def _member_here(t: Turn) -> bool:
    """In a group, the group must be bound to an office and the person must belong to it."""
    if not t.sender.is_group:
        return True
    async with t.casework.sessions() as session:
        binding = await queries.chats.chat_binding(session, t.sender.channel, t.sender.chat_id)
    if (
        binding is None
        or binding.kind is not ChatKind.OFFICE
        or binding.department_id != t.me.department_id
    ):
        t.toast(_("Only members of this office may do this."), alert=True)
        return False
    return True


async def office(t: Turn, button: CaseButton, action: Action | None) -> None:
    if not await _member_here(t):
        return
    statuses = OFFICE_STATUS[action or Action.TRANSFER]
    case = await checked(t, button, statuses)
    if case is None:
        return
    if case.department_id is None or case.department_id != t.me.department_id:
        t.toast(_("Only members of this office may do this."), alert=True)
        return
    if button.kind == "t":
        if button.department_id not in t.casework.catalog.departments:
            t.toast(not_valid(), alert=True)
            return
        t.clear_buttons()
        await steps.ask(t, Action.TRANSFER, case, department_id=button.department_id)
    elif action is Action.ACCEPT:
        done = await t.attempt(t.casework.steps.act(Action.ACCEPT, case.id, t.me.id))
        if done is not None:
            t.toast(_("Case #{number} accepted.").format(number=done.number))
    elif action is Action.TRANSFER:
        others = (d for d in t.casework.catalog.departments.values() if d.id != case.department_id)
        t.reply(
            _("Case #{number}: transfer to which office?").format(number=case.number),
            offices(t, others, OfficeData(t, "t", case)),
        )
    else:
        assert action is not None
        await steps.ask(t, action, case)


# -- dispatchers -------------------------------------------------------------------------


def _decided(t: Turn, action: Action, case: Case, note: str = "") -> None:
    """Re-renders the dispatcher's message in place with the decision taken on it."""
    payload = {**t.casework.snapshot(case), "note": note.strip(), "actor": t.me.name}
    t.edit(decision(action, payload, t.locale, t.ctx.tz))


def _offices_for(t: Turn, case: Case) -> Buttons:
    """The offices to send the case to; not the one that returned it."""
    others = (d for d in t.casework.catalog.departments.values() if d.id != case.department_id)
    return offices(t, others, OfficeData(t, "d", case))


async def dispatcher(t: Turn, button: CaseButton, action: Action | None) -> None:
    if t.me.role is not Role.DISPATCHER:
        t.toast(_("Only dispatchers may do this."), alert=True)
        return
    if button.kind == "x":
        await extension(t, button)
        return
    case = await checked(t, button, DISPATCHER_STATUS[action or Action.DISPATCH])
    if case is None:
        return
    if button.kind == "d":
        if button.department_id not in t.casework.catalog.departments:
            t.toast(not_valid(), alert=True)
            return
        done = await t.attempt(
            t.casework.steps.act(
                DispatchTo(button.department_id),
                case.id,
                t.me.id,
                expected_version=case.version,
            )
        )
        if done is not None:
            _decided(t, Action.DISPATCH, done)
    elif action is Action.VOID:
        filing = steps.conditions(t, case, ConditionKind.FILING)
        choices = [c.text_zh for c in filing]
        await steps.ask(t, action, case, choices, message_id=t.message_id)
    elif action is Action.DISPATCH:
        t.edit(None, _offices_for(t, case))
    else:
        await file_and_dispatch(t, case)


async def file_and_dispatch(t: Turn, case: Case) -> None:
    """立案 then 派遣 to the office the routing rules name; when none is named (or the
    dispatch fails), the filed case waits for the dispatcher to choose the office."""
    filed = await t.attempt(
        t.casework.steps.act(Action.FILE, case.id, t.me.id, expected_version=case.version)
    )
    if filed is None:
        return
    try:
        done = await t.casework.steps.act(
            Action.DISPATCH, case.id, t.me.id, expected_version=filed.version
        )
    except DomainError as error:
        t.toast(render_error(error), alert=True)
        t.edit(None, _offices_for(t, filed))
        return
    _decided(t, Action.DISPATCH, done)


async def extension(t: Turn, button: CaseButton) -> None:
    case = await t.attempt(t.casework.find_case(str(button.case_id)))
    if case is None:
        return
    if not button.signed:
        t.toast(not_valid(), alert=True)
        return
    pending = case.extension_requested_until
    if pending is None or int(pending.timestamp()) != button.stamp:
        t.toast(stale(), alert=True)
        return
    if not button.choice:
        await steps.ask(t, Action.DENY_EXTENSION, case, message_id=t.message_id)
        return
    done = await t.attempt(
        t.casework.steps.act(
            Action.APPROVE_EXTENSION, case.id, t.me.id, expected_version=case.version
        )
    )
    if done is not None:
        _decided(t, Action.APPROVE_EXTENSION, done)


# -- the reporter and supervisors ----------------------------------------------------------


async def verify(t: Turn, button: CaseButton) -> None:
    case = await checked(t, button)
    if case is None:
        return
    if not button.choice:
        if case.reporter_id != t.me.id and t.me.role is not Role.DISPATCHER:
            t.toast(_("Only the reporter may verify this case."), alert=True)
            return
        await steps.ask(t, Action.REWORK, case)
        return
    # The verification message lists the closing conditions; "fixed" confirms them all.
    closing = steps.conditions(t, case, ConditionKind.CLOSING)
    done = await t.attempt(
        t.casework.steps.act(
            Verify(tuple(c.id for c in closing)), case.id, t.me.id, expected_version=case.version
        )
    )
    if done is None:
        return
    t.toast(_("Case #{number} is closed.").format(number=done.number))
    t.clear_buttons()


async def urge(t: Turn, button: CaseButton) -> None:
    case = await t.attempt(t.casework.find_case(str(button.case_id)))
    if case is None:
        return
    if not button.signed:
        t.toast(not_valid(), alert=True)
        return
    done = await t.attempt(t.casework.steps.act(Action.URGE, case.id, t.me.id, _("Urged")))
    if done is not None:
        t.toast(_("Case #{number} urged.").format(number=done.number))
