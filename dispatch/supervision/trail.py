"""Supervision steps go on the case's own append-only trail, next to the lifecycle steps, so
the case file (案卷) shows reviews and rectification in the order they happened."""

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from dispatch.core.actors import Actor
from models import Case, CaseEvent


def record(
    session: AsyncSession,
    case: Case,
    action: str,
    actor: Actor,
    now: datetime,
    note: str = "",
    payload: dict[str, Any] | None = None,
    department_id: int | None = None,
) -> CaseEvent:
    """Appends a step that leaves the case's status as it is."""
    event = CaseEvent(
        case_id=case.id,
        action=action,
        actor_id=actor.person_id,
        actor_label=actor.label,
        at=now,
        from_status=case.status,
        to_status=case.status,
        department_id=department_id if department_id is not None else case.department_id,
        note=note,
        payload=payload or {},
    )
    session.add(event)
    return event
