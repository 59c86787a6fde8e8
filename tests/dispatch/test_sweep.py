"""The escalation ladder: each rung fires once, at its time, and again only after the clock
is reset; several sweepers side by side never fire a rung twice."""

import asyncio
from datetime import datetime

from sqlalchemy import select

from dispatch.casework import Casework
from dispatch.core.commands import RequestExtension
from dispatch.core.deadlines import Rung
from dispatch.core.lifecycle import Action
from dispatch.geography import GridDirectory
from models import CaseEvent, OutboxMessage
from tests.dispatch.world import SHANGHAI, World, settings


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI)


async def escalation_events(world: World, case_id: int) -> list[tuple[str, int]]:
    async with world.casework.sessions() as s:
        rows = (
            await s.scalars(
                select(CaseEvent)
                .where(CaseEvent.case_id == case_id, CaseEvent.action.in_(["remind", "escalate"]))
                .order_by(CaseEvent.id)
            )
        ).all()
    return [(e.action, e.payload["level"]) for e in rows]


async def recipients(world: World, kind: str) -> set[str]:
    async with world.casework.sessions() as s:
        rows = (await s.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind))).all()
    return {m.address for m in rows}


async def test_each_rung_fires_once_at_its_time(world: World) -> None:
    d, p = world.casework, world.people
    case = (await d.intake.report(world.draft())).case  # Mon 09:00, yellow 14:12, deadline 15:00
    assert case.next_check_at == at(23, 14, 12)
    assert await d.escalation.sweep(at(23, 14)) == []
    fired = await d.escalation.sweep(at(23, 14, 30))
    assert [e.rung for e in fired] == [Rung.REMINDER]
    assert await d.escalation.sweep(at(23, 14, 40)) == []
    assert [e.rung for e in await d.escalation.sweep(at(23, 15, 1))] == [Rung.LEVEL1]
    assert await d.escalation.sweep(at(23, 16)) == []
    # level 2: 4 further working hours after Mon 15:00 → Tue 10:00; level 3: 16 h → Wed 17:00
    assert await d.escalation.sweep(at(24, 9, 59)) == []
    assert [e.rung for e in await d.escalation.sweep(at(24, 10, 1))] == [Rung.LEVEL2]
    assert await d.escalation.sweep(at(25, 16, 59)) == []
    assert [e.rung for e in await d.escalation.sweep(at(25, 17, 1))] == [Rung.LEVEL3]
    assert await d.escalation.sweep(at(30, 9)) == []
    assert await escalation_events(world, case.id) == [
        ("remind", 0),
        ("escalate", 1),
        ("escalate", 2),
        ("escalate", 3),
    ]
    assert f"person:{p['sup_comm']}" in await recipients(world, "case.escalate")
    assert f"person:{p['sup_town']}" in await recipients(world, "case.escalate")
    assert f"person:{p['sup_county']}" in await recipients(world, "case.escalate")
    assert f"person:{p['hw1']}" in await recipients(world, "case.escalate")  # the office head
    assert f"person:{p['hw2']}" not in await recipients(world, "case.escalate")


async def test_catch_up_after_downtime_fires_missed_levels_once(world: World) -> None:
    case = (await world.casework.intake.report(world.draft())).case
    fired = await world.casework.escalation.sweep(at(30, 12))  # a week later
    assert [e.rung for e in fired] == [Rung.LEVEL1, Rung.LEVEL2, Rung.LEVEL3]
    assert await world.casework.escalation.sweep(at(30, 12)) == []
    assert [a for a, _ in await escalation_events(world, case.id)] == ["escalate"] * 3


async def test_an_extension_lets_the_ladder_start_again(world: World) -> None:
    d, p = world.casework, world.people
    case = (await d.intake.report(world.draft())).case
    await d.steps.act(Action.ACCEPT, case.id, p["hw1"])
    await d.escalation.sweep(at(23, 14, 30))  # reminder fired
    world.clock.now = at(23, 14, 40)
    await d.steps.act(RequestExtension(at(24, 17, 30)), case.id, p["hw1"], note="x")
    await d.steps.act(Action.APPROVE_EXTENSION, case.id, p["dispatcher"])
    assert await d.escalation.sweep(at(23, 17)) == []
    assert [e.rung for e in await d.escalation.sweep(at(24, 17, 31))] == [Rung.LEVEL1]


async def test_closed_and_suspended_cases_are_not_escalated(world: World) -> None:
    d, p = world.casework, world.people
    a = (await d.intake.report(world.draft())).case
    b = (await d.intake.report(world.draft("worker2"))).case
    await d.steps.act(Action.ACCEPT, a.id, p["hw1"])
    await d.steps.act(Action.RESOLVE, a.id, p["hw1"], note="ok")
    await d.steps.act(Action.SUSPEND, b.id, p["dispatcher"], note="挂账")
    assert await d.escalation.sweep(at(30, 12)) == []


async def test_two_sweepers_side_by_side_never_double_escalate(world: World) -> None:
    d = world.casework
    numbers = {(await d.intake.report(world.draft())).case.number for _ in range(60)}
    other = Casework(d.sessions, GridDirectory(30.0), settings(), world.clock)
    await other.refresh()
    results = await asyncio.gather(
        *(s.escalation.sweep(at(23, 15, 30), batch=7) for s in (d, other, d, other))
    )
    fired = [(e.case_number, e.rung) for result in results for e in result]
    assert len(fired) == len(set(fired)) == 60
    assert {n for n, _ in fired} == numbers
    async with d.sessions() as s:
        count = len(
            (await s.scalars(select(CaseEvent).where(CaseEvent.action == "escalate"))).all()
        )
    assert count == 60


async def test_the_daily_digest_is_queued_once_per_area_and_day(world: World) -> None:
    d, p = world.casework, world.people
    late = (await d.intake.report(world.draft())).case
    world.clock.now = at(25, 8)
    assert await d.digests.queue() == 3  # community A, the town and the county supervisors
    assert await d.digests.queue() == 0  # the same morning again: nothing new
    async with d.sessions() as s:
        rows = (await s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "digest"))).all()
    county = next(m for m in rows if m.address == f"person:{p['sup_county']}")
    assert [c["number"] for c in county.payload["overdue"]] == [late.number]
    assert county.payload["date"] == "2026-11-24"
    world.clock.now = at(26, 8)
    assert await d.digests.queue() == 3
