"""Follow-up (回访) end to end on PostgreSQL: a follow-up falls due at the closure of a citizen's
or the hotline's case; a dispatcher's call or the citizen's one-time link records it; 不满意
reopens within the reopen window; bad input changes nothing."""

import pytest
from sqlalchemy import func, select

from dispatch.core.errors import InvalidInput, NotFound, PermissionDenied
from dispatch.core.lifecycle import Action
from dispatch.supervision.followup import Answer, link_tokens
from dispatch.supervision.service import Supervision, SupervisionSettings
from models import Case, CaseEvent, FollowUp
from models.enums import CaseSource, CaseStatus, Satisfaction
from tests.dispatch.supervision_helpers import at
from tests.dispatch.world import World


async def closed_citizen_case(world: World, source: CaseSource = CaseSource.CITIZEN) -> Case:
    d, p = world.casework, world.people
    world.clock.now = at(23, 9)
    draft = world.draft(who="", source=source, reporter_contact={"name": "王女士"})
    case = (await d.intake.report(draft)).case
    await d.steps.act(Action.FILE, case.id, p["dispatcher"])
    await d.steps.act(Action.DISPATCH, case.id, p["dispatcher"])
    await d.steps.act(Action.ACCEPT, case.id, p["hw1"])
    world.clock.now = at(23, 10)
    await d.steps.act(Action.RESOLVE, case.id, p["hw1"], "已清理")
    world.clock.now = at(23, 11)  # Monday
    return await d.steps.act(Action.VERIFY, case.id, p["dispatcher"])


async def follow_ups(world: World, case_id: int) -> list[FollowUp]:
    async with world.casework.sessions() as session:
        rows = await session.scalars(
            select(FollowUp).where(FollowUp.case_id == case_id).order_by(FollowUp.id)
        )
        return list(rows.all())


def supervision(world: World) -> Supervision:
    return Supervision(world.casework.runtime, SupervisionSettings())


async def test_closure_opens_a_follow_up_and_the_call_records_it(world: World) -> None:
    s, p = supervision(world), world.people
    case = await closed_citizen_case(world, CaseSource.HOTLINE)
    (pending,) = await follow_ups(world, case.id)
    assert pending.due_at == at(26, 11)  # 3 working days after Monday 11:00
    async with world.casework.sessions() as session:
        assert await link_tokens(session, [case.number or ""]) == {case.number: pending.token}
    world.clock.now = at(24, 15)
    done = await s.followups.record_call(p["dispatcher"], case.id, Answer(Satisfaction.SATISFIED))
    assert done.satisfaction is Satisfaction.SATISFIED and done.channel == "phone"
    async with world.casework.sessions() as session:
        assert await link_tokens(session, [case.number or ""]) == {}
    with pytest.raises(InvalidInput, match="No follow-up"):
        await s.followups.record_call(p["dispatcher"], case.id, Answer(Satisfaction.SATISFIED))


async def test_dissatisfied_call_reopens_within_the_window(world: World) -> None:
    s, p, d = supervision(world), world.people, world.casework
    case = await closed_citizen_case(world)
    world.clock.now = at(25, 10)
    answer = Answer(Satisfaction.DISSATISFIED, "垃圾又堆起来了", reopen=True)
    done = await s.followups.record_call(p["dispatcher"], case.id, answer)
    assert done.reopened
    reopened = await d.find_case(case.number or "")
    assert reopened.status is CaseStatus.DISPATCHED and reopened.deadline_at is not None
    async with d.sessions() as session:
        events = (
            await session.scalars(
                select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)
            )
        ).all()
    assert [e.action for e in events][-2:] == ["follow_up", "reopen"]
    assert events[-1].note == "不满意：垃圾又堆起来了"
    # closed again: a new follow-up falls due
    await d.steps.act(Action.ACCEPT, case.id, p["hw1"])
    await d.steps.act(Action.RESOLVE, case.id, p["hw1"], "再次清理")
    await d.steps.act(Action.VERIFY, case.id, p["dispatcher"])
    assert [f.answered_at is None for f in await follow_ups(world, case.id)] == [False, True]


async def test_citizen_answers_by_link_once_and_reopens(world: World) -> None:
    s, d = supervision(world), world.casework
    case = await closed_citizen_case(world)
    (pending,) = await follow_ups(world, case.id)
    world.clock.now = at(24, 20)
    with pytest.raises(NotFound, match="not valid"):
        await s.followups.answer_link("forged" + pending.token[6:], Answer(Satisfaction.SATISFIED))
    with pytest.raises(InvalidInput, match="not satisfied"):
        await s.followups.answer_link(pending.token, Answer(Satisfaction.DISSATISFIED, " "))
    assert (await follow_ups(world, case.id))[0].answered_at is None
    await s.followups.answer_link(pending.token, Answer(Satisfaction.DISSATISFIED, "没有清理干净"))
    assert (await d.find_case(case.number or "")).status is CaseStatus.DISPATCHED
    with pytest.raises(InvalidInput, match="already answered"):
        await s.followups.answer_link(pending.token, Answer(Satisfaction.SATISFIED))


async def test_dissatisfied_after_the_window_is_recorded_without_reopening(world: World) -> None:
    s, p, d = supervision(world), world.people, world.casework
    case = await closed_citizen_case(world)
    (pending,) = await follow_ups(world, case.id)
    world.clock.now = at(10, 9, month=12)  # 17 days later; the window is 7
    answer = Answer(Satisfaction.DISSATISFIED, "太慢", reopen=True)
    with pytest.raises(InvalidInput, match="more than 7 days"):
        await s.followups.record_call(p["dispatcher"], case.id, answer)
    assert (await follow_ups(world, case.id))[0].answered_at is None  # nothing changed
    await s.followups.answer_link(pending.token, Answer(Satisfaction.DISSATISFIED, "太慢"))
    (answered,) = await follow_ups(world, case.id)
    assert answered.satisfaction is Satisfaction.DISSATISFIED and not answered.reopened
    assert (await d.find_case(case.number or "")).status is CaseStatus.CLOSED


async def test_follow_up_bad_input_and_permissions(world: World) -> None:
    s, p, d = supervision(world), world.people, world.casework
    world.clock.now = at(23, 9)
    worker_case = (await d.intake.report(world.draft())).case  # a grid worker's: no citizen
    with pytest.raises(InvalidInput, match="had no citizen"):
        await s.followups.record_call(
            p["dispatcher"], worker_case.id, Answer(Satisfaction.SATISFIED)
        )
    case = await closed_citizen_case(world)
    with pytest.raises(PermissionDenied):
        await s.followups.record_call(p["hw1"], case.id, Answer(Satisfaction.SATISFIED))
    with pytest.raises(InvalidInput, match="not satisfied"):
        await s.followups.record_call(p["dispatcher"], case.id, Answer(Satisfaction.DISSATISFIED))
    async with d.sessions() as session:
        answered = await session.scalar(
            select(func.count()).select_from(FollowUp).where(FollowUp.answered_at.is_not(None))
        )
    assert answered == 0
