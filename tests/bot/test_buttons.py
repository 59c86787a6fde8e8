"""Signed buttons: a forged or foreign press is refused at once, before any prompt, and tells
nothing about another office's case; /case N shows only what the person may see."""

from sqlalchemy import select

from models import ChatState
from models.enums import CaseStatus
from tests.bot.harness import CG_GROUP, HW_GROUP, USER_IDS, Harness
from tests.bot.test_edges import office_with_card, status_of
from tests.bot.test_flow import report_case

CG1 = USER_IDS["cg1"]


async def pending_steps(h: Harness) -> int:
    async with h.app.sessions() as session:
        return len((await session.scalars(select(ChatState))).all())


async def test_a_forged_resolve_on_another_offices_case_is_refused(h: Harness) -> None:
    case = await office_with_card(h)  # the sanitation office's case; cg1 is in another office
    other = await report_case(h, "另一处垃圾")
    await h.press("hw1", HW_GROUP, "c:accept:")
    await h.deliver()
    card, resolve = h.find_button(HW_GROUP, f"c:resolve:{case.id}:")
    _card, accept_other = h.find_button(HW_GROUP, f"c:accept:{other.id}:")
    said = len(h.emu.texts(CG1)), len(h.emu.texts(CG_GROUP))
    private = {**card, "chat": {"id": CG1, "type": "private", "first_name": "cg1"}}

    forged = [
        f"c:resolve:{case.id}:{case.version + 1}",  # no signature
        f"c:resolve:{case.id}:{case.version + 1}:AAAAAAAAAAAA",  # a made-up one
        # another case's signature on this case
        f"c:resolve:{case.id}:" + accept_other.split(":", 3)[3],
    ]
    for data in forged:
        assert await h.post(h.callback("cg1", private, data)) == 200
        alert = h.last_alert()
        assert "失效" in alert and case.number not in alert
    # the real button, pressed by a member of another office: refused as well
    assert await h.post(h.callback("cg1", private, resolve)) == 200
    assert "本单位" in h.last_alert() and case.number not in h.last_alert()
    assert (
        await h.post(
            h.callback("cg1", {**card, "chat": {"id": CG_GROUP, "type": "group"}}, resolve)
        )
        == 200
    )
    assert "本单位" in h.last_alert()

    # no prompt anywhere, nothing pending, the case untouched
    assert (len(h.emu.texts(CG1)), len(h.emu.texts(CG_GROUP))) == said
    assert await pending_steps(h) == 0
    assert await status_of(h, case.id) is CaseStatus.ACCEPTED
    # the office's own member still gets the prompt
    await h.press("hw1", HW_GROUP, "c:resolve:")
    assert case.number in h.emu.texts(HW_GROUP)[-1]


async def test_buttons_fit_telegrams_limit_and_a_forged_verify_is_refused(h: Harness) -> None:
    case = await office_with_card(h)
    await h.press("hw1", HW_GROUP, "c:accept:")
    await h.deliver()
    await h.press("hw1", HW_GROUP, "c:resolve:")
    await h.say("hw1", "已清理", chat_id=HW_GROUP)
    await h.deliver()
    message, fixed = h.find_button(USER_IDS["worker"], "v:")
    for row in message["reply_markup"]["inline_keyboard"]:
        assert all(len(b["callback_data"].encode()) <= 64 for b in row)
    forged = fixed.replace(f"v:{case.id}:", f"v:{case.id}:0")  # another version, same signature
    assert await h.post(h.callback("worker", message, forged)) == 200
    assert "失效" in h.last_alert()
    assert await status_of(h, case.id) is CaseStatus.RESOLVED


async def test_case_details_only_for_those_who_may_see_the_case(h: Harness) -> None:
    await h.register("worker", "worker2", "sup_comm", "cg1")
    case = await report_case(h)
    await h.say("worker2", f"/case {case.number}")  # another grid worker's report
    other = h.emu.texts(USER_IDS["worker2"])[-1]
    await h.say("worker2", "/case 2099-999999")
    missing = h.emu.texts(USER_IDS["worker2"])[-1]
    assert "不存在" in other and "暴露垃圾" not in other
    assert other.replace(case.number, "N") == missing.replace("2099-999999", "N")
    await h.say("cg1", f"/case {case.number}")  # an office that does not handle it
    assert "不存在" in h.emu.texts(CG1)[-1]
    for who in ("worker", "sup_comm"):  # the reporter, and the community's supervisor
        await h.say(who, f"/case {case.number}")
        assert "暴露垃圾" in h.emu.texts(USER_IDS[who])[-1]
