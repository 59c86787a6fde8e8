"""Secrets generated once per database when the settings give none: the first instance to
ask creates it, every other one (and every restart) reads the same value."""

import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models import InstanceSecret


async def instance_secret(
    sessions: async_sessionmaker[AsyncSession], name: str, now: datetime
) -> str:
    async with sessions() as session, session.begin():
        insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
        await session.execute(
            insert(InstanceSecret)
            .values(name=name, value=secrets.token_urlsafe(48), created_at=now)
            .on_conflict_do_nothing()
        )
        value = await session.scalar(
            select(InstanceSecret.value).where(InstanceSecret.name == name)
        )
    assert value is not None
    return value
