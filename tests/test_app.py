"""The composition root's own jobs."""

import asyncio
import logging
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from gridgov.app import App
from gridgov.settings import Settings
from models import ChatState, OutboxMessage, ProcessedUpdate
from tests.dispatch.test_outbox_fairness import SlowChannel, backlog
from tests.dispatch.world import build_world


async def test_old_drafts_and_update_ids_are_purged(engine: AsyncEngine) -> None:
    world = await build_world(engine)
    d = world.casework
    app = App(Settings(draft_ttl_minutes=60), engine, d.sessions, d)
    now = world.clock.now
    async with d.sessions() as s, s.begin():
        s.add_all(
            [
                ChatState(key="old", state="Report:photos", updated_at=now - timedelta(hours=2)),
                ChatState(
                    key="fresh", state="Report:photos", updated_at=now - timedelta(minutes=5)
                ),
                ProcessedUpdate(
                    channel="telegram", update_id="1", processed_at=now - timedelta(days=3)
                ),
                ProcessedUpdate(channel="telegram", update_id="2", processed_at=now),
            ]
        )
    assert await app.purge_chat_records() == (1, 1)
    async with d.sessions() as s:
        assert (await s.scalars(select(ChatState.key))).all() == ["fresh"]
        assert (await s.scalars(select(ProcessedUpdate.update_id))).all() == ["2"]


async def test_stopping_gives_back_the_claimed_messages_without_an_error(
    engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    """What SIGTERM does (`gridgov serve` closes the app): the outbox job in the middle of a
    slow batch stops after its current send and releases the rest at once."""
    world = await build_world(engine)
    d = world.casework
    app = App(Settings(outbox_interval_s=0.05), engine, d.sessions, d)
    channel = SlowChannel(0.2)
    app.channels["test"] = channel
    await backlog(d.sessions, 10, address="42")
    app.start_scheduler()
    await asyncio.wait_for(channel.started.wait(), 10)
    await app.close()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    async with d.sessions() as s:
        left = (
            await s.scalars(select(OutboxMessage).where(OutboxMessage.status == "pending"))
        ).all()
    assert 0 < len(left) < 10 and all(m.claimed_until is None for m in left)


async def test_a_late_job_still_runs(engine: AsyncEngine) -> None:
    """The daily digest is not dropped when the loop is busy at 08:00 or the server restarts
    across it (APScheduler's default grace time is one second)."""
    world = await build_world(engine)
    app = App(Settings(), engine, world.casework.sessions, world.casework)
    scheduler = app.start_scheduler()
    try:
        graces = {job.id: job.misfire_grace_time for job in scheduler.get_jobs()}
    finally:
        await app.close()
    assert graces["digest"] >= 3600
    assert all(grace >= 60 for grace in graces.values())
