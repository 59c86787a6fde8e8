"""The conversation's state between messages (a report draft, a step waiting for words),
kept in the database (`chat_states`) so it survives a restart; forgotten after the TTL."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dispatch.autocommit import autocommit
from models import ChatState

# Built once: a chat update loads and saves its conversation, and building the statement
# would cost more than running it.
LOAD = select(ChatState.state, ChatState.data).where(
    ChatState.key == bindparam("key"), ChatState.updated_at >= bindparam("since")
)
CLEAR = delete(ChatState).where(ChatState.key == bindparam("key"))
SAVE = {
    dialect: (
        statement := insert(ChatState).values(
            key=bindparam("key"),
            state=bindparam("state"),
            data=bindparam("data"),
            updated_at=bindparam("now"),
        )
    ).on_conflict_do_update(
        index_elements=[ChatState.key],
        set_={name: statement.excluded[name] for name in ("state", "data", "updated_at")},
    )
    for dialect, insert in (("postgresql", pg_insert), ("sqlite", sqlite_insert))
}


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
        async with autocommit(self.sessions) as conn:
            found = await conn.execute(LOAD, {"key": key, "since": self.clock() - self.ttl})
            row = found.first()
        return Draft(key, row.state, dict(row.data or {})) if row else Draft(key)

    async def save(self, draft: Draft) -> None:
        values = {"key": draft.key, "state": draft.state, "data": dict(draft.data)}
        async with autocommit(self.sessions) as conn:
            await conn.execute(SAVE[conn.dialect.name], {**values, "now": self.clock()})

    async def clear(self, draft: Draft) -> None:
        draft.state, draft.data = None, {}
        async with autocommit(self.sessions) as conn:
            await conn.execute(CLEAR, {"key": draft.key})
