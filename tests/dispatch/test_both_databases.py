"""The main path on PostgreSQL and on the embedded SQLite default alike."""

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from dispatch.assessment import Dimension, figures
from dispatch.channels import LogChannel
from dispatch.core.deadlines import Rung
from dispatch.core.lifecycle import Action
from dispatch.delivery import OutboxWorker
from models.enums import CaseStatus
from tests.dispatch.world import SHANGHAI, build_world


async def test_report_to_closure_sweep_outbox_and_figures(any_engine: AsyncEngine) -> None:
    world = await build_world(any_engine)
    d, p = world.casework, world.people
    late = (await d.intake.report(world.draft())).case  # Monday 09:00, due 15:00
    await d.steps.act(Action.ACCEPT, late.id, p["hw1"])
    world.clock.now = datetime(2026, 11, 24, 9, tzinfo=SHANGHAI)
    escalations = await d.escalation.sweep()
    assert [(e.case_number, e.rung) for e in escalations] == [(late.number, Rung.LEVEL1)]
    world.clock.now += timedelta(minutes=30)
    await d.steps.act(Action.RESOLVE, late.id, p["hw1"], note="ok")
    closed = await d.steps.act(Action.VERIFY, late.id, p["worker"])
    assert closed.status is CaseStatus.CLOSED and closed.closed_on_time is False

    worker = OutboxWorker(d.sessions, {"log": LogChannel()}, clock=world.clock)
    report = await worker.run_once()
    assert report.sent > 0 and report.dead == 0

    async with d.sessions() as s:
        rows = await figures(
            s,
            Dimension.DEPARTMENT,
            datetime(2026, 11, 1, tzinfo=SHANGHAI),
            datetime(2026, 12, 1, tzinfo=SHANGHAI),
            world.clock.now,
        )
    hw = next(f for f in rows if f.key == d.catalog.departments_by_code["hw"].id)
    assert (hw.received, hw.closed, hw.due, hw.closed_on_time, hw.overdue) == (1, 1, 1, 0, 1)
    assert hw.p90_handling_hours == hw.avg_handling_hours == 7.5  # Mon 09:00 → Tue 09:30
