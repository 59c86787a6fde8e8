"""Every path of the closed loop, its permissions and its bad input, on PostgreSQL."""

import asyncio
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from dispatch.casework import Casework
from dispatch.core.commands import DispatchTo, MergeInto, RequestExtension, TransferTo
from dispatch.core.errors import (
    ConcurrentUpdate,
    IllegalTransition,
    InvalidInput,
    NotFound,
    OutsideJurisdiction,
    PermissionDenied,
)
from dispatch.core.lifecycle import RULES, Action
from dispatch.geography import GridDirectory
from models import Case, CaseEvent, OutboxMessage
from models.enums import CaseSource, CaseStatus, Role
from tests.dispatch.world import INSIDE_A1, INSIDE_B2, SHANGHAI, World, settings


async def events(world: World, case_id: int) -> list[tuple[str, str | None, str | None]]:
    async with world.casework.sessions() as s:
        rows = (
            await s.scalars(
                select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)
            )
        ).all()
    return [(e.action, e.from_status, e.to_status) for e in rows]


async def outbox(world: World, case_id: int) -> list[tuple[str, str]]:
    async with world.casework.sessions() as s:
        rows = (
            await s.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.case_id == case_id)
                .order_by(OutboxMessage.id)
            )
        ).all()
    return [(m.kind, m.address) for m in rows]


def at(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


async def test_grid_worker_report_is_filed_and_dispatched_by_the_rules(world: World) -> None:
    result = await world.casework.intake.report(world.draft(description="垃圾堆在路边"))
    case = result.case
    assert result.created
    assert case.status is CaseStatus.DISPATCHED
    assert case.number.startswith("20261123")
    assert world.casework.catalog.department_name(case.department_id) == "环卫处"
    # 4 working hours from Monday 09:00: 3 h in the morning, 1 h after lunch.
    assert case.deadline_at == at(23, 15)
    assert await events(world, case.id) == [
        ("report", None, "reported"),
        ("file", "reported", "filed"),
        ("dispatch", "filed", "dispatched"),
    ]
    assert [kind for kind, _ in await outbox(world, case.id)] == ["case.card"]


async def test_the_whole_loop_closes_on_time(world: World) -> None:
    d, p = world.casework, world.people
    case = (await d.intake.report(world.draft())).case
    world.clock.now = at(23, 10)
    await d.steps.act(Action.ACCEPT, case.id, p["hw1"])
    world.clock.now = at(23, 14, 30)
    await d.steps.act(Action.RESOLVE, case.id, p["hw1"], note="已清理")
    world.clock.now = at(23, 16)
    closed = await d.steps.act(Action.VERIFY, case.id, p["worker"])
    assert closed.status is CaseStatus.CLOSED
    assert closed.closed_on_time is True
    assert closed.handling_work_seconds == 3 * 3600 + 30 * 60
    kinds = [k for k, _ in await outbox(world, case.id)]
    assert "case.to_verify" in kinds and "case.verify" in kinds


async def test_rework_sends_the_case_back_and_counts(world: World) -> None:
    d, p = world.casework, world.people
    case = (await d.intake.report(world.draft())).case
    await d.steps.act(Action.ACCEPT, case.id, p["hw2"])
    await d.steps.act(Action.RESOLVE, case.id, p["hw2"], note="done")
    world.clock.now = at(24, 9)
    with pytest.raises(InvalidInput, match="reason"):
        await d.steps.act(Action.REWORK, case.id, p["worker"], note="")
    reworked = await d.steps.act(Action.REWORK, case.id, p["worker"], note="还有垃圾")
    assert reworked.status is CaseStatus.ACCEPTED
    assert reworked.rework_count == 1
    assert reworked.deadline_at == at(24, 15)  # the full limit again from now


async def test_return_and_redispatch_and_transfer(world: World) -> None:
    d, p = world.casework, world.people
    case = (await d.intake.report(world.draft())).case
    with pytest.raises(InvalidInput, match="reason"):
        await d.steps.act(Action.RETURN, case.id, p["hw1"], note="  ")
    returned = await d.steps.act(Action.RETURN, case.id, p["hw1"], note="不属于环卫")
    assert returned.status is CaseStatus.RETURNED
    cgzf = world.casework.catalog.departments_by_code["cgzf"].id
    redispatched = await d.steps.act(DispatchTo(cgzf), case.id, p["dispatcher"])
    assert (redispatched.status, redispatched.department_id) == (CaseStatus.DISPATCHED, cgzf)
    hw = world.casework.catalog.departments_by_code["hw"].id
    moved = await d.steps.act(TransferTo(hw), case.id, p["cg1"], note="移送环卫")
    assert (moved.status, moved.department_id) == (CaseStatus.DISPATCHED, hw)
    addresses = [a for k, a in await outbox(world, case.id) if k == "case.return"]
    assert addresses == [f"person:{p['dispatcher']}"]


async def test_extension_moves_the_deadline_and_only_before_it(world: World) -> None:
    d, p = world.casework, world.people
    case = (await d.intake.report(world.draft())).case
    await d.steps.act(Action.ACCEPT, case.id, p["hw1"])
    until = at(24, 12)
    await d.steps.act(RequestExtension(until), case.id, p["hw1"], note="需要机械")
    with pytest.raises(InvalidInput, match="already pending"):
        await d.steps.act(RequestExtension(until), case.id, p["hw1"], note="again")
    extended = await d.steps.act(Action.APPROVE_EXTENSION, case.id, p["dispatcher"])
    assert extended.deadline_at == until
    assert extended.extension_requested_until is None
    world.clock.now = at(24, 13)
    with pytest.raises(InvalidInput, match="before the deadline"):
        await d.steps.act(RequestExtension(at(25, 12)), case.id, p["hw1"], note="late")


async def test_denied_extension_keeps_the_deadline(world: World) -> None:
    d, p = world.casework, world.people
    case = (await d.intake.report(world.draft())).case
    await d.steps.act(Action.ACCEPT, case.id, p["hw1"])
    await d.steps.act(RequestExtension(at(25, 12)), case.id, p["hw1"], note="x")
    denied = await d.steps.act(Action.DENY_EXTENSION, case.id, p["dispatcher"], note="不批准")
    assert denied.deadline_at == at(23, 15)
    assert denied.extension_requested_until is None


async def test_suspended_time_does_not_count(world: World) -> None:
    d, p = world.casework, world.people
    case = (await d.intake.report(world.draft())).case  # Monday 09:00, deadline 15:00
    world.clock.now = at(23, 10)  # 1 of 4 working hours used
    await d.steps.act(Action.SUSPEND, case.id, p["dispatcher"], note="等待产权认定")
    world.clock.now = at(25, 9)  # Wednesday
    resumed = await d.steps.act(Action.RESUME, case.id, p["dispatcher"])
    assert resumed.status is CaseStatus.DISPATCHED
    assert resumed.deadline_at == at(25, 12)  # 3 working hours left: 09:00 → 12:00


async def test_void_needs_a_reason_and_changes_nothing_without_one(world: World) -> None:
    d, p = world.casework, world.people
    case = (await d.intake.report(world.draft())).case
    before = await events(world, case.id)
    with pytest.raises(InvalidInput):
        await d.steps.act(Action.VOID, case.id, p["dispatcher"])
    assert await events(world, case.id) == before
    voided = await d.steps.act(Action.VOID, case.id, p["dispatcher"], note="误报")
    assert voided.status is CaseStatus.VOIDED
    with pytest.raises(IllegalTransition):
        await d.steps.act(Action.ACCEPT, case.id, p["hw1"])


@pytest.mark.parametrize(
    ("who", "action", "message"),
    [
        ("cg1", Action.ACCEPT, "not with your office"),
        ("worker", Action.FILE, "role may not"),
        ("hw1", Action.VOID, "role may not"),
        ("sup_town", Action.ACCEPT, "role may not"),
        ("admin", Action.DISPATCH, "role may not"),
    ],
)
async def test_permissions(world: World, who: str, action: Action, message: str) -> None:
    case = (await world.casework.intake.report(world.draft())).case
    with pytest.raises(PermissionDenied, match=message):
        await world.casework.steps.act(action, case.id, world.people[who], note="x")


async def test_only_the_reporter_verifies(world: World) -> None:
    d, p = world.casework, world.people
    case = (await d.intake.report(world.draft())).case
    await d.steps.act(Action.ACCEPT, case.id, p["hw1"])
    await d.steps.act(Action.RESOLVE, case.id, p["hw1"], note="ok")
    with pytest.raises(PermissionDenied, match="Only the reporter"):
        await d.steps.act(Action.VERIFY, case.id, p["worker2"])
    closed = await d.steps.act(Action.VERIFY, case.id, p["dispatcher"])
    assert closed.status is CaseStatus.CLOSED


async def test_supervisor_scope(world: World) -> None:
    d, p = world.casework, world.people
    in_b = (await d.intake.report(world.draft("worker2", at=INSIDE_B2))).case
    with pytest.raises(PermissionDenied, match="outside your area"):
        await d.steps.act(Action.URGE, in_b.id, p["sup_comm"])  # community A's supervisor
    await d.steps.act(Action.URGE, in_b.id, p["sup_town"], note="请尽快处理")
    hw = d.catalog.departments_by_code["hw"].id
    assert ("case.urge", f"office:{hw}") in await outbox(world, in_b.id)


async def test_two_office_members_accept_at_once(world: World) -> None:
    d, p = world.casework, world.people
    case = (await d.intake.report(world.draft())).case
    results = await asyncio.gather(
        d.steps.act(Action.ACCEPT, case.id, p["hw1"]),
        d.steps.act(Action.ACCEPT, case.id, p["hw2"]),
        return_exceptions=True,
    )
    winners = [r for r in results if isinstance(r, Case)]
    losers = [r for r in results if isinstance(r, Exception)]
    assert len(winners) == 1 and len(losers) == 1
    assert isinstance(losers[0], IllegalTransition | ConcurrentUpdate)
    assert "already accepted by" in str(losers[0])
    assert [e for e in await events(world, case.id) if e[0] == "accept"] == [
        ("accept", "dispatched", "accepted")
    ]


async def test_stale_button_is_refused(world: World) -> None:
    d, p = world.casework, world.people
    case = (await d.intake.report(world.draft())).case
    await d.steps.act(Action.ACCEPT, case.id, p["hw1"])
    with pytest.raises(ConcurrentUpdate):
        await d.steps.act(
            Action.RESOLVE, case.id, p["hw1"], note="x", expected_version=case.version
        )


async def test_citizen_report_waits_for_a_dispatcher(world: World) -> None:
    d, p = world.casework, world.people
    draft = world.draft(None, source=CaseSource.CITIZEN, reporter_contact={"name": "市民"})
    case = (await d.intake.report(draft)).case
    assert case.status is CaseStatus.REPORTED and case.deadline_at is None
    assert ("case.new_report", f"person:{p['dispatcher']}") in await outbox(world, case.id)
    await d.steps.act(Action.FILE, case.id, p["dispatcher"])
    dispatched = await d.steps.act(Action.DISPATCH, case.id, p["dispatcher"])
    assert world.casework.catalog.department_name(dispatched.department_id) == "环卫处"


async def test_unowned_category_falls_to_the_community_office(world: World) -> None:
    case = (await world.casework.intake.report(world.draft(category="0701", at=INSIDE_B2))).case
    assert world.casework.catalog.department_name(case.department_id) == "城北村村委会"


async def test_clock_can_start_at_acceptance(world: World) -> None:
    d, p = world.casework, world.people
    case = (await d.intake.report(world.draft(category="0103"))).case
    assert case.deadline_at is None
    world.clock.now = at(24, 10)
    accepted = await d.steps.act(Action.ACCEPT, case.id, p["hw1"])
    assert accepted.deadline_at == at(1, 10, month=12)  # 5 working days later


async def test_emergency_limit_runs_in_plain_hours(world: World) -> None:
    world.clock.now = at(28, 22)  # Saturday night
    case = (await world.casework.intake.report(world.draft(category="0501"))).case
    assert case.deadline_at == at(29, 0)


async def test_bad_reports_change_nothing(world: World) -> None:
    d = world.casework
    with pytest.raises(OutsideJurisdiction):
        await d.intake.report(world.draft(at=(121.5, 31.2)))
    with pytest.raises(NotFound):
        await d.intake.report(world.draft(category="9999"))
    with pytest.raises(InvalidInput, match="sub-category"):
        await d.intake.report(world.draft(category="01"))
    with pytest.raises(InvalidInput, match="longer than"):
        await d.intake.report(world.draft(description="x" * 4001))
    with pytest.raises(InvalidInput, match="not a number"):
        await d.intake.report(world.draft(at=(float("nan"), 30.5)))
    with pytest.raises(NotFound):
        await d.steps.act(Action.ACCEPT, 12345, world.people["hw1"])
    async with d.sessions() as s:
        assert await s.scalar(select(func.count(Case.id))) == 0


async def test_the_same_report_sent_twice_is_one_case(world: World) -> None:
    first = await world.casework.intake.report(world.draft(external_ref="tg:1:42"))
    again = await world.casework.intake.report(world.draft(external_ref="tg:1:42"))
    assert again.case.id == first.case.id and not again.created


async def test_the_same_report_from_two_instances_at_once_is_one_case(world: World) -> None:
    other = Casework(world.casework.sessions, GridDirectory(30.0), settings(), world.clock)
    await other.refresh()
    results = await asyncio.gather(
        *(d.intake.report(world.draft(external_ref="tg:7:1")) for d in (world.casework, other) * 3)
    )
    assert len({r.case.id for r in results}) == 1
    assert sum(r.created for r in results) == 1


async def test_the_same_link_from_two_instances_is_recorded_once(world: World) -> None:
    first = (await world.casework.intake.report(world.draft())).case
    other = Casework(world.casework.sessions, GridDirectory(30.0), settings(), world.clock)
    await other.refresh()
    draft = world.draft("worker2", duplicate_of=first.id, external_ref="tg:9:3")
    results = await asyncio.gather(*(d.intake.report(draft) for d in (world.casework, other) * 2))
    assert {r.case.id for r in results} == {first.id} and not any(r.created for r in results)
    links = [e for e in await events(world, first.id) if e[0] == "duplicate_report"]
    assert len(links) == 1


async def test_duplicates_are_offered_and_can_be_linked(world: World) -> None:
    d = world.casework
    first = (await d.intake.report(world.draft())).case
    nearby = (INSIDE_A1[0] + 0.0002, INSIDE_A1[1])  # about 19 m east
    preview = await d.intake.preview(world.draft("worker", at=nearby))
    assert [c.number for c in preview.duplicates] == [first.number]
    assert 15 < preview.duplicates[0].distance_m < 25
    far = await d.intake.preview(world.draft("worker", at=(INSIDE_A1[0] + 0.002, INSIDE_A1[1])))
    assert far.duplicates == []
    other_category = await d.intake.preview(world.draft("worker", category="0701", at=nearby))
    assert other_category.duplicates == []
    linked = await d.intake.report(world.draft("worker2", at=nearby, duplicate_of=first.id))
    assert not linked.created and linked.case.id == first.id
    assert ("duplicate_report", "dispatched", "dispatched") in await events(world, first.id)
    async with d.sessions() as s:
        assert await s.scalar(select(func.count(Case.id))) == 1


async def test_merge_a_later_case_into_an_earlier_one(world: World) -> None:
    d, p = world.casework, world.people
    first = (await d.intake.report(world.draft())).case
    second = (await d.intake.report(world.draft("worker2"))).case
    merged = await d.steps.act(MergeInto(first.id), second.id, p["dispatcher"])
    assert merged.status is CaseStatus.MERGED and merged.duplicate_of_id == first.id
    assert ("case.merge", f"person:{p['worker2']}") in await outbox(world, second.id)


async def test_reopen_within_the_configured_days(world: World) -> None:
    d, p = world.casework, world.people
    case = (await d.intake.report(world.draft())).case
    await d.steps.act(Action.ACCEPT, case.id, p["hw1"])
    await d.steps.act(Action.RESOLVE, case.id, p["hw1"], note="ok")
    await d.steps.act(Action.VERIFY, case.id, p["worker"])
    world.clock.now += timedelta(days=3)
    reopened = await d.steps.act(Action.REOPEN, case.id, p["dispatcher"], note="复发")
    assert reopened.status is CaseStatus.DISPATCHED and reopened.closed_at is None
    await d.steps.act(Action.ACCEPT, case.id, p["hw1"])
    await d.steps.act(Action.RESOLVE, case.id, p["hw1"], note="ok")
    await d.steps.act(Action.VERIFY, case.id, p["worker"])
    world.clock.now += timedelta(days=8)
    with pytest.raises(InvalidInput, match="cannot be reopened"):
        await d.steps.act(Action.REOPEN, case.id, p["dispatcher"], note="again")


ROLE_USER = {
    Role.GRID_WORKER: "worker",
    Role.OFFICE_MEMBER: "hw1",
    Role.DISPATCHER: "dispatcher",
    Role.SUPERVISOR: "sup_county",
    Role.ADMIN: "admin",
}


async def test_every_role_outside_a_rule_is_refused_and_nothing_changes(world: World) -> None:
    d = world.casework
    case = (await d.intake.report(world.draft())).case
    before = await events(world, case.id)
    for action, rule in RULES.items():
        for role, user in ROLE_USER.items():
            if role in rule.roles:
                continue
            with pytest.raises(PermissionDenied, match="role may not"):
                await d.steps.act(action, case.id, world.people[user], note="x")
    assert await events(world, case.id) == before


@pytest.mark.parametrize(
    ("action", "user"),
    [
        (Action.ACCEPT, "cg1"),  # another office
        (Action.RETURN, "cg1"),
        (Action.RESOLVE, "cg1"),
        (Action.REQUEST_EXTENSION, "cg1"),
        (Action.VERIFY, "worker2"),  # not the reporter
        (Action.REWORK, "worker2"),
        (Action.URGE, "sup_comm"),  # the case lies in another community
    ],
)
async def test_out_of_scope_is_refused(world: World, action: Action, user: str) -> None:
    case = (await world.casework.intake.report(world.draft(at=INSIDE_B2))).case
    with pytest.raises(PermissionDenied):
        await world.casework.steps.act(action, case.id, world.people[user], note="x")


async def test_messages_carry_the_version_the_case_ends_up_with(world: World) -> None:
    """Buttons in a message name the case version; a stale one is refused, a fresh one not."""
    d, p = world.casework, world.people
    case = (await d.intake.report(world.draft())).case
    accepted = await d.steps.act(Action.ACCEPT, case.id, p["hw1"])
    async with d.sessions() as s:
        cards = (
            await s.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.case_id == case.id, OutboxMessage.kind == "case.card")
                .order_by(OutboxMessage.id)
            )
        ).all()
    assert [m.payload["version"] for m in cards] == [case.version, accepted.version]
    await d.steps.act(
        Action.RESOLVE, case.id, p["hw1"], note="ok", expected_version=accepted.version
    )
