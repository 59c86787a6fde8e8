"""A card longer than Telegram takes (a citizen's long Open311 description) is shortened to fit,
with a pointer to the console, and delivered: never retried into a dead letter (issue 10)."""

import html

from sqlalchemy import select

from models import OutboxMessage
from models.enums import OutboxStatus
from tests.bot.emulator import TEXT_LIMIT, visible_length
from tests.bot.harness import HW_GROUP, Harness

# Emoji take two UTF-16 units, "&" and "<" become entities in HTML: every way to cut wrong.
LONG = "路灯不亮 & <漏电> 🙂🏮。" * 266  # 3,990: just under the 4,000 characters intake takes


async def test_a_long_description_is_shortened_and_delivered(h: Harness) -> None:
    await h.register("hw1")
    await h.say("hw1", f"/bind {await h.office_invite('hw')}", chat_id=HW_GROUP)
    draft = h.world.draft(description=LONG)
    case = (await h.world.casework.intake.report(draft)).case
    report = await h.deliver()
    assert (report.sent, report.retried) == (1, 0)
    [call] = [
        c for c in h.emu.sent("sendMessage", chat_id=HW_GROUP) if case.number in c.params["text"]
    ]
    text = call.params["text"]
    assert visible_length(call.params, "text") <= TEXT_LIMIT
    assert f"https://gridgov.example.org/console/cases/{case.number}" in text
    # What is left of the description is an untouched beginning of it: no broken entity,
    # no half of an emoji.
    shown = html.unescape(text.split("📝 ", 1)[1].split("…", 1)[0])
    assert len(shown) > 3000 and LONG.startswith(shown)
    async with h.app.sessions() as session:
        row = await session.scalar(select(OutboxMessage).where(OutboxMessage.case_id == case.id))
    assert row.status is OutboxStatus.SENT
