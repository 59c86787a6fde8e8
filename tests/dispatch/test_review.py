"""Case-file review (案卷评查) and rectification (整改) end to end on PostgreSQL: scores,
notices with working-day deadlines, answers, send-backs, escalation of unanswered notices,
permissions and bad input."""

from datetime import date

import pytest
from sqlalchemy import func, select

from dispatch.core.errors import IllegalTransition, InvalidInput, NotFound, PermissionDenied
from dispatch.intake import PhotoRef
from dispatch.supervision.review import ChecklistEntry, Verdict
from models import Attachment, CaseEvent, CaseReview, OutboxMessage, RectificationNotice
from models.enums import NoticeStatus
from tests.dispatch.supervision_helpers import (
    all_pass,
    at,
    closed_case,
    supervision,
    with_checklist,
)
from tests.dispatch.world import World


async def case_actions(world: World, case_id: int) -> list[str]:
    async with world.casework.sessions() as s:
        return list(
            (
                await s.scalars(
                    select(CaseEvent.action)
                    .where(CaseEvent.case_id == case_id)
                    .order_by(CaseEvent.id)
                )
            ).all()
        )


async def messages(world: World, kind: str) -> set[str]:
    async with world.casework.sessions() as s:
        rows = await s.scalars(select(OutboxMessage.address).where(OutboxMessage.kind == kind))
        return set(rows.all())


async def count(world: World, model: type) -> int:
    async with world.casework.sessions() as s:
        return await s.scalar(select(func.count()).select_from(model)) or 0


async def test_a_passed_review_scores_full_and_issues_no_notice(world: World) -> None:
    s = supervision(world)
    await with_checklist(world, s)
    case = await closed_case(world)
    world.clock.now = at(25, 10)
    review = await s.reviews.review(world.people["sup_comm"], case.id, all_pass())
    assert (review.score, review.passed) == (100.0, True)
    assert await count(world, RectificationNotice) == 0
    assert (await case_actions(world, case.id))[-1] == "review"


async def test_failed_review_notice_answer_send_back_accept(world: World) -> None:
    s, p = supervision(world), world.people
    await with_checklist(world, s)
    case = await closed_case(world)
    world.clock.now = at(26, 10)  # Thursday
    review = await s.reviews.review(
        p["sup_comm"], case.id, all_pass(photos="缺少处置后照片", reasons="未记录原因")
    )
    assert (review.score, review.passed) == (50.0, False)  # 30 + 20 of 100 failed
    async with world.casework.sessions() as session:
        notice = await session.scalar(select(RectificationNotice))
    assert notice is not None and notice.status is NoticeStatus.OPEN
    # 5 working days from Thursday 10:00, the weekend skipped: next Thursday 10:00
    assert notice.deadline_at == at(3, 10, month=12)
    assert "缺少处置后照片" in notice.requirements and "未记录原因" in notice.requirements
    assert await messages(world, "rectification.issued") == {f"office:{case.department_id}"}

    world.clock.now = at(30, 9)
    await s.rectifications.answer(
        p["hw2"], notice.id, "已补拍照片", [PhotoRef("local", "fix/after.jpg")]
    )
    assert f"person:{p['sup_comm']}" in await messages(world, "rectification.answered")
    world.clock.now = at(30, 10)
    back = await s.rectifications.send_back(p["sup_comm"], notice.id, "照片不清晰")
    assert back.status is NoticeStatus.OPEN and back.next_check_at == at(3, 10, month=12)
    assert await messages(world, "rectification.sent_back") == {f"office:{case.department_id}"}

    world.clock.now = at(4, 9, month=12)  # after the deadline
    await s.rectifications.answer(p["hw1"], notice.id, "重新拍摄清晰照片")
    world.clock.now = at(4, 10, month=12)
    done = await s.rectifications.accept(p["sup_comm"], notice.id)
    assert done.status is NoticeStatus.ACCEPTED and done.on_time is False
    assert await case_actions(world, case.id) == [
        "report",
        "file",
        "dispatch",
        "accept",
        "resolve",
        "verify",
        "review",
        "rectification_notice",
        "rectification_answer",
        "rectification_send_back",
        "rectification_answer",
        "rectification_accept",
    ]
    async with world.casework.sessions() as session:
        photos = (await session.scalars(select(Attachment.purpose))).all()
    assert "rectification" in photos


async def test_an_answer_in_time_counts_on_time(world: World) -> None:
    s, p = supervision(world), world.people
    await with_checklist(world, s)
    case = await closed_case(world)
    world.clock.now = at(26, 10)
    await s.reviews.review(p["sup_town"], case.id, all_pass(category="应为绿地脏乱"))
    async with world.casework.sessions() as session:
        notice = await session.scalar(select(RectificationNotice))
    assert notice is not None
    world.clock.now = at(27, 15)
    await s.rectifications.answer(p["hw1"], notice.id, "已更正分类")
    done = await s.rectifications.accept(p["sup_town"], notice.id, "同意")
    assert done.on_time is True and done.next_check_at is None


async def test_an_unanswered_notice_escalates_like_an_overdue_case(world: World) -> None:
    s, p, d = supervision(world), world.people, world.casework
    await with_checklist(world, s)
    case = await closed_case(world)
    world.clock.now = at(26, 10)
    await s.reviews.review(p["sup_comm"], case.id, all_pass(in_time="超时未说明"))
    assert [e for e in await d.escalation.sweep(at(3, 9, month=12)) if e.notice_id] == []
    fired = await d.escalation.sweep(at(3, 10, 1, month=12))
    assert [(e.case_number, int(e.rung), e.department) for e in fired] == [
        (case.number, 1, "环卫处")
    ]
    assert await d.escalation.sweep(at(3, 11, month=12)) == []  # fired once
    assert {f"person:{p['sup_comm']}", f"person:{p['hw1']}"} <= await messages(
        world, "rectification.escalate"
    )
    # level 2 after 4 further working hours (Thu 16:00), level 3 after 16 (Mon 12:00)
    assert [int(e.rung) for e in await d.escalation.sweep(at(3, 16, 1, month=12))] == [2]
    assert f"person:{p['sup_town']}" in await messages(world, "rectification.escalate")
    assert await d.escalation.sweep(at(7, 11, 59, month=12)) == []
    assert [int(e.rung) for e in await d.escalation.sweep(at(7, 12, 1, month=12))] == [3]
    assert f"person:{p['sup_county']}" in await messages(world, "rectification.escalate")
    assert await d.escalation.sweep(at(20, 12, month=12)) == []
    levels = [a for a in await case_actions(world, case.id) if a == "rectification_escalate"]
    assert len(levels) == 3


async def test_an_answered_notice_stops_climbing(world: World) -> None:
    s, p, d = supervision(world), world.people, world.casework
    await with_checklist(world, s)
    case = await closed_case(world)
    world.clock.now = at(26, 10)
    await s.reviews.review(p["sup_comm"], case.id, all_pass(in_time="超时未说明"))
    async with d.sessions() as session:
        notice_id = await session.scalar(select(RectificationNotice.id))
    world.clock.now = at(1, 9, month=12)
    assert notice_id is not None
    await s.rectifications.answer(p["hw1"], notice_id, "补充超时说明")
    assert await d.escalation.sweep(at(10, 9, month=12)) == []


async def test_catch_up_fires_missed_levels_once(world: World) -> None:
    s, p, d = supervision(world), world.people, world.casework
    await with_checklist(world, s)
    case = await closed_case(world)
    world.clock.now = at(26, 10)
    await s.reviews.review(p["sup_comm"], case.id, all_pass(in_time="超时"))
    fired = await d.escalation.sweep(at(15, 9, month=12))
    assert sorted(int(e.rung) for e in fired) == [1, 2, 3]
    assert await d.escalation.sweep(at(16, 9, month=12)) == []


async def test_bad_input_changes_nothing(world: World) -> None:
    s, p, d = supervision(world), world.people, world.casework
    case = await closed_case(world)
    with pytest.raises(InvalidInput, match="checklist is empty"):
        await s.reviews.review(p["sup_comm"], case.id, [])
    await with_checklist(world, s)
    open_case = (await d.intake.report(world.draft())).case
    with pytest.raises(InvalidInput, match="not closed"):
        await s.reviews.review(p["sup_comm"], open_case.id, all_pass())
    with pytest.raises(InvalidInput, match="Give a finding for: 分类准确"):
        await s.reviews.review(p["sup_comm"], case.id, all_pass()[:3])
    with pytest.raises(InvalidInput, match="Unknown or repeated"):
        await s.reviews.review(p["sup_comm"], case.id, [*all_pass(), Verdict("bogus", True)])
    with pytest.raises(InvalidInput, match="Say what is wrong with: 在时限内办结"):
        await s.reviews.review(p["sup_comm"], case.id, all_pass(in_time=" "))
    with pytest.raises(NotFound, match="Office 999 does not exist"):
        await s.reviews.review(
            p["sup_comm"], case.id, all_pass(in_time="超时"), notice_department_id=999
        )
    with pytest.raises(PermissionDenied):
        await s.reviews.review(p["dispatcher"], case.id, all_pass())
    other = await closed_case(world, day=24, at=(120.015, 30.515))  # community B
    with pytest.raises(PermissionDenied, match="outside your area"):
        await s.reviews.review(p["sup_comm"], other.id, all_pass())
    with pytest.raises(InvalidInput, match="weight"):
        await s.reviews.save_item(p["admin"], ChecklistEntry("x", "某项", "", 0))
    with pytest.raises(PermissionDenied):
        await s.reviews.save_item(p["sup_comm"], ChecklistEntry("x", "某项", "", 10))
    assert await count(world, CaseReview) == 0
    assert await count(world, RectificationNotice) == 0
    assert "review" not in await case_actions(world, case.id)

    await s.reviews.review(p["sup_comm"], case.id, all_pass(in_time="超时"))
    with pytest.raises(InvalidInput, match="already reviewed"):
        await s.reviews.review(p["sup_town"], case.id, all_pass())
    async with d.sessions() as session:
        notice_id = await session.scalar(select(RectificationNotice.id))
    assert notice_id is not None
    with pytest.raises(NotFound):
        await s.rectifications.answer(p["hw1"], 12345, "x")
    with pytest.raises(PermissionDenied, match="not addressed to your office"):
        await s.rectifications.answer(p["cg1"], notice_id, "不是我们")
    with pytest.raises(InvalidInput, match="Say what was corrected"):
        await s.rectifications.answer(p["hw1"], notice_id, "  ")
    with pytest.raises(IllegalTransition):
        await s.rectifications.accept(p["sup_comm"], notice_id)  # nothing answered yet
    await s.rectifications.answer(p["hw1"], notice_id, "已整改")
    with pytest.raises(IllegalTransition):
        await s.rectifications.answer(p["hw1"], notice_id, "再次")
    with pytest.raises(InvalidInput, match="reason"):
        await s.rectifications.send_back(p["sup_comm"], notice_id, "")
    with pytest.raises(PermissionDenied):
        await s.rectifications.accept(p["hw1"], notice_id)


async def test_sample_draws_closed_unreviewed_cases_per_office(world: World) -> None:
    s, p = supervision(world), world.people
    await with_checklist(world, s)
    cases = [await closed_case(world, day=day) for day in (23, 24, 25)]
    await d_open(world)
    drawn = await s.reviews.sample(p["sup_comm"], date(2026, 11, 1), 2)
    assert len(drawn) == 2 and {c.id for c in drawn} <= {c.id for c in cases}
    await s.reviews.review(p["sup_comm"], cases[0].id, all_pass())
    left = await s.reviews.sample(p["sup_comm"], date(2026, 11, 1), 5)
    assert {c.id for c in left} == {cases[1].id, cases[2].id}
    assert await s.reviews.sample(p["sup_comm"], date(2026, 10, 1), 5) == []
    with pytest.raises(InvalidInput):
        await s.reviews.sample(p["sup_comm"], date(2026, 11, 1), 0)


async def d_open(world: World) -> None:
    """An open case in the same month, which a sample must not draw."""
    await world.casework.intake.report(world.draft(category="0103"))
