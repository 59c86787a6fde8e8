"""People: the admin's list and their WeCom links, API keys, a person's language."""

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    ApiKey,
    ChatIdentity,
    Person,
)


async def people(session: AsyncSession, offset: int, limit: int) -> list[Person]:
    query = select(Person).order_by(Person.id).offset(offset).limit(limit)
    return list((await session.scalars(query)).all())


async def wecom_links(session: AsyncSession, person_ids: list[int]) -> dict[int, str]:
    """The WeCom userid of each of these people who has one."""
    rows = await session.execute(
        select(ChatIdentity.person_id, ChatIdentity.external_id).where(
            ChatIdentity.channel == "wecom", ChatIdentity.person_id.in_(person_ids)
        )
    )
    return {r.person_id: r.external_id for r in rows}


async def api_keys(session: AsyncSession) -> list[ApiKey]:
    return list((await session.scalars(select(ApiKey).order_by(ApiKey.id))).all())


async def set_locale(session: AsyncSession, person_id: int, locale: str) -> None:
    await session.execute(update(Person).where(Person.id == person_id).values(locale=locale))
