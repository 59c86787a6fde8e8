"""Test fixtures: a fresh PostgreSQL database per test run, and an SQLite one for the subset
that keeps the embedded default honest."""

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from models import Base
from models.db import create_engine, create_session_factory
from models.migrate import upgrade_async

SERVER_URL = os.environ.get(
    "GRIDGOV_TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)


def _asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture(scope="session")
async def pg_url() -> AsyncIterator[str]:
    """A database created for this test run, migrated to head, dropped at the end."""
    name = f"gridgov_test_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(_asyncpg_dsn(SERVER_URL))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    url = make_url(SERVER_URL).set(database=name).render_as_string(hide_password=False)
    await upgrade_async(url)
    yield url
    admin = await asyncpg.connect(_asyncpg_dsn(SERVER_URL))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture(scope="session")
async def pg_engine(pg_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(pg_url)
    yield engine
    await engine.dispose()


async def _truncate_all(engine: AsyncEngine) -> None:
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    async with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(Base.metadata.sorted_tables):
                await conn.execute(table.delete())


@pytest.fixture
async def engine(pg_engine: AsyncEngine) -> AsyncEngine:
    """The run's PostgreSQL database, emptied before the test."""
    await _truncate_all(pg_engine)
    return pg_engine


@pytest.fixture
async def sqlite_engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'gridgov.db'}"
    await upgrade_async(url)
    engine = create_engine(url)
    yield engine
    await engine.dispose()


@pytest.fixture(params=["postgresql", "sqlite"])
def any_engine(request: pytest.FixtureRequest) -> AsyncEngine:
    """For the tests that must pass on both databases."""
    fixture = "engine" if request.param == "postgresql" else "sqlite_engine"
    return request.getfixturevalue(fixture)


@pytest.fixture
def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return create_session_factory(engine)
