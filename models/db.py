"""Engine and session factory for PostgreSQL (asyncpg) and SQLite (aiosqlite)."""

from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An async engine; SQLite gets foreign keys and WAL so it behaves like the real thing."""
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()

        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    # No pre-ping (a round trip per transaction): a connection that died with a server
    # restart fails once, and SQLAlchemy then discards the whole pool.
    kwargs.setdefault("pool_recycle", 3600)
    # Each connection keeps its prepared statements (asyncpg: parse and describe once); the
    # default of 100 is fewer than the statements a full instance runs, and an evicted one
    # costs a round trip again.
    if "+asyncpg" in url:
        kwargs.setdefault("connect_args", {"prepared_statement_cache_size": 500})
    return create_async_engine(url, **kwargs)


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
