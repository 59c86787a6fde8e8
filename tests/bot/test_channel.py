"""The Telegram outbox channel against the emulator: retry-after, blocked users, edits."""

import pytest
from sqlalchemy import select

from dispatch.channels import OutgoingMessage, RetryAfter, Undeliverable
from models import OutboxMessage
from models.enums import OutboxStatus
from tests.bot.harness import USER_IDS, Harness
from tests.bot.test_flow import report_case

WORKER = USER_IDS["worker"]


def message(kind: str = "case.verify", **payload: object) -> OutgoingMessage:
    return OutgoingMessage(1, kind, str(WORKER), "en", {"date": "2026-11-23", **payload})


DIGEST = dict(area="A", received=1, closed=1, due=1, closed_on_time=1, overdue=[])


async def test_retry_after_and_blocked(h: Harness) -> None:
    h.emu.fail_next("sendMessage", 429, "Too Many Requests: retry after 7", retry_after=7)
    with pytest.raises(RetryAfter) as caught:
        await h.channel.send(message("digest", **DIGEST))
    assert caught.value.seconds == 7
    h.emu.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user")
    with pytest.raises(Undeliverable):
        await h.channel.send(message("digest", **DIGEST))
    h.emu.fail_next("sendMessage", 400, "Bad Request: chat not found")
    with pytest.raises(Undeliverable):
        await h.channel.send(message("digest", **DIGEST))
    delivered = await h.channel.send(message("digest", **DIGEST))
    assert delivered.message_id is not None


async def test_outbox_honours_retry_after_then_marks_blocked_user(h: Harness) -> None:
    await h.register("worker")
    case = await report_case(h)
    async with h.app.sessions() as session, session.begin():
        session.add(
            OutboxMessage(
                dedupe_key="t1",
                kind="case.verify",
                case_id=case.id,
                recipient_kind="person",
                channel="telegram",
                address=str(WORKER),
                payload=h.world.casework.snapshot(await h.world.casework.find_case(case.number)),
                next_attempt_at=h.world.clock(),
                created_at=h.world.clock(),
            )
        )
    h.emu.fail_next("sendMessage", 429, "Too Many Requests: retry after 9", retry_after=9)
    report = await h.deliver()
    assert report.retried == 1
    async with h.app.sessions() as session:
        row = await session.scalar(select(OutboxMessage).where(OutboxMessage.dedupe_key == "t1"))
    assert row.status is OutboxStatus.PENDING and row.attempts == 0
    assert (row.next_attempt_at - h.world.clock()).total_seconds() == pytest.approx(9)
    h.world.clock.now = row.next_attempt_at
    h.emu.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user")
    report = await h.deliver()
    assert report.undeliverable == 1
    async with h.app.sessions() as session:
        row = await session.scalar(select(OutboxMessage).where(OutboxMessage.dedupe_key == "t1"))
    assert row.status is OutboxStatus.UNDELIVERABLE


async def test_card_edit_of_a_deleted_message_sends_anew(h: Harness) -> None:
    await h.register("worker")
    case = await report_case(h)
    snapshot = h.world.casework.snapshot(await h.world.casework.find_case(case.number))
    sent = await h.channel.send(
        OutgoingMessage(1, "case.card", "-100200", "zh_CN", snapshot, edit_message_id="4242")
    )
    assert sent.message_id != "4242" and sent.has_photo
    same = await h.channel.send(
        OutgoingMessage(2, "case.card", "-100200", "zh_CN", snapshot, sent.message_id)
    )
    assert same.message_id == sent.message_id


async def test_rectification_messages_reach_the_chat(h: Harness) -> None:
    notice = dict(
        notice_id=7,
        case_id=1,
        number="20261123000001",
        department="环卫处",
        department_en="Sanitation",
        deadline="2026-12-03T02:00:00+00:00",
        requirements="处置后照片缺失",
        status="open",
        level=2,
    )
    await h.channel.send(message("rectification.escalate", **notice))
    text = h.emu.sent("sendMessage")[-1].params["text"]
    assert "Rectification notice 7 (#20261123000001) is unanswered, escalation level 2" in text
    assert "Sanitation" in text and "2026-12-03 10:00" in text and "处置后照片缺失" in text
