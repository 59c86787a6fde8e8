"""Each Telegram update at most once: its id is recorded in its own transaction first, and a
redelivered update is dropped."""

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.telegram.updates import CHANNEL
from dispatch.autocommit import autocommit
from models import ProcessedUpdate

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class IdempotencyMiddleware(BaseMiddleware):
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], clock: Callable[[], datetime]
    ) -> None:
        self.sessions = sessions
        self.clock = clock

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        assert isinstance(event, Update)
        async with autocommit(self.sessions) as conn:  # one statement: no BEGIN, COMMIT
            insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
            result = await conn.execute(
                insert(ProcessedUpdate)
                .values(channel=CHANNEL, update_id=str(event.update_id), processed_at=self.clock())
                .on_conflict_do_nothing()
            )
        if not result.rowcount:
            return None
        return await handler(event, data)
