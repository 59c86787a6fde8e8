"""Bad input and hostile updates: a clear reply, no state corrupted, nothing lost."""

from sqlalchemy import func, select

from models import Case, ChatState, InboundUpdate
from models.enums import CaseStatus
from tests.bot.harness import CG_GROUP, HW_GROUP, USER_IDS, Harness
from tests.bot.test_flow import report_case
from tests.dispatch.world import INSIDE_A1

WORKER = USER_IDS["worker"]


async def count_cases(h: Harness) -> int:
    async with h.app.sessions() as session:
        return await session.scalar(select(func.count(Case.id))) or 0


async def office_with_card(h: Harness) -> Case:
    await h.register("worker", "hw1", "hw2", "cg1")
    await h.say("hw1", f"/bind {await h.office_invite('hw')}", chat_id=HW_GROUP)
    await h.say("cg1", f"/bind {await h.office_invite('cgzf')}", chat_id=CG_GROUP)
    case = await report_case(h)
    await h.deliver()
    return case


async def status_of(h: Harness, case_id: int) -> CaseStatus:
    async with h.app.sessions() as session:
        case = await session.get(Case, case_id)
        assert case is not None
        return case.status


async def test_webhook_requires_the_secret(h: Harness) -> None:
    update = h.message("worker", text="/start")
    assert await h.post(update, secret=None) == 401
    assert await h.post(update, secret="wrong") == 401
    assert h.emu.sent("sendMessage") == []
    assert await h.post(update) == 200
    assert len(h.emu.sent("sendMessage")) == 1


async def test_an_update_that_does_not_validate_is_refused_and_not_stored(h: Harness) -> None:
    update = {"update_id": 7, "message": {"message_id": "x", "date": "never", "chat": {}}}
    assert await h.post(update) == 400
    async with h.app.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(InboundUpdate)) == 0


async def test_same_update_twice_is_processed_once(h: Harness) -> None:
    update = h.message("worker", text=f"/start {await h.invite('worker')}")
    assert await h.post(update) == 200
    assert await h.post(update) == 200
    assert len(h.emu.sent("sendMessage", chat_id=WORKER)) == 1
    async with h.app.sessions() as session:  # kept once, by its update id
        assert await session.scalar(select(func.count()).select_from(InboundUpdate)) == 1


async def test_unregistered_user_is_told_how_to_register(h: Harness) -> None:
    await h.say("worker", "/report")
    assert "/start" in h.emu.texts(WORKER)[-1]
    assert "邀请码" in h.emu.texts(WORKER)[-1]
    await h.say("worker", "/start NOSUCHCODE")
    assert "邀请码无效" in h.emu.texts(WORKER)[-1]


async def test_text_instead_of_location_and_location_outside(h: Harness) -> None:
    await h.register("worker")
    await h.say("worker", "/report")
    await h.say("worker", "in front of the school")
    assert "位置" in h.emu.texts(WORKER)[-1]
    await h.send("worker", location={"longitude": 116.4, "latitude": 39.9})
    assert "不在辖区" in h.emu.texts(WORKER)[-1]
    assert await count_cases(h) == 0
    # still waiting for a location: a good one moves on
    await h.send("worker", location={"longitude": INSIDE_A1[0], "latitude": INSIDE_A1[1]})
    assert "照片" in h.emu.texts(WORKER)[-1]


async def test_document_and_huge_photo_are_refused(h: Harness) -> None:
    await h.register("worker")
    await h.say("worker", "/report")
    await h.send("worker", location={"longitude": INSIDE_A1[0], "latitude": INSIDE_A1[1]})
    await h.send(
        "worker",
        document={"file_id": "doc1", "file_unique_id": "d", "file_name": "x.jpg"},
    )
    assert "不要以文件发送" in h.emu.texts(WORKER)[-1]
    huge = {"file_id": "big", "file_unique_id": "b", "width": 9000, "height": 9000}
    await h.send("worker", photo=[{**huge, "file_size": 20 * 1024 * 1024}])
    assert "太大" in h.emu.texts(WORKER)[-1]
    async with h.app.sessions() as session:
        state = await session.scalar(select(ChatState))
    assert state is not None and state.data["photos"] == []


async def test_confirm_twice_creates_one_case(h: Harness) -> None:
    await h.register("worker")
    await report_case(h, confirm=False)
    message, data = h.find_button(WORKER, "r:confirm:")
    message = {**message}
    assert await h.post(h.callback("worker", message, data)) == 200
    assert await h.post(h.callback("worker", message, data)) == 200
    assert await count_cases(h) == 1
    async with h.app.sessions() as session:
        number = await session.scalar(select(Case.number))
    assert number and number in h.last_alert()


async def test_cancel_at_any_step(h: Harness) -> None:
    await h.register("worker")
    await h.say("worker", "/report")
    await h.say("worker", "取消")
    assert "已取消" in h.emu.texts(WORKER)[-1]
    await h.say("worker", "/report")
    await h.send("worker", location={"longitude": INSIDE_A1[0], "latitude": INSIDE_A1[1]})
    await h.press("worker", WORKER, "r:cancel:")
    await h.say("worker", "/cancel")
    assert await count_cases(h) == 0


async def test_draft_survives_a_restart_and_expires(h: Harness) -> None:
    from tests.bot.harness import start_harness, stop_harness

    await h.register("worker")
    await h.say("worker", "/report")
    await h.send("worker", location={"longitude": INSIDE_A1[0], "latitude": INSIDE_A1[1]})
    restarted = await start_harness(h.world, h.emu)
    try:
        await restarted.press("worker", WORKER, "r:skip:")
        assert "类别" in h.emu.texts(WORKER)[-1]
        h.world.clock.now = h.world.clock.now.replace(year=2027)
        await restarted.press("worker", WORKER, "k:01")
        assert await count_cases(h) == 0
        assert "失效" in h.last_alert()  # the draft is gone: the category button is refused
    finally:
        await stop_harness(restarted)


async def test_old_button_tampered_data_and_other_office(h: Harness) -> None:
    case = await office_with_card(h)
    old_card, accept = h.find_button(HW_GROUP, "c:accept:")
    old_card = {**old_card}

    # another office's member pressing in the hw group
    await h.press("cg1", HW_GROUP, "c:accept:")
    assert "本单位" in h.last_alert()
    # and the hw members from the cg group (not theirs)
    assert (
        await h.post(
            h.callback("hw1", {**old_card, "chat": {"id": CG_GROUP, "type": "group"}}, accept)
        )
        == 200
    )
    assert "本单位" in h.last_alert()
    assert await status_of(h, case.id) is CaseStatus.DISPATCHED

    # tampered: garbage, and a case id that does not exist
    assert await h.post(h.callback("hw2", old_card, "c:accept:abc:1")) == 200
    assert "失效" in h.last_alert()
    assert await h.post(h.callback("hw2", old_card, "c:accept:99999:1")) == 200
    assert "不存在" in h.last_alert()

    await h.press("hw2", HW_GROUP, "c:accept:")
    assert await status_of(h, case.id) is CaseStatus.ACCEPTED
    await h.deliver()
    # the old accept button again (the card has been edited since)
    assert await h.post(h.callback("hw1", old_card, accept)) == 200
    assert "过期" in h.last_alert()
    returning = accept.replace("c:accept:", "c:return:")
    assert await h.post(h.callback("hw1", old_card, returning)) == 200
    assert "过期" in h.last_alert()
    assert await status_of(h, case.id) is CaseStatus.ACCEPTED


async def test_return_with_reason_and_transfer(h: Harness) -> None:
    case = await office_with_card(h)
    await h.press("hw1", HW_GROUP, "c:transfer:")
    await h.press_label("hw1", HW_GROUP, "综合执法局")
    await h.say("hw1", "不属于环卫", chat_id=HW_GROUP)
    async with h.app.sessions() as session:
        moved = await session.get(Case, case.id)
    assert moved.department_id == h.world.casework.catalog.departments_by_code["cgzf"].id
    await h.deliver()
    assert h.emu.sent("sendPhoto", chat_id=CG_GROUP)
    await h.press("cg1", CG_GROUP, "c:return:")
    await h.say("cg1", "", chat_id=CG_GROUP)  # no reason: asked again
    assert await status_of(h, case.id) is CaseStatus.DISPATCHED
    await h.say("cg1", "非本部门职责", chat_id=CG_GROUP)
    assert await status_of(h, case.id) is CaseStatus.RETURNED


async def test_extension_and_rework(h: Harness) -> None:
    case = await office_with_card(h)
    await h.press("hw1", HW_GROUP, "c:accept:")
    await h.deliver()
    await h.press("hw1", HW_GROUP, "c:request_extension:")
    await h.say("hw1", "soon", chat_id=HW_GROUP)
    assert "天数" in h.emu.texts(HW_GROUP)[-1]
    await h.say("hw1", "3 等待配件", chat_id=HW_GROUP)
    async with h.app.sessions() as session:
        extended = await session.get(Case, case.id)
    assert extended.extension_requested_until is not None
    await h.press("hw1", HW_GROUP, "c:resolve:")
    await h.say("hw1", "已清理", chat_id=HW_GROUP)
    await h.deliver()
    await h.press("worker", WORKER, "v:", data=h.find_button(WORKER, "v:")[1][:-1] + "0")
    await h.say("worker", "还有垃圾")
    assert await status_of(h, case.id) is CaseStatus.ACCEPTED


async def test_menus_and_language(h: Harness) -> None:
    await h.register("worker", "sup_comm")
    case = await report_case(h)
    await h.say("worker", "/my")
    assert case.number in h.emu.texts(WORKER)[-1]
    await h.say("worker", f"/case {case.number}")
    assert "暴露垃圾" in h.emu.texts(WORKER)[-1]
    await h.say("worker", "/lang en")
    await h.say("worker", f"/case {case.number}")
    assert "Exposed garbage" in h.emu.texts(WORKER)[-1]
    sup = USER_IDS["sup_comm"]
    await h.say("sup_comm", "/overdue")
    assert "没有超期" in h.emu.texts(sup)[-1]
    await h.say("sup_comm", "/stats")
    assert "今天" in h.emu.texts(sup)[-1]
