"""The composition root's own jobs."""

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from gridgov.app import App
from gridgov.settings import Settings
from models import ChatState, ProcessedUpdate
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
