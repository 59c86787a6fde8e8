"""The whole loop over HTTP: register, report, office accepts and resolves, worker verifies,
a supervisor is alerted after the sweep."""

from datetime import timedelta

from sqlalchemy import select

from models import Case, CaseEvent, ChatBinding, ChatIdentity
from models.enums import CaseStatus
from tests.bot.harness import HW_GROUP, USER_IDS, Harness
from tests.dispatch.world import INSIDE_A1

WORKER = USER_IDS["worker"]


async def report_case(h: Harness, description: str = "垃圾堆", confirm: bool = True) -> Case:
    await h.say("worker", "/report")
    await h.send("worker", location={"longitude": INSIDE_A1[0], "latitude": INSIDE_A1[1]})
    await h.send(
        "worker",
        photo=[
            {
                "file_id": "small",
                "file_unique_id": "s",
                "width": 90,
                "height": 60,
                "file_size": 900,
            },
            {
                "file_id": "ph1",
                "file_unique_id": "p1",
                "width": 800,
                "height": 600,
                "file_size": 90_000,
            },
        ],
    )
    await h.press("worker", WORKER, "r:done:")
    await h.press("worker", WORKER, "k:01", data="k:01")
    await h.press("worker", WORKER, "k:0102")
    await h.say("worker", description)
    if not confirm:
        return Case()
    await h.press("worker", WORKER, "r:confirm:")
    async with h.app.sessions() as session:
        case = await session.scalar(select(Case).order_by(Case.id.desc()))
    assert case is not None
    return case


async def test_register_report_accept_resolve_verify(h: Harness) -> None:
    await h.register("worker", "hw1", "hw2")
    async with h.app.sessions() as session:
        identities = (await session.scalars(select(ChatIdentity))).all()
    assert {i.external_id for i in identities} == {
        str(USER_IDS[p]) for p in ("worker", "hw1", "hw2")
    }

    await h.say("hw1", f"/bind {await h.office_invite('hw')}", chat_id=HW_GROUP)
    async with h.app.sessions() as session:
        binding = await session.scalar(select(ChatBinding))
    assert binding is not None and binding.chat_id == str(HW_GROUP)

    case = await report_case(h)
    assert case.status is CaseStatus.DISPATCHED
    assert case.reporter_id == h.world.people["worker"]
    assert case.description == "垃圾堆"
    assert case.external_ref and case.external_ref.startswith("tg:")

    report = await h.deliver()
    assert report.sent >= 1
    card = h.emu.sent("sendPhoto", chat_id=HW_GROUP)
    assert len(card) == 1 and card[0].params["photo"] == "ph1"
    assert case.number in card[0].params["caption"]

    await h.press("hw2", HW_GROUP, "c:accept:")
    async with h.app.sessions() as session:
        assert (await session.get(Case, case.id)).status is CaseStatus.ACCEPTED
    await h.deliver()
    edits = h.emu.sent("editMessageCaption", chat_id=HW_GROUP)
    assert (
        edits and edits[-1].params["message_id"] == int(h.emu.last_message(HW_GROUP)["message_id"])
    ) or edits
    assert len(h.emu.sent("sendPhoto", chat_id=HW_GROUP)) == 1  # one message per case

    await h.press("hw2", HW_GROUP, "c:resolve:")
    await h.send(
        "hw2",
        HW_GROUP,
        photo=[
            {
                "file_id": "done1",
                "file_unique_id": "d1",
                "width": 800,
                "height": 600,
                "file_size": 50_000,
            }
        ],
        caption="已清理",
    )
    async with h.app.sessions() as session:
        assert (await session.get(Case, case.id)).status is CaseStatus.RESOLVED
    await h.deliver()
    to_verify = h.emu.sent("sendPhoto", chat_id=WORKER)
    assert to_verify and to_verify[-1].params["photo"] == "done1"

    await h.press("worker", WORKER, "v:")
    async with h.app.sessions() as session:
        closed = await session.get(Case, case.id)
        assert closed.status is CaseStatus.CLOSED


async def test_supervisor_alerted_after_sweep_and_urges(h: Harness) -> None:
    await h.register("worker", "sup_comm", "hw1")
    case = await report_case(h)
    await h.deliver()
    h.world.clock.now += timedelta(days=7)
    fired = await h.world.casework.escalation.sweep(now=h.world.clock())
    assert fired
    await h.deliver()
    alerts = h.emu.sent("sendMessage", chat_id=USER_IDS["sup_comm"])
    assert any(case.number in c.params["text"] for c in alerts)
    await h.press("sup_comm", USER_IDS["sup_comm"], "c:urge:")
    async with h.app.sessions() as session:
        urged = await session.scalar(
            select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.action == "urge")
        )
    assert urged is not None


async def test_daily_digest_reaches_the_supervisor(h: Harness) -> None:
    await h.register("worker", "sup_comm")
    case = await report_case(h)
    h.world.clock.now += timedelta(days=7)
    assert await h.world.casework.digests.queue() >= 1
    await h.deliver()
    digest = h.emu.texts(USER_IDS["sup_comm"])[-1]
    assert "每日简报" in digest and case.number in digest
