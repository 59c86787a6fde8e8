"""Connections for single statements and reads that need no transaction of their own: each
statement commits by itself, which saves the BEGIN and COMMIT round trips, and a Core
statement on a bare connection skips the ORM session's bookkeeping (a chat update reads and
writes its conversation several times: see bench "serve")."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

AUTOCOMMIT = {"isolation_level": "AUTOCOMMIT"}


@asynccontextmanager
async def autocommit(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncConnection]:
    """A pooled connection of the sessions' engine whose statements commit one by one."""
    async with sessions.kw["bind"].connect() as conn:
        await conn.execution_options(**AUTOCOMMIT)
        yield conn


@asynccontextmanager
async def autocommit_session(
    sessions: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """The same for reads of ORM objects."""
    async with sessions() as session:
        await session.connection(execution_options=AUTOCOMMIT)
        yield session
