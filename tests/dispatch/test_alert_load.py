"""A case found long overdue fires every level it passed, on record, but each recipient hears
of it once, at the level the case has reached; the office is told its case is overdue
(issue 10)."""

from datetime import datetime

from sqlalchemy import select

from dispatch.core.deadlines import Rung
from dispatch.core.lifecycle import Action
from models import CaseEvent, OutboxMessage
from tests.dispatch.world import SHANGHAI, World


async def test_a_long_overdue_case_alerts_each_recipient_once(world: World) -> None:
    d, p = world.casework, world.people
    case = (await d.intake.report(world.draft())).case
    await d.steps.act(Action.ACCEPT, case.id, p["hw1"])
    fired = await d.escalation.sweep(
        datetime(2026, 12, 7, 9, tzinfo=SHANGHAI)
    )  # 10 working days late
    assert [e.rung for e in fired] == [Rung.LEVEL1, Rung.LEVEL2, Rung.LEVEL3]
    async with d.sessions() as s:
        levels = (
            await s.scalars(
                select(CaseEvent.payload).where(
                    CaseEvent.case_id == case.id, CaseEvent.action == "escalate"
                )
            )
        ).all()
        rows = (
            await s.scalars(
                select(OutboxMessage).where(
                    OutboxMessage.kind.in_(["case.escalate", "case.overdue"])
                )
            )
        ).all()
    assert [e["level"] for e in levels] == [1, 2, 3]
    escalations = [m for m in rows if m.kind == "case.escalate"]
    addresses = [m.address for m in escalations]
    assert sorted(addresses) == sorted(set(addresses))  # one message each
    assert {f"person:{p[who]}" for who in ("sup_comm", "sup_town", "sup_county")} <= set(addresses)
    assert {m.payload["level"] for m in escalations} == {3}
    assert [m.address for m in rows if m.kind == "case.overdue"] == [f"office:{case.department_id}"]
