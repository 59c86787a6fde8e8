"""Follow-up (回访) of citizens' and the 12345 hotline's cases after closure: a dispatcher records
the call, or the citizen answers through the one-time link given in the Open311 status notes.
不满意 reopens the case while the reopen window is open, with the reason on the record."""

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from dispatch.core.actors import Actor
from dispatch.core.errors import N_, InvalidInput, NotFound, PermissionDenied
from dispatch.core.lifecycle import MAX_NOTE, Action, Scope, in_scope
from dispatch.core.workcalendar import WorkCalendar
from dispatch.supervision.trail import record
from models import Case, FollowUp
from models.enums import CaseSource, CaseStatus, Role, Satisfaction

if TYPE_CHECKING:  # the runtime opens follow-ups at closure; only the use cases need it
    from dispatch.usecases.runtime import Runtime, UnitOfWork

SOURCES = (CaseSource.CITIZEN, CaseSource.HOTLINE)
FOLLOW_UP = "follow_up"
# Who reopens a case on the citizen's own 不满意 through the link.
CITIZEN_FOLLOW_UP = Actor(person_id=None, name="市民回访", role=Role.DISPATCHER)


@dataclass(frozen=True)
class Answer:
    satisfaction: Satisfaction
    note: str = ""
    reopen: bool = False  # on 不满意: reopen the case (a dispatcher's choice; always by link)


def open_follow_up(
    session: AsyncSession, case: Case, now: datetime, calendar: WorkCalendar, days: int
) -> FollowUp | None:
    """At the closure of a citizen's or the hotline's case: a follow-up due in `days` working
    days, with its one-time link."""
    if case.source not in SOURCES:
        return None
    follow_up = FollowUp(
        case_id=case.id,
        closed_at=now,
        due_at=calendar.add_working_days(now, days),
        token=secrets.token_urlsafe(24),
    )
    session.add(follow_up)
    return follow_up


async def link_tokens(session: AsyncSession, numbers: list[str]) -> dict[str, str]:
    """The unanswered follow-up link of each closed case among these numbers."""
    if not numbers:
        return {}
    rows = await session.execute(
        select(Case.number, FollowUp.token)
        .join(FollowUp, FollowUp.case_id == Case.id)
        .where(
            Case.number.in_(numbers),
            Case.status == CaseStatus.CLOSED,
            FollowUp.answered_at.is_(None),
        )
    )
    return {number: token for number, token in rows}


class FollowUps:
    def __init__(self, runtime: "Runtime") -> None:
        self.rt = runtime

    async def record_call(self, person_id: int, case_id: int, answer: Answer) -> FollowUp:
        """A dispatcher's record of the follow-up call."""
        now = self.rt.clock()
        _check(answer)
        async with self.rt.unit_of_work() as work:
            actor = await self.rt.actor(work.session, person_id)
            case = await self.rt.case(work.session, case_id, lock=True)
            if actor.role is not Role.DISPATCHER:
                raise PermissionDenied(N_("Only dispatchers record follow-up calls."))
            if not in_scope(actor, case, Scope.AREA):
                raise PermissionDenied(
                    N_("Case %(number)s is outside your area."), number=case.number
                )
            follow_up = await self._pending(work.session, case)
            await self._answer(work, case, follow_up, actor, answer, "phone", now)
        return follow_up

    async def answer_link(self, token: str, answer: Answer) -> FollowUp:
        """The citizen's own answer through the one-time link; 不满意 reopens while it may."""
        now = self.rt.clock()
        _check(answer)
        async with self.rt.unit_of_work() as work:
            follow_up = await work.session.scalar(
                select(FollowUp)
                .where(FollowUp.token == token)
                .with_for_update()
                .options(selectinload(FollowUp.case))
            )
            if follow_up is None:
                raise NotFound(N_("This follow-up link is not valid."))
            if follow_up.answered_at is not None:
                raise InvalidInput(N_("This follow-up was already answered. Thank you."))
            case = await self.rt.case(work.session, follow_up.case_id, lock=True)
            citizen = Actor(None, "市民", None)
            reopen = (
                answer.satisfaction is Satisfaction.DISSATISFIED
                and case.status is CaseStatus.CLOSED
                and case.closed_at is not None
                and (now - case.closed_at).days < self.rt.settings.reopen_days
            )
            await self._answer(
                work,
                case,
                follow_up,
                citizen,
                Answer(answer.satisfaction, answer.note, reopen),
                "link",
                now,
            )
        return follow_up

    @staticmethod
    async def _pending(session: AsyncSession, case: Case) -> FollowUp:
        if case.source not in SOURCES:
            raise InvalidInput(
                N_("Case %(number)s had no citizen to follow up."), number=case.number
            )
        follow_up = await session.scalar(
            select(FollowUp)
            .where(FollowUp.case_id == case.id, FollowUp.answered_at.is_(None))
            .with_for_update()
        )
        if follow_up is None:
            raise InvalidInput(
                N_("No follow-up of case %(number)s is waiting."), number=case.number
            )
        return follow_up

    async def _answer(
        self,
        work: "UnitOfWork",
        case: Case,
        follow_up: FollowUp,
        actor: Actor,
        answer: Answer,
        channel: str,
        now: datetime,
    ) -> None:
        follow_up.answered_at = now
        follow_up.satisfaction = answer.satisfaction
        follow_up.note = answer.note.strip()
        follow_up.channel = channel
        follow_up.recorded_by_id = actor.person_id
        record(
            work.session,
            case,
            FOLLOW_UP,
            actor,
            now,
            follow_up.note,
            {"satisfaction": answer.satisfaction.value, "channel": channel},
        )
        if answer.reopen and answer.satisfaction is Satisfaction.DISSATISFIED:
            reopener = actor if actor.role is Role.DISPATCHER else CITIZEN_FOLLOW_UP
            follow_up.reopened = True
            await self.rt.apply(
                work, case, Action.REOPEN, reopener, now, "不满意：" + follow_up.note
            )

    @staticmethod
    async def due(
        session: AsyncSession, visible: ColumnElement[bool], limit: int = 200
    ) -> list[FollowUp]:
        """Unanswered follow-ups of the cases `visible` selects, the overdue ones first."""
        return list(
            (
                await session.scalars(
                    select(FollowUp)
                    .join(Case, Case.id == FollowUp.case_id)
                    .options(selectinload(FollowUp.case))
                    .where(FollowUp.answered_at.is_(None), visible)
                    .order_by(FollowUp.due_at)
                    .limit(limit)
                )
            ).all()
        )


def _check(answer: Answer) -> None:
    if len(answer.note) > MAX_NOTE:
        raise InvalidInput(N_("The note is longer than %(max)d characters."), max=MAX_NOTE)
    if answer.satisfaction is Satisfaction.DISSATISFIED and not answer.note.strip():
        raise InvalidInput(N_("Say why the citizen is not satisfied."))
