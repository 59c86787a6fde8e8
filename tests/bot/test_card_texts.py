"""The office's card names who acted in the office's language: an auto-dispatched case says
自动派遣, not "system" (issue 10)."""

from tests.bot.harness import HW_GROUP, Harness


async def test_an_auto_dispatched_card_says_who_acted_in_chinese(h: Harness) -> None:
    await h.register("hw1")
    await h.say("hw1", f"/bind {await h.office_invite('hw')}", chat_id=HW_GROUP)
    case = (await h.world.casework.intake.report(h.world.draft(description="井盖缺失"))).case
    await h.deliver()
    [card] = [c for c in h.emu.sent(chat_id=HW_GROUP) if case.number in c.params.get("text", "")]
    assert "👤 自动派遣" in card.params["text"]
    assert "system" not in card.params["text"]
