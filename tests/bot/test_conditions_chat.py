"""Filing and closing conditions in the chat: a dispatcher voids a report by the number of the
filing condition it fails; the verification message lists the closing conditions that the
✔ button vouches for."""

from sqlalchemy import select

from dispatch.supervision.conditions import ConditionText
from models import CaseEvent
from models.enums import CaseStatus, ConditionKind
from tests.bot.harness import HW_GROUP, USER_IDS, Harness
from tests.bot.test_dispatcher import DISPATCHER, citizen_report, load


async def configure(h: Harness) -> None:
    conditions, admin = h.app.supervision.conditions, h.world.people["admin"]
    filing = [ConditionText("位于公共区域"), ConditionText("面积超过 0.5 平方米")]
    await conditions.replace(admin, "01", ConditionKind.FILING, filing)
    await conditions.replace(admin, "01", ConditionKind.CLOSING, [ConditionText("现场无残留")])


async def last_payload(h: Harness, case_id: int) -> dict[str, object]:
    async with h.app.sessions() as session:
        event = await session.scalar(
            select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id.desc())
        )
    assert event is not None
    return event.payload


async def test_void_by_the_number_of_a_filing_condition(h: Harness) -> None:
    await configure(h)
    await h.register("dispatcher")
    case = await citizen_report(h)
    await h.press_label("dispatcher", DISPATCHER, "作废")
    prompt = h.emu.texts(DISPATCHER)[-1]
    assert "1. 位于公共区域" in prompt and "2. 面积超过 0.5 平方米" in prompt
    await h.say("dispatcher", "不在公共区域")  # no number: asked again, nothing changes
    assert "请选择上报" in h.emu.texts(DISPATCHER)[-1]
    assert (await load(h, case.id)).status is CaseStatus.REPORTED
    await h.say("dispatcher", "2 只有一个纸杯")
    assert (await load(h, case.id)).status is CaseStatus.VOIDED
    assert (await last_payload(h, case.id))["condition"] == "面积超过 0.5 平方米"


async def test_verification_lists_the_closing_conditions(h: Harness) -> None:
    await configure(h)
    await h.register("worker", "hw1")
    await h.say("hw1", f"/bind {await h.office_invite('hw')}", chat_id=HW_GROUP)
    case = (await h.world.casework.intake.report(h.world.draft())).case
    await h.deliver()
    await h.press("hw1", HW_GROUP, "c:accept:")
    await h.deliver()
    await h.press("hw1", HW_GROUP, "c:resolve:")
    await h.say("hw1", "已清理", chat_id=HW_GROUP)
    await h.deliver()
    worker = USER_IDS["worker"]
    assert "☑ 现场无残留" in h.emu.texts(worker)[-1]
    await h.press("worker", worker, "v:")
    closed = await load(h, case.id)
    assert closed.status is CaseStatus.CLOSED
    assert (await last_payload(h, case.id))["conditions"] == ["现场无残留"]
