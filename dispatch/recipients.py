"""Who hears of each step of a case, queued through the unit of work's `Notifier`. The
office's card is re-sent (edited in place) on every step while the case is with an office."""

from datetime import datetime
from typing import Any

from dispatch.core.actors import Actor
from dispatch.core.lifecycle import Action, Step
from dispatch.notifications import Notifier, Target
from models import Case


async def queue_step(
    notifier: Notifier,
    case: Case,
    step: Step,
    actor: Actor,
    now: datetime,
    snapshot: dict[str, Any],
) -> None:
    r = notifier
    payload = {
        **snapshot,
        "action": step.action.value,
        "note": step.note,
        "actor": actor.label,
        "actor_is_system": actor.system,
        **step.payload,
    }
    office = case.department_id
    areas = (case.community_id, case.town_id)
    sends: list[tuple[str, list[Target]]] = []
    if step.action is Action.TRANSFER:
        sends.append(("case.card", await r.office(step.payload["from_department_id"])))
    if step.action not in (Action.FILE, Action.REMIND, Action.ESCALATE) and office:
        sends.append(("case.card", await r.office(office)))
    match step.action:
        case Action.RESOLVE:
            verifiers = await r.person(case.reporter_id) or await r.dispatchers(areas)
            sends.append(("case.to_verify", verifiers))
        case Action.RETURN | Action.REQUEST_EXTENSION:
            sends.append((f"case.{step.action.value}", await r.dispatchers(areas)))
        case Action.VERIFY | Action.MERGE | Action.VOID:
            sends.append((f"case.{step.action.value}", await r.person(case.reporter_id)))
        case Action.URGE | Action.REMIND:
            sends.append((f"case.{step.action.value}", await r.office(office)))
        case Action.ESCALATE:
            # Several levels fired at once (a case found long overdue) make one message
            # per recipient, at the highest level; the office's chat is told it is overdue.
            targets = []
            for level in step.payload.get("levels", [step.payload["level"]]):
                area = {1: case.community_id, 2: case.town_id, 3: None}[level]
                targets += await r.supervisors(area)
                if level == 1:
                    targets += await r.office_heads(office)
                    sends.append(("case.overdue", await r.office(office)))
            sends.append(("case.escalate", targets))
    for kind, targets in sends:
        notifier.queue(targets, kind, step.key, payload, case.id, now)
