"""The escalation sweep: fires the rungs of the ladder (yellow reminder, levels 1 to 3) that
are due, in batches, each rung once even with several instances running; then those of the
unanswered rectification notices (整改通知), which climb the same ladder."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from dispatch import notifications as notify
from dispatch.autocommit import autocommit
from dispatch.core.actors import SYSTEM
from dispatch.core.deadlines import Rung
from dispatch.core.lifecycle import Action, Step
from dispatch.recipients import queue_step
from dispatch.supervision import notice_ladder
from dispatch.usecases.runtime import Runtime, UnitOfWork, event_values
from models import Case, CaseEvent, RectificationNotice


@dataclass(frozen=True)
class FiredRung:
    case_number: str
    rung: Rung
    department: str
    notice_id: int | None = None  # a rectification notice of the case, not the case itself


class EscalationSweep:
    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime

    async def sweep(self, now: datetime | None = None, batch: int = 50) -> list[FiredRung]:
        """Fires the escalation rungs that are due, a batch per transaction. Cases are claimed
        with SELECT … FOR UPDATE SKIP LOCKED, so several instances never fire a rung twice.
        A sweep as of a later time (a drill) still queues its messages for delivery now."""
        now = now or self.rt.clock()
        fired: list[FiredRung] = []
        if not await self._anything_due(now):
            return fired
        recipients: dict[tuple[str, object], list[notify.Target]] = {}
        while True:
            async with self.rt.unit_of_work(recipients, deliver_by=self.rt.clock()) as work:
                query = (
                    select(Case)
                    .options(selectinload(Case.attachments))
                    .where(Case.next_check_at <= now)
                    .order_by(Case.next_check_at)
                    .limit(batch)
                )
                if work.session.bind.dialect.name == "postgresql":
                    query = query.with_for_update(skip_locked=True, of=Case)
                cases = (await work.session.scalars(query)).all()
                events: list[dict[str, Any]] = []
                with work.session.no_autoflush:  # the batch is written in three statements
                    for case in cases:
                        fired += await self._escalate(work, case, now, events)
                    await self._save_batch(work.session, cases, events)
            if len(cases) < batch:
                break
        while True:  # unanswered rectification notices: a separate small query
            async with self.rt.unit_of_work(recipients) as work:
                claimed, notices = await notice_ladder.sweep(
                    work.session,
                    work.notifier,
                    self.rt.catalog,
                    self.rt.settings.policy,
                    now,
                    batch,
                )
            fired += [
                FiredRung(
                    n.case_number,
                    Rung(n.level),
                    self.rt.catalog.department_name(n.department_id),
                    n.notice_id,
                )
                for n in notices
            ]
            if claimed < batch:
                return fired

    async def preview_sweep(self, now: datetime) -> list[FiredRung]:
        """What a sweep as of `now` would fire, writing nothing (`gridgov sweep --now` with a
        future time)."""
        fired: list[FiredRung] = []
        async with self.rt.sessions() as session:
            cases = await session.stream_scalars(
                select(Case).where(Case.next_check_at <= now).order_by(Case.next_check_at)
            )
            with session.no_autoflush:
                async for case in cases:
                    fired += [self._fired(case, r) for r in self.rt.planner.climb(case, now)]
            await session.rollback()
        return fired

    def _fired(self, case: Case, rung: Rung) -> FiredRung:
        return FiredRung(
            case.number or "", rung, self.rt.catalog.department_name(case.department_id)
        )

    async def _anything_due(self, now: datetime) -> bool:
        """One autocommitted probe of the earliest `next_check_at` of cases and of notices
        (each an index's first entry): the idle sweep, the usual case, opens no transaction
        and locks nothing. It carries no parameter: with `next_check_at <= $1` PostgreSQL
        turns to a generic plan after a few runs and scans the whole table."""
        earliest = select(
            select(func.min(Case.next_check_at)).scalar_subquery(),
            select(func.min(RectificationNotice.next_check_at)).scalar_subquery(),
        )
        async with autocommit(self.rt.sessions) as conn:
            found = (await conn.execute(earliest)).one()
        return any(at is not None and at <= now for at in found)

    async def _escalate(
        self, work: UnitOfWork, case: Case, now: datetime, events: list[dict[str, Any]]
    ) -> list[FiredRung]:
        fired, levels = [], []
        for rung in self.rt.planner.climb(case, now):
            action = Action.REMIND if rung is Rung.REMINDER else Action.ESCALATE
            step = Step(action, case.status, case.status, payload={"level": int(rung)})
            events.append(event_values(case, step, SYSTEM, now))
            if rung is Rung.REMINDER:
                await self._queue(work, case, step, now)
            else:
                levels.append(int(rung))
            fired.append(self._fired(case, rung))
        if levels:  # each level is on record; its audiences hear of them in one message
            payload = {"level": max(levels), "levels": levels}
            step = Step(Action.ESCALATE, case.status, case.status, payload=payload)
            await self._queue(work, case, step, now)
        return fired

    async def _queue(self, work: UnitOfWork, case: Case, step: Step, now: datetime) -> None:
        await queue_step(work.notifier, case, step, SYSTEM, now, self.rt.snapshot(case, now))

    async def _save_batch(
        self, session: AsyncSession, cases: Sequence[Case], events: list[dict[str, Any]]
    ) -> None:
        """Writes the batch's ladder positions and events with one statement each. The rows
        are locked by the claim, so the version is bumped without the ORM's row-by-row check."""
        if not cases:
            return
        ladders = [
            {
                "case_id": c.id,
                "reminded": c.reminded,
                "level": c.escalation_level,
                "next_check": c.next_check_at,
            }
            for c in cases
        ]
        session.expunge_all()
        table = Case.__table__
        await session.execute(
            update(table)
            .where(table.c.id == bindparam("case_id"))
            .values(
                reminded=bindparam("reminded"),
                escalation_level=bindparam("level"),
                next_check_at=bindparam("next_check"),
                version=table.c.version + 1,
            ),
            ladders,
        )
        if events:
            await session.execute(insert(CaseEvent.__table__), events)
