"""Dispatchers decide in the bot: extensions, returned cases, citizens' reports. Only
dispatchers may press; the message is re-rendered in place; old buttons are refused."""

from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import select

from dispatch.core.routing import RoutingTable
from models import Case, CaseEvent
from models.enums import CaseSource, CaseStatus
from tests.bot.harness import CG_GROUP, HW_GROUP, USER_IDS, Harness
from tests.bot.test_edges import office_with_card

DISPATCHER = USER_IDS["dispatcher"]


async def load(h: Harness, case_id: int) -> Case:
    async with h.app.sessions() as session:
        case = await session.get(Case, case_id)
        assert case is not None
        return case


def department_id(h: Harness, code: str) -> int:
    return h.world.casework.catalog.departments_by_code[code].id


def shown(h: Harness, message: dict[str, Any]) -> dict[str, Any]:
    """The message as the chat shows it now (after edits)."""
    return h.emu.messages[(message["chat"]["id"], message["message_id"])]


def labels(message: dict[str, Any]) -> list[str]:
    return [
        b["text"] for row in message.get("reply_markup", {}).get("inline_keyboard", []) for b in row
    ]


async def extension_requested(h: Harness) -> Case:
    case = await office_with_card(h)
    await h.register("dispatcher")
    await h.press("hw1", HW_GROUP, "c:accept:")
    await h.deliver()
    await h.press("hw1", HW_GROUP, "c:request_extension:")
    await h.say("hw1", "3 等待配件", chat_id=HW_GROUP)
    await h.deliver()
    return case


async def citizen_report(h: Harness, category: str = "0102") -> Case:
    draft = h.world.draft(who="", category=category, source=CaseSource.CITIZEN)
    result = await h.world.casework.intake.report(draft)
    await h.deliver()
    return result.case


async def test_extension_approved_by_a_dispatcher_only(h: Harness) -> None:
    case = await extension_requested(h)
    message, approve = h.find_button(DISPATCHER, "x:")
    assert "申请延期" in message["text"] and "申请的新期限" in message["text"]
    assert labels(message) == ["批准", "驳回"]
    requested = (await load(h, case.id)).extension_requested_until

    # an office member (or anyone not a dispatcher) pressing it: an alert, nothing changes
    assert await h.post(h.callback("hw1", message, approve)) == 200
    assert "只有派遣员" in h.last_alert()
    assert (await load(h, case.id)).extension_requested_until == requested

    await h.press_label("dispatcher", DISPATCHER, "批准")
    approved = await load(h, case.id)
    assert approved.extension_requested_until is None and approved.deadline_at == requested
    now = shown(h, message)
    assert "延期申请已批准" in now["text"] and "王强" in now["text"]
    assert "reply_markup" not in now  # decided: no buttons left
    assert len(h.emu.sent("sendMessage", chat_id=DISPATCHER)) == 2  # welcome + request

    # the same button again (a double tap, or another dispatcher's copy): out of date
    assert await h.post(h.callback("dispatcher", message, approve)) == 200
    assert "过期" in h.last_alert()


async def test_extension_denied_with_a_reason(h: Harness) -> None:
    case = await extension_requested(h)
    message, _data = h.find_button(DISPATCHER, "x:")
    await h.press_label("dispatcher", DISPATCHER, "驳回")
    assert "驳回延期的理由" in h.emu.texts(DISPATCHER)[-1]
    await h.say("dispatcher", "   ")  # no reason: asked again, nothing decided
    assert (await load(h, case.id)).extension_requested_until is not None
    await h.say("dispatcher", "配件当天可买到")
    denied = await load(h, case.id)
    assert denied.extension_requested_until is None
    async with h.app.sessions() as session:
        event = await session.scalar(
            select(CaseEvent).where(
                CaseEvent.case_id == case.id, CaseEvent.action == "deny_extension"
            )
        )
    assert event is not None and event.note == "配件当天可买到"
    now = shown(h, message)
    assert "延期申请已驳回" in now["text"] and "配件当天可买到" in now["text"]
    assert "reply_markup" not in now
    await h.deliver()  # the office's card shows the unchanged deadline, still accepted
    assert denied.status is CaseStatus.ACCEPTED


async def test_returned_case_is_redispatched(h: Harness) -> None:
    case = await office_with_card(h)
    await h.register("dispatcher", "sup_comm")
    await h.press("hw1", HW_GROUP, "c:return:")
    await h.say("hw1", "不属于环卫", chat_id=HW_GROUP)
    await h.deliver()
    message, redispatch = h.find_button(DISPATCHER, "c:dispatch:")
    assert "被处置单位退回" in message["text"] and "不属于环卫" in message["text"]

    assert await h.post(h.callback("sup_comm", message, redispatch)) == 200
    assert "只有派遣员" in h.last_alert()
    assert "综合执法局" not in labels(shown(h, message))

    await h.press("dispatcher", DISPATCHER, "c:dispatch:")
    assert await h.post(h.callback("dispatcher", message, redispatch)) == 200  # a double tap
    offices = labels(shown(h, message))  # the same message now lists the offices
    assert "综合执法局" in offices and "环卫处" not in offices  # not the one that returned it

    _msg, choice = h.find_button(DISPATCHER, "d:")
    tampered = choice.rsplit(":", 1)[0] + ":99999"
    assert await h.post(h.callback("dispatcher", shown(h, message), tampered)) == 200
    assert "失效" in h.last_alert()
    assert await h.post(h.callback("cg1", shown(h, message), choice)) == 200
    assert "只有派遣员" in h.last_alert()

    await h.press_label("dispatcher", DISPATCHER, "综合执法局")
    moved = await load(h, case.id)
    assert moved.status is CaseStatus.DISPATCHED
    assert moved.department_id == department_id(h, "cgzf")
    now = shown(h, message)
    assert "已派遣至综合执法局" in now["text"] and "reply_markup" not in now
    await h.deliver()
    assert any(
        moved.number in c.params["caption"] for c in h.emu.sent("sendPhoto", chat_id=CG_GROUP)
    )

    # the old 改派 button, after the case moved on
    assert await h.post(h.callback("dispatcher", message, redispatch)) == 200
    assert "过期" in h.last_alert()


async def test_citizen_report_filed_and_dispatched(h: Harness) -> None:
    await h.register("dispatcher", "hw1")
    case = await citizen_report(h)
    message, file = h.find_button(DISPATCHER, "c:file:")
    assert "等待立案" in message["text"] and labels(message) == ["立案并派遣", "作废"]

    assert await h.post(h.callback("hw1", message, file)) == 200
    assert "只有派遣员" in h.last_alert()
    assert (await load(h, case.id)).status is CaseStatus.REPORTED

    await h.press_label("dispatcher", DISPATCHER, "立案并派遣")
    done = await load(h, case.id)
    assert done.status is CaseStatus.DISPATCHED and done.department_id == department_id(h, "hw")
    assert done.filed_at is not None
    now = shown(h, message)
    assert "已派遣至环卫处" in now["text"] and "reply_markup" not in now

    assert await h.post(h.callback("dispatcher", message, file)) == 200
    assert "过期" in h.last_alert()
    void = file.replace("c:file:", "c:void:")
    assert await h.post(h.callback("dispatcher", message, void)) == 200
    assert "过期" in h.last_alert()
    assert (await load(h, case.id)).status is CaseStatus.DISPATCHED


async def test_citizen_report_without_a_route_waits_for_the_office(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    await h.register("dispatcher")
    case = await citizen_report(h)
    casework = h.world.casework
    monkeypatch.setattr(
        casework.runtime, "_catalog", replace(casework.catalog, routing=RoutingTable({}, {}, {}))
    )
    message, _file = h.find_button(DISPATCHER, "c:file:")
    await h.press_label("dispatcher", DISPATCHER, "立案并派遣")
    assert "请选择处置单位" in h.last_alert()
    assert (await load(h, case.id)).status is CaseStatus.FILED
    assert {"环卫处", "综合执法局"} <= set(labels(shown(h, message)))
    await h.press_label("dispatcher", DISPATCHER, "环卫处")
    done = await load(h, case.id)
    assert done.status is CaseStatus.DISPATCHED and done.department_id == department_id(h, "hw")
    assert "已派遣至环卫处" in shown(h, message)["text"]


async def test_citizen_report_voided_with_a_reason(h: Harness) -> None:
    await h.register("dispatcher")
    case = await citizen_report(h)
    message, _file = h.find_button(DISPATCHER, "c:file:")
    await h.press_label("dispatcher", DISPATCHER, "作废")
    assert "作废的理由" in h.emu.texts(DISPATCHER)[-1]
    await h.say("dispatcher", "/cancel")
    assert "已取消" in h.emu.texts(DISPATCHER)[-1]
    assert (await load(h, case.id)).status is CaseStatus.REPORTED
    assert labels(shown(h, message)) == ["立案并派遣", "作废"]  # still undecided

    await h.press_label("dispatcher", DISPATCHER, "作废")
    await h.say("dispatcher", "重复上报")
    voided = await load(h, case.id)
    assert voided.status is CaseStatus.VOIDED
    now = shown(h, message)
    assert "已作废" in now["text"] and "重复上报" in now["text"] and "reply_markup" not in now


async def test_dispatcher_verifies_a_citizen_case_and_sends_it_back(h: Harness) -> None:
    await h.register("dispatcher", "hw1")
    await h.say("hw1", f"/bind {await h.office_invite('hw')}", chat_id=HW_GROUP)
    case = await citizen_report(h)
    await h.press_label("dispatcher", DISPATCHER, "立案并派遣")
    await h.deliver()
    await h.press("hw1", HW_GROUP, "c:accept:")
    await h.deliver()
    await h.press("hw1", HW_GROUP, "c:resolve:")
    photo = {"file_id": "fixed1", "file_unique_id": "f1", "width": 800, "height": 600}
    await h.send("hw1", HW_GROUP, photo=[{**photo, "file_size": 40_000}], caption="已清理")
    await h.deliver()
    # no reporter in the chat: the dispatcher verifies, and sees the result photo
    to_verify = h.emu.sent("sendPhoto", chat_id=DISPATCHER)
    assert to_verify and to_verify[-1].params["photo"] == "fixed1"
    await h.press(
        "dispatcher", DISPATCHER, "v:", data=h.find_button(DISPATCHER, "v:")[1][:-1] + "0"
    )
    await h.say("dispatcher", "路边还有垃圾")
    reworked = await load(h, case.id)
    assert reworked.status is CaseStatus.ACCEPTED and reworked.rework_count == 1


async def test_dispatcher_in_english(h: Harness) -> None:
    await h.register("dispatcher")
    await h.say("dispatcher", "/lang en")
    await citizen_report(h)
    message, _file = h.find_button(DISPATCHER, "c:file:")
    assert "waiting to be filed" in message["text"]
    assert labels(message) == ["File and dispatch", "Void"]
    await h.press_label("dispatcher", DISPATCHER, "File and dispatch")
    assert "dispatched to Sanitation" in shown(h, message)["text"]
