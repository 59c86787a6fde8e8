"""An aiogram FSM storage in the database (`chat_states`), so a report draft survives a
restart of the bot. A conversation untouched for longer than the TTL is forgotten."""

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, DefaultKeyBuilder, KeyBuilder, StorageKey
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models import ChatState, utcnow


class DatabaseStorage(BaseStorage):
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        ttl: timedelta,
        clock: Callable[[], datetime] = utcnow,
        key_builder: KeyBuilder | None = None,
    ) -> None:
        self.sessions = sessions
        self.ttl = ttl
        self.clock = clock
        self.key_builder = key_builder or DefaultKeyBuilder(with_bot_id=True)

    async def _load(self, session: AsyncSession, key: StorageKey) -> ChatState | None:
        row = await session.get(ChatState, self.key_builder.build(key))
        if row is not None and row.updated_at < self.clock() - self.ttl:
            await session.delete(row)
            return None
        return row

    async def _write(self, key: StorageKey, **values: Any) -> None:
        async with self.sessions() as session, session.begin():
            row = await self._load(session, key)
            if row is None:
                row = ChatState(key=self.key_builder.build(key), state=None, data={})
                session.add(row)
            for name, value in values.items():
                setattr(row, name, value)
            row.updated_at = self.clock()

    async def set_state(self, key: StorageKey, state: str | State | None = None) -> None:
        value = state.state if isinstance(state, State) else state
        await self._write(key, state=value)

    async def get_state(self, key: StorageKey) -> str | None:
        async with self.sessions() as session, session.begin():
            row = await self._load(session, key)
            return row.state if row else None

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        await self._write(key, data=dict(data))

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        async with self.sessions() as session, session.begin():
            row = await self._load(session, key)
            return dict(row.data) if row else {}

    async def close(self) -> None:
        return None
