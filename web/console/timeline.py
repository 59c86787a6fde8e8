"""The case page's timeline and the confirmation after a step, in the reader's words: who or
what acted (never a bare "system"), and escalations fired together read as one entry."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from dispatch.catalog import Catalog
from dispatch.core.actors import AUTO_DISPATCH, SYSTEM
from models import CaseEvent

SWEEP_ACTIONS = ("remind", "escalate")
AUTOMATIC_ACTIONS = ("file", "dispatch")
# How the system acting on its own is on record: its actors' names, and "system" before them.
SYSTEM_LABELS = ("system", "", SYSTEM.name, AUTO_DISPATCH.name)


def N_(message: str) -> str:
    return message


# What happens next after each step, told to the person who took it.
NEXT_STEP = {
    "accept": N_("Case %(number)s accepted. Next: handle it and report the result with a photo."),
    "return": N_("Case %(number)s returned. A dispatcher will send it to the right office."),
    "transfer": N_("Case %(number)s transferred. The new office is told now."),
    "request_extension": N_(
        "Extension requested for case %(number)s. A dispatcher approves or denies it."
    ),
    "resolve": N_(
        "Case %(number)s reported as handled. The reporter or a dispatcher verifies it on site."
    ),
    "file": N_("Case %(number)s filed. Next: dispatch it to an office."),
    "dispatch": N_("Case %(number)s dispatched. The office is told now."),
    "verify": N_("Case %(number)s verified and closed."),
    "rework": N_("Case %(number)s sent back for rework. The office is told now."),
    "approve_extension": N_("Extension approved for case %(number)s; the deadline moved."),
    "deny_extension": N_("Extension denied for case %(number)s; the deadline stands."),
    "void": N_("Case %(number)s voided."),
    "urge": N_("The office of case %(number)s was urged."),
}
GENERIC_DONE = N_("Done: case %(number)s is updated.")


@dataclass
class Entry:
    at: str
    action: str
    actor: str
    from_status: str
    to_status: str
    department: str
    note: str
    levels: list[int] = field(default_factory=list)


def _actor(event: CaseEvent, _: Callable[[str], str]) -> str:
    if event.actor_id is not None or event.actor_label not in SYSTEM_LABELS:
        return event.actor_label
    return actor_label(event.action, event.actor_label, _)


def actor_label(action: str, label: str, _: Callable[[str], str]) -> str:
    """Who took a step, with the system's own steps named for what they are."""
    if label not in ("system", ""):
        return label
    if action in SWEEP_ACTIONS or action == "rectification_escalate":
        return _("System supervision")
    if action in AUTOMATIC_ACTIONS:
        return _("Automatic dispatch")
    return _("Automatic")


def entries(
    events: Sequence[CaseEvent],
    catalog: Catalog,
    tz: ZoneInfo,
    locale: str,
    _: Callable[[str], str],
) -> list[Entry]:
    """One entry per event, except that reminders and escalations the sweep fired in the same
    minute are one entry naming their levels."""
    found: list[Entry] = []
    for e in events:
        at = f"{e.at.astimezone(tz):%Y-%m-%d %H:%M}"
        level = int((e.payload or {}).get("level", 0))
        last = found[-1] if found else None
        if (
            e.action in SWEEP_ACTIONS
            and last is not None
            and last.action in SWEEP_ACTIONS
            and last.at == at
        ):
            last.action = "escalate"
            last.levels.append(level)
            continue
        found.append(
            Entry(
                at=at,
                action=e.action,
                actor=_actor(e, _),
                from_status=e.from_status.value if e.from_status else "",
                to_status=e.to_status.value if e.to_status else "",
                department=catalog.department_name(e.department_id, locale),
                note=e.note,
                levels=[level] if e.action in SWEEP_ACTIONS else [],
            )
        )
    return found


def done_message(action: str, number: str, _: Callable[[str], str]) -> str:
    if not action:
        return ""
    message: Any = NEXT_STEP.get(action, GENERIC_DONE)
    return _(message) % {"number": number}
