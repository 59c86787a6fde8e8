"""An aiogram FSM storage in the database (`chat_states`), so a report draft survives a
restart of the bot. A conversation untouched for longer than the TTL is forgotten.

Every call is one statement on an autocommit connection (a read, or an upsert that treats
an expired row as absent): an update reads and writes its conversation several times, and
each BEGIN and COMMIT would be a round trip of its own."""

from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, DefaultKeyBuilder, KeyBuilder, StorageKey
from sqlalchemy import case, literal, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models import ChatState, utcnow


@asynccontextmanager
async def autocommit(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """A session whose statements commit one by one, without BEGIN and COMMIT round trips:
    for single statements only."""
    async with sessions() as session:
        await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
        yield session


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

    async def _read(self, key: StorageKey) -> tuple[str | None, dict[str, Any]] | None:
        async with autocommit(self.sessions) as session:
            row = (
                await session.execute(
                    select(ChatState.state, ChatState.data).where(
                        ChatState.key == self.key_builder.build(key),
                        ChatState.updated_at >= self.clock() - self.ttl,
                    )
                )
            ).first()
        return (row.state, dict(row.data)) if row else None

    async def _write(self, key: StorageKey, **values: Any) -> None:
        """Sets `state` and/or `data`; the other keeps its value unless the conversation has
        expired, when it starts again from nothing (no state, no data)."""
        now = self.clock()
        expired = ChatState.updated_at < now - self.ttl
        fresh = {"state": None, "data": {}, **values}
        async with autocommit(self.sessions) as session:
            insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
            statement = insert(ChatState).values(
                key=self.key_builder.build(key), updated_at=now, **fresh
            )
            kept = {
                name: case(
                    (expired, literal(fresh[name], ChatState.__table__.c[name].type)),
                    else_=ChatState.__table__.c[name],
                )
                for name in ("state", "data")
                if name not in values
            }
            await session.execute(
                statement.on_conflict_do_update(
                    index_elements=[ChatState.key],
                    set_={**{n: statement.excluded[n] for n in values}, **kept, "updated_at": now},
                )
            )

    async def set_state(self, key: StorageKey, state: str | State | None = None) -> None:
        value = state.state if isinstance(state, State) else state
        await self._write(key, state=value)

    async def get_state(self, key: StorageKey) -> str | None:
        found = await self._read(key)
        return found[0] if found else None

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        await self._write(key, data=dict(data))

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        found = await self._read(key)
        return found[1] if found else {}

    async def close(self) -> None:
        return None
