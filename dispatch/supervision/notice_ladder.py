"""The escalation ladder of rectification notices that wait for an office's answer.

An unanswered notice climbs like an overdue case: level 1 at its deadline (the office head and
the community's supervisors), level 2 and 3 after the same further working time as cases (the
town's, then the county's supervisors). The sweep finds due notices by the partial index on
`next_check_at` and claims them with SKIP LOCKED, so several instances never fire a rung twice."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from dispatch import notifications as notify
from dispatch.catalog import Catalog
from dispatch.core.actors import SYSTEM
from dispatch.core.deadlines import EscalationPolicy
from dispatch.core.workcalendar import WorkCalendar
from dispatch.supervision.trail import record
from models import RectificationNotice
from models.enums import NoticeStatus

ESCALATE = "rectification_escalate"


@dataclass(frozen=True)
class NoticeEscalation:
    notice_id: int
    case_number: str
    level: int
    department_id: int


def rung_times(
    notice: RectificationNotice, calendar: WorkCalendar, policy: EscalationPolicy
) -> dict[int, datetime]:
    deadline = notice.deadline_at
    return {
        1: deadline,
        2: calendar.add_working_seconds(deadline, policy.level2_after_seconds),
        3: calendar.add_working_seconds(deadline, policy.level3_after_seconds),
    }


def next_check(
    notice: RectificationNotice, calendar: WorkCalendar, policy: EscalationPolicy
) -> datetime | None:
    """The next rung of a notice waiting for an answer; None once answered or at the top."""
    if notice.status is not NoticeStatus.OPEN:
        return None
    times = rung_times(notice, calendar, policy)
    pending = [at for level, at in times.items() if level > notice.escalation_level]
    return pending[0] if pending else None


def payload(notice: RectificationNotice, catalog: Catalog, **extra: Any) -> dict[str, Any]:
    """What a message about a notice shows; nothing about the case's reporter."""
    return {
        "notice_id": notice.id,
        "case_id": notice.case_id,
        "number": notice.case.number,
        "department": catalog.department_name(notice.department_id),
        "department_en": catalog.department_name(notice.department_id, "en"),
        "deadline": notice.deadline_at.isoformat(),
        "requirements": notice.requirements,
        "status": notice.status.value,
        "level": notice.escalation_level,
        **extra,
    }


async def sweep(
    session: AsyncSession,
    notifier: notify.Notifier,
    catalog: Catalog,
    policy: EscalationPolicy,
    now: datetime,
    batch: int,
) -> tuple[int, list[NoticeEscalation]]:
    """Fires the due rungs of one batch of notices; returns how many were claimed and what
    fired."""
    query = (
        select(RectificationNotice)
        .options(selectinload(RectificationNotice.case))
        .where(RectificationNotice.next_check_at <= now)
        .order_by(RectificationNotice.next_check_at)
        .limit(batch)
    )
    if session.bind.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=RectificationNotice)
    notices = (await session.scalars(query)).all()
    fired = []
    for notice in notices:
        times = rung_times(notice, catalog.calendar, policy)
        due = [
            level for level, at in times.items() if level > notice.escalation_level and at <= now
        ]
        for level in due:
            notice.escalation_level = level
            case = notice.case
            record(
                session,
                case,
                ESCALATE,
                SYSTEM,
                now,
                "",
                {"notice_id": notice.id, "level": level},
                notice.department_id,
            )
            area = {1: case.community_id, 2: case.town_id, 3: None}[level]
            targets = await notifier.supervisors(area)
            if level == 1:
                targets = targets + await notifier.office_heads(notice.department_id)
            notifier.queue(
                targets,
                "rectification.escalate",
                f"notice:{notice.id}:level:{level}",
                payload(notice, catalog),
                case.id,
                now,
            )
            fired.append(
                NoticeEscalation(notice.id, case.number or "", level, notice.department_id)
            )
        notice.next_check_at = next_check(notice, catalog.calendar, policy)
    return len(notices), fired
