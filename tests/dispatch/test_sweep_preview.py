"""`gridgov sweep --now T` with T in the future previews and writes nothing; a sweep as of a
later time that does write (a drill) queues its messages for delivery now, not at T
(issue 10)."""

from datetime import datetime

from sqlalchemy import func, select

from dispatch.core.deadlines import Rung
from dispatch.core.lifecycle import Action
from models import CaseEvent, OutboxMessage
from tests.dispatch.world import SHANGHAI, World


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=SHANGHAI)


async def counts(world: World) -> tuple[int, int]:
    async with world.casework.sessions() as s:
        events = await s.scalar(select(func.count(CaseEvent.id)))
        messages = await s.scalar(select(func.count(OutboxMessage.id)))
    return events or 0, messages or 0


async def test_a_preview_fires_nothing_and_the_real_deadline_still_fires(world: World) -> None:
    d, p = world.casework, world.people
    case = (await d.intake.report(world.draft())).case
    await d.steps.act(Action.ACCEPT, case.id, p["hw1"])
    before = await counts(world)
    preview = await d.escalation.preview_sweep(at(31, 9))
    assert [e.rung for e in preview] == [Rung.LEVEL1, Rung.LEVEL2, Rung.LEVEL3]
    assert await counts(world) == before
    assert (await d.find_case(case.number)).next_check_at == case.next_check_at
    # The real time comes: the ladder starts where it was.
    world.clock.now = datetime(2026, 11, 23, 14, 30, tzinfo=SHANGHAI)
    assert [e.rung for e in await d.escalation.sweep()] == [Rung.REMINDER]


async def test_a_drill_queues_its_messages_for_now(world: World) -> None:
    d, p = world.casework, world.people
    case = (await d.intake.report(world.draft())).case
    await d.steps.act(Action.ACCEPT, case.id, p["hw1"])
    fired = await d.escalation.sweep(at(31, 9))
    assert Rung.LEVEL3 in [e.rung for e in fired]
    async with d.sessions() as s:
        due = (
            await s.scalars(
                select(OutboxMessage.next_attempt_at).where(
                    OutboxMessage.kind.in_(["case.escalate", "case.remind"])
                )
            )
        ).all()
    assert due and all(when == world.clock.now for when in due)
