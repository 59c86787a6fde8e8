"""The composition root's own jobs: the retention purge keeps the record and forgets the rest."""

import asyncio
import logging
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from dispatch.retention import Purged, purge_expired
from gridgov.app import App
from gridgov.settings import Settings
from models import (
    Case,
    CaseEvent,
    ChatState,
    ConsoleSession,
    InboundUpdate,
    LoginThrottle,
    OutboxMessage,
    ProcessedUpdate,
)
from models.enums import OutboxStatus
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
                *(
                    InboundUpdate(
                        channel="wecom",
                        key=key,
                        body="<xml/>",
                        received_at=now - age,
                        done_at=now - age if done else None,
                    )
                    for key, age, done in [
                        ("old", timedelta(days=3), True),
                        ("recent", timedelta(hours=1), True),
                        ("unfinished", timedelta(days=3), False),  # kept until handled
                    ]
                ),
            ]
        )
    purged = await app.purge_expired_records()
    # update ids, and WeCom callbacks handled long ago (an unfinished one is kept)
    assert (purged.drafts, purged.processed_updates) == (1, 2)
    async with d.sessions() as s:
        assert (await s.scalars(select(ChatState.key))).all() == ["fresh"]
        assert (await s.scalars(select(ProcessedUpdate.update_id))).all() == ["2"]
        kept = set((await s.scalars(select(InboundUpdate.key))).all())
        assert kept == {"recent", "unfinished"}


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


async def test_retention_forgets_delivered_messages_sessions_and_failures_not_cases(
    engine: AsyncEngine,
) -> None:
    world = await build_world(engine)
    d = world.casework
    settings = Settings(
        retention_sent_outbox_days=30,
        retention_console_sessions_days=7,
        retention_login_failures_days=30,
    )
    app = App(settings, engine, d.sessions, d)
    now = world.clock.now
    for _ in range(6):
        await d.intake.report(world.draft())
    async with d.sessions() as s, s.begin():
        ids = (await s.scalars(select(OutboxMessage.id).order_by(OutboxMessage.id))).all()
        assert len(ids) >= 6
        old_sent, recent_sent, old_dead = ids[:4], ids[4], ids[5]
        await s.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(old_sent))
            .values(status=OutboxStatus.SENT, sent_at=now - timedelta(days=31))
        )
        await s.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == recent_sent)
            .values(status=OutboxStatus.SENT, sent_at=now - timedelta(days=29))
        )
        await s.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == old_dead)
            .values(status=OutboxStatus.DEAD, created_at=now - timedelta(days=90))
        )
        person = world.people["hw1"]
        s.add_all(
            [
                ConsoleSession(
                    token_digest="gone",
                    person_id=person,
                    csrf_token="x",
                    expires_at=now - timedelta(days=8),
                ),
                ConsoleSession(
                    token_digest="expired-recently",
                    person_id=person,
                    csrf_token="x",
                    expires_at=now - timedelta(days=6),
                ),
                ConsoleSession(
                    token_digest="live",
                    person_id=person,
                    csrf_token="x",
                    expires_at=now + timedelta(hours=1),
                ),
                LoginThrottle(key="a", failures=3, window_started_at=now - timedelta(days=31)),
                LoginThrottle(key="b", failures=1, window_started_at=now - timedelta(minutes=1)),
            ]
        )
    async with d.sessions() as s:
        cases = await s.scalar(select(func.count()).select_from(Case))
        events = await s.scalar(select(func.count()).select_from(CaseEvent))
        kept = set(ids) - set(old_sent)

    # Batches of 3: the four old delivered messages take two transactions.
    purged = await purge_expired(d.sessions, app.retention(), now, batch=3)
    assert purged == Purged(
        sent_outbox=4, console_sessions=1, login_failures=1, processed_updates=0, drafts=0
    )
    async with d.sessions() as s:
        assert set((await s.scalars(select(OutboxMessage.id))).all()) == kept
        assert set((await s.scalars(select(ConsoleSession.token_digest))).all()) == {
            "expired-recently",
            "live",
        }
        assert (await s.scalars(select(LoginThrottle.key))).all() == ["b"]
        assert await s.scalar(select(func.count()).select_from(Case)) == cases == 6
        assert await s.scalar(select(func.count()).select_from(CaseEvent)) == events
    assert not any(vars(await app.purge_expired_records()).values())  # nothing left to do
