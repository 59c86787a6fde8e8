"""Alerts to one person that come together arrive as one message, a list with a button per
case, and the office's group is told its case is overdue (issue 10)."""

from datetime import timedelta

from models import Case
from tests.bot.harness import HW_GROUP, USER_IDS, Harness

SUPERVISOR = USER_IDS["sup_comm"]


async def test_a_supervisor_gets_one_list_for_many_overdue_cases(h: Harness) -> None:
    await h.register("sup_comm", "hw1")
    await h.say("hw1", f"/bind {await h.office_invite('hw')}", chat_id=HW_GROUP)
    d = h.world.casework
    cases: list[Case] = [(await d.intake.report(h.world.draft())).case for _ in range(5)]
    await h.deliver()
    before = len(h.emu.sent(chat_id=SUPERVISOR))
    h.world.clock.now += timedelta(days=1)
    assert len(await d.escalation.sweep()) >= 5
    await h.deliver()
    [alert] = h.emu.sent(chat_id=SUPERVISOR)[before:]
    text = alert.params["text"]
    assert text.startswith("⚠️ 5 条督办提醒")
    assert all(c.number in text for c in cases)
    buttons = [b["text"] for row in alert.params["reply_markup"]["inline_keyboard"] for b in row]
    assert sorted(buttons) == sorted(f"督办 #{c.number}" for c in cases)
    group = "\n".join(c.params.get("text", "") for c in h.emu.sent(chat_id=HW_GROUP))
    assert "已超期" in group and all(c.number in group for c in cases)
