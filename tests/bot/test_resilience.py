"""Two instances confirming one draft at once, a failure nobody foresaw, and the purge of
stale conversations and update ids."""

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from dispatch import queries
from dispatch.casework import Casework
from dispatch.geography import GridDirectory
from models import ChatState
from tests.bot.harness import USER_IDS, Harness, start_harness, stop_harness
from tests.bot.test_edges import count_cases
from tests.bot.test_flow import report_case
from tests.dispatch.world import INSIDE_A1, World, settings

WORKER = USER_IDS["worker"]


def slow_to_commit(monkeypatch: pytest.MonkeyPatch, casework: Casework) -> None:
    """Holds the new case's transaction open a moment, so the other instance's look for an
    earlier report finds nothing and its insert runs into the unique key."""
    dispatch_now = casework.intake._auto_dispatch

    async def slowly(*args: Any) -> None:
        await dispatch_now(*args)
        await asyncio.sleep(0.3)

    monkeypatch.setattr(casework.intake, "_auto_dispatch", slowly)


async def test_two_instances_confirming_one_draft_make_one_case(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    casework = Casework(h.world.casework.sessions, GridDirectory(30.0), settings(), h.world.clock)
    await casework.refresh()
    other = await start_harness(World(casework, h.world.clock, h.world.people), h.emu)
    for instance in (h.world.casework, casework):
        slow_to_commit(monkeypatch, instance)
    try:
        await h.register("worker")
        await report_case(h, confirm=False)
        message, confirm = h.find_button(WORKER, "r:confirm:")
        # two taps of the same button, each reaching a different instance
        statuses = await asyncio.gather(
            h.post(h.callback("worker", message, confirm)),
            other.post(other.callback("worker", message, confirm)),
        )
    finally:
        await stop_harness(other)
    assert statuses == [200, 200]
    assert await count_cases(h) == 1
    reported = [t for t in h.emu.texts(WORKER) if t.startswith("✅ 上报成功")]
    assert len(reported) == 1
    number = reported[0].split("#", 1)[1].split("。", 1)[0]
    assert any(f"已提交，案件号 #{number}" in a for a in h.emu.alerts())


async def test_an_unexpected_failure_is_answered_and_logged(
    h: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    await h.register("worker")
    h.emu.fail_next("sendMessage", 400, "Bad Request: something nobody expected")
    await h.say("worker", "/my")
    assert "处理出错" in h.emu.texts(WORKER)[-1]
    assert [r for r in caplog.records if r.name == "gridgov.bot" and r.exc_info]
    caplog.clear()  # seen: the harness fails a test on any other failure of the bot


async def test_stale_conversations_are_purged(h: Harness) -> None:
    await h.register("worker", "worker2")
    await h.say("worker", "/report")
    await h.send("worker", location={"longitude": INSIDE_A1[0], "latitude": INSIDE_A1[1]})
    h.world.clock.now += timedelta(days=3)
    await h.say("worker2", "/report")  # a draft of today
    async with h.app.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(ChatState)) == 2

    now = h.world.clock()
    async with h.app.sessions() as session, session.begin():
        drafts = await queries.chats.purge_chat_states(
            session, now - timedelta(minutes=h.app.settings.draft_ttl_minutes)
        )
    assert drafts == 1
    async with h.app.sessions() as session:
        (left,) = (await session.scalars(select(ChatState))).all()
        assert str(USER_IDS["worker2"]) in left.key
    # the purged draft's buttons are refused, the fresh draft goes on
    await h.press("worker", WORKER, "r:skip:")
    assert "草稿已失效" in h.last_alert()
    await h.send("worker2", location={"longitude": INSIDE_A1[0], "latitude": INSIDE_A1[1]})
    assert "照片" in h.emu.texts(USER_IDS["worker2"])[-1]
