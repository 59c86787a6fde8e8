"""Polling and webhook set-up against the emulator, duplicates, venues and languages."""

import asyncio

from sqlalchemy import func, select

from bot.telegram.runtime import WEBHOOK_PATH, setup_webhook, start_polling
from models import Case, CaseEvent
from tests.bot.harness import SECRET, USER_IDS, Harness
from tests.bot.test_flow import report_case
from tests.dispatch.world import INSIDE_A1

WORKER = USER_IDS["worker"]


async def test_polling_mode(h: Harness) -> None:
    task = start_polling(h.bot, h.dp)
    try:
        h.emu.push_update(h.message("worker", text=f"/start {await h.invite('worker')}"))
        for _ in range(100):
            if h.emu.sent("sendMessage", chat_id=WORKER):
                break
            await asyncio.sleep(0.05)
        assert "注册成功" in h.emu.texts(WORKER)[-1]
        assert h.emu.sent("deleteWebhook")
    finally:
        await h.dp.stop_polling()
        await task


async def test_webhook_is_set_with_the_secret(h: Harness) -> None:
    await setup_webhook(h.bot, h.dp, h.app.settings)
    assert h.emu.webhook is not None
    assert h.emu.webhook["url"] == "https://gridgov.example.org" + WEBHOOK_PATH
    assert h.emu.webhook["secret_token"] == SECRET
    assert "callback_query" in h.emu.webhook["allowed_updates"]


async def test_duplicate_nearby_is_offered_and_linked(h: Harness) -> None:
    await h.register("worker")
    first = await report_case(h)
    await report_case(h, "又有垃圾", confirm=False)
    assert "可能有相同" in h.emu.texts(WORKER)[-1]
    await h.press("worker", WORKER, "r:dup:")
    async with h.app.sessions() as session:
        assert await session.scalar(select(func.count(Case.id))) == 1
        linked = await session.scalar(
            select(CaseEvent).where(CaseEvent.action == "duplicate_report")
        )
    assert linked is not None and linked.case_id == first.id
    assert first.number in h.emu.texts(WORKER)[-1]


async def test_venue_and_english_client(h: Harness) -> None:
    update = h.message("worker", text="/report")
    update["message"]["from"]["language_code"] = "en-US"
    assert await h.post(update) == 200
    assert "not registered" in h.emu.texts(WORKER)[-1]
    await h.register("worker")
    await h.say("worker", "/lang en")
    await h.say("worker", "/report")
    venue = {
        "location": {"longitude": INSIDE_A1[0], "latitude": INSIDE_A1[1]},
        "title": "Market",
        "address": "1 Main St",
    }
    await h.send("worker", location=venue["location"], venue=venue)
    assert "photos" in h.emu.texts(WORKER)[-1]
