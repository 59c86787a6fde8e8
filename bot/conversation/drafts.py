"""The conversation's state between messages (a report draft, a step waiting for words),
kept in the database (`chat_states`) so it survives a restart; forgotten after the TTL."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dispatch.autocommit import autocommit
from models import ChatState


@dataclass
class Draft:
    key: str
    state: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


class DraftStore:
    """Each call is one statement committed by itself (a read, an upsert, a delete): no
    BEGIN and COMMIT round trips. A draft past its TTL reads as absent; the retention job
    deletes it."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        ttl: timedelta,
        clock: Callable[[], datetime],
    ) -> None:
        self.sessions = sessions
        self.ttl = ttl
        self.clock = clock

    async def load(self, key: str) -> Draft:
        async with autocommit(self.sessions) as session:
            row = (
                await session.execute(
                    select(ChatState.state, ChatState.data).where(
                        ChatState.key == key, ChatState.updated_at >= self.clock() - self.ttl
                    )
                )
            ).first()
        return Draft(key, row.state, dict(row.data or {})) if row else Draft(key)

    async def save(self, draft: Draft) -> None:
        values = {"state": draft.state, "data": dict(draft.data), "updated_at": self.clock()}
        async with autocommit(self.sessions) as session:
            insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
            statement = insert(ChatState).values(key=draft.key, **values)
            await session.execute(
                statement.on_conflict_do_update(index_elements=[ChatState.key], set_=values)
            )

    async def clear(self, draft: Draft) -> None:
        draft.state, draft.data = None, {}
        async with autocommit(self.sessions) as session:
            await session.execute(delete(ChatState).where(ChatState.key == draft.key))
