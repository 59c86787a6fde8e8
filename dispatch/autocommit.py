"""Sessions for reads and single statements that need no transaction of their own: each
statement commits by itself, which saves the BEGIN and COMMIT round trips (a chat update
reads and writes its conversation several times)."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

AUTOCOMMIT = {"isolation_level": "AUTOCOMMIT"}


@asynccontextmanager
async def autocommit(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """A session whose statements commit one by one: for single statements and reads only."""
    async with sessions() as session:
        await session.connection(execution_options=AUTOCOMMIT)
        yield session
