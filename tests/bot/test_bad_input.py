"""More bad input: words where a button is expected, bad photos in an office step, tampered
and old buttons of the report and verify steps, strangers, and messages out of the blue."""

from sqlalchemy import select

from models import Case, ChatState
from models.enums import CaseStatus
from tests.bot.harness import HW_GROUP, USER_IDS, Harness
from tests.bot.test_edges import count_cases, office_with_card, status_of
from tests.bot.test_flow import report_case
from tests.dispatch.world import INSIDE_A1

WORKER = USER_IDS["worker"]


def photo(file_id: str, size: int = 50_000) -> list[dict[str, object]]:
    return [
        {
            "file_id": file_id,
            "file_unique_id": file_id,
            "width": 800,
            "height": 600,
            "file_size": size,
        }
    ]


async def test_words_where_a_button_is_expected(h: Harness) -> None:
    await h.register("worker")
    await h.say("worker", "/report")
    await h.send("worker", location={"longitude": INSIDE_A1[0], "latitude": INSIDE_A1[1]})
    await h.press("worker", WORKER, "r:skip:")
    await h.say("worker", "垃圾")  # the category keyboard is showing
    assert "请使用上方的按钮" in h.emu.texts(WORKER)[-1]
    await h.press("worker", WORKER, "k:01", data="k:9999")  # tampered category
    assert "失效" in h.last_alert()
    await h.press("worker", WORKER, "k:01", data="k:01")
    await h.press("worker", WORKER, "k:01", data="k:01")  # a double tap: no harm, no error
    await h.press("worker", WORKER, "k:0102")
    await h.press("worker", WORKER, "r:skip:")
    await h.say("worker", "好了吗")  # the summary is showing
    assert "请使用上方的按钮" in h.emu.texts(WORKER)[-1]
    # a confirm for a draft that is not this one: refused, nothing created
    message, confirm = h.find_button(WORKER, "r:confirm:")
    assert await h.post(h.callback("worker", message, "r:confirm:0000000000000000:0")) == 200
    assert "草稿已失效" in h.last_alert()
    assert await count_cases(h) == 0
    await h.say("worker", "取消")
    assert "已取消" in h.emu.texts(WORKER)[-1]
    assert await h.post(h.callback("worker", message, confirm)) == 200
    assert "草稿已失效" in h.last_alert() and await count_cases(h) == 0


async def test_bad_photos_in_the_resolve_step(h: Harness) -> None:
    case = await office_with_card(h)
    await h.press("hw1", HW_GROUP, "c:accept:")
    await h.deliver()
    await h.press("hw1", HW_GROUP, "c:resolve:")
    await h.send("hw1", HW_GROUP, photo=photo("huge", 30 * 1024 * 1024), caption="已清理")
    assert "照片太大" in h.emu.texts(HW_GROUP)[-1]
    await h.send(
        "hw1", HW_GROUP, document={"file_id": "doc", "file_unique_id": "d", "file_name": "a.jpg"}
    )
    assert "不要以文件发送" in h.emu.texts(HW_GROUP)[-1]
    assert await status_of(h, case.id) is CaseStatus.ACCEPTED
    async with h.app.sessions() as session:
        pending = await session.scalar(select(ChatState).where(ChatState.state.is_not(None)))
    assert pending is not None and pending.data["photos"] == []  # still waiting, nothing kept
    await h.send("hw1", HW_GROUP, photo=photo("done1"), caption="已清理")
    assert await status_of(h, case.id) is CaseStatus.RESOLVED


async def test_verify_shows_the_newest_result_and_refuses_old_or_foreign_buttons(
    h: Harness,
) -> None:
    case = await office_with_card(h)
    await h.register("worker2")
    await h.press("hw1", HW_GROUP, "c:accept:")
    await h.deliver()
    await h.press("hw1", HW_GROUP, "c:resolve:")
    await h.send("hw1", HW_GROUP, photo=photo("done1"), caption="已清理")
    await h.deliver()
    first, fixed = h.find_button(WORKER, "v:")
    assert first["photo"][0]["file_id"] == "done1"
    await h.press("worker", WORKER, "v:", data=fixed[:-1] + "0")
    await h.say("worker", "还有垃圾")
    await h.deliver()
    await h.press("hw1", HW_GROUP, "c:resolve:")
    await h.send("hw1", HW_GROUP, photo=photo("done2"), caption="又清理了一遍")
    await h.deliver()
    second, fixed_now = h.find_button(WORKER, "v:")
    assert second["message_id"] != first["message_id"]
    assert second["photo"][0]["file_id"] == "done2" and "又清理了一遍" in second["caption"]

    assert await h.post(h.callback("worker", first, fixed)) == 200  # the old verify message
    assert "过期" in h.last_alert()
    assert await h.post(h.callback("worker2", second, fixed_now)) == 200  # not the reporter
    assert "只有上报人" in h.last_alert()
    assert await status_of(h, case.id) is CaseStatus.RESOLVED
    await h.press("worker", WORKER, "v:")
    assert await status_of(h, case.id) is CaseStatus.CLOSED


async def test_a_long_result_note_keeps_the_photo(h: Harness) -> None:
    await office_with_card(h)
    await h.press("hw1", HW_GROUP, "c:accept:")
    await h.deliver()
    await h.press("hw1", HW_GROUP, "c:resolve:")
    await h.send("hw1", HW_GROUP, photo=photo("done1"))
    assert "请再回复简要说明" in h.emu.texts(HW_GROUP)[-1]
    note = "清理完毕，" * 300  # 1,500 characters: too long for a photo's caption
    await h.say("hw1", note, chat_id=HW_GROUP)
    await h.deliver()
    photos = h.emu.sent("sendPhoto", chat_id=WORKER)
    assert photos and photos[-1].params["photo"] == "done1"
    message, _fixed = h.find_button(WORKER, "v:")
    assert note in message["text"]


async def test_strangers_and_messages_out_of_the_blue(h: Harness) -> None:
    case = await office_with_card(h)
    card, accept = h.find_button(HW_GROUP, "c:accept:")
    assert await h.post(h.callback("sup_town", card, accept)) == 200  # not registered
    assert "尚未注册" in h.last_alert()
    assert await status_of(h, case.id) is CaseStatus.DISPATCHED

    await h.send("worker", location={"longitude": INSIDE_A1[0], "latitude": INSIDE_A1[1]})
    assert "当前没有等待" in h.emu.texts(WORKER)[-1] and "/report" in h.emu.texts(WORKER)[-1]
    await h.send("worker", photo=photo("stray"))
    assert "当前没有等待" in h.emu.texts(WORKER)[-1]
    chatter = len(h.emu.sent(chat_id=HW_GROUP))
    await h.say("hw1", "大家好", chat_id=HW_GROUP)  # group chatter gets no answer
    assert len(h.emu.sent(chat_id=HW_GROUP)) == chatter
    assert await count_cases(h) == 1


async def test_a_second_report_after_the_first_keeps_them_apart(h: Harness) -> None:
    await h.register("worker")
    first = await report_case(h)
    second = await report_case(h, "另一处垃圾")
    async with h.app.sessions() as session:
        refs = (await session.scalars(select(Case.external_ref))).all()
    assert first.id != second.id and len(set(refs)) == 2
