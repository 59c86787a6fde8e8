"""The conversation's state between messages (a report draft, a step waiting for words),
kept in the database (`chat_states`) so it survives a restart; forgotten after the TTL."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm.attributes import flag_modified

from models import ChatState


@dataclass
class Draft:
    key: str
    state: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


class DraftStore:
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
        async with self.sessions() as session, session.begin():
            row = await session.get(ChatState, key)
            if row is None:
                return Draft(key)
            if row.updated_at < self.clock() - self.ttl:
                await session.delete(row)
                return Draft(key)
            return Draft(key, row.state, dict(row.data or {}))

    async def save(self, draft: Draft) -> None:
        async with self.sessions() as session, session.begin():
            row = await session.get(ChatState, draft.key)
            if row is None:
                row = ChatState(key=draft.key)
                session.add(row)
            row.state = draft.state
            row.data = dict(draft.data)
            row.updated_at = self.clock()
            # Even when the clock shows the same time: else the column's onupdate stamps it.
            flag_modified(row, "updated_at")

    async def clear(self, draft: Draft) -> None:
        draft.state, draft.data = None, {}
        async with self.sessions() as session, session.begin():
            row = await session.get(ChatState, draft.key)
            if row is not None:
                await session.delete(row)
