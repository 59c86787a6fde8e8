"""The bot's conversation storage: what it keeps, and that an expired draft is gone."""

from datetime import UTC, datetime, timedelta

from aiogram.fsm.storage.base import StorageKey
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage import DatabaseStorage
from models.db import create_session_factory

KEY = StorageKey(bot_id=1, chat_id=42, user_id=42)
OTHER = StorageKey(bot_id=1, chat_id=43, user_id=43)


async def test_state_and_data_are_kept_apart_and_expire(any_engine: AsyncEngine) -> None:
    now = [datetime(2026, 12, 2, 9, 0, tzinfo=UTC)]
    storage = DatabaseStorage(
        create_session_factory(any_engine), timedelta(minutes=120), lambda: now[0]
    )
    assert await storage.get_state(KEY) is None and await storage.get_data(KEY) == {}

    await storage.set_state(KEY, "ReportFlow:photos")
    await storage.set_data(KEY, {"draft": "abc", "photos": ["p1"]})
    await storage.set_state(KEY, "ReportFlow:category")  # the data stays
    await storage.set_data(OTHER, {"draft": "other"})
    assert await storage.get_state(KEY) == "ReportFlow:category"
    assert await storage.get_data(KEY) == {"draft": "abc", "photos": ["p1"]}
    assert await storage.get_state(OTHER) is None

    now[0] += timedelta(minutes=119)  # touched within the TTL: still there
    assert await storage.get_data(KEY) == {"draft": "abc", "photos": ["p1"]}
    now[0] += timedelta(minutes=2)  # expired: gone, and a new step starts from nothing
    assert await storage.get_state(KEY) is None and await storage.get_data(KEY) == {}
    await storage.set_state(KEY, "ReportFlow:location")
    assert await storage.get_data(KEY) == {}
    assert await storage.get_state(KEY) == "ReportFlow:location"
    await storage.set_state(KEY, None)
    assert await storage.get_state(KEY) is None
