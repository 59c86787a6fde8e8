"""Who hears of a case step, and the outbox rows that carry it. Rows are written in the use
case's transaction; a unique dedupe key makes a second write of the same message a no-op."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from models import ChatBinding, ChatIdentity, OutboxMessage, Person
from models.enums import ChatKind, RecipientKind, Role

LOG_CHANNEL = "log"  # where a message goes when its recipient has no chat yet: on record, visible


@dataclass(frozen=True)
class Target:
    kind: RecipientKind
    id: int | None
    channel: str
    address: str
    locale: str = "zh_CN"


async def _person_targets(session: AsyncSession, people: list[Person]) -> list[Target]:
    if not people:
        return []
    by_id = {p.id: p for p in people}
    identities = (
        await session.scalars(select(ChatIdentity).where(ChatIdentity.person_id.in_(by_id)))
    ).all()
    targets = [
        Target(
            RecipientKind.PERSON, i.person_id, i.channel, i.external_id, by_id[i.person_id].locale
        )
        for i in identities
    ]
    reached = {t.id for t in targets}
    targets += [
        Target(RecipientKind.PERSON, p.id, LOG_CHANNEL, f"person:{p.id}", p.locale)
        for p in people
        if p.id not in reached
    ]
    return targets


async def person(session: AsyncSession, person_id: int | None) -> list[Target]:
    if person_id is None:
        return []
    found = await session.get(Person, person_id)
    return await _person_targets(session, [found] if found and found.active else [])


async def office(session: AsyncSession, department_id: int | None) -> list[Target]:
    """The office's bound group chats; failing those, its members one by one."""
    if department_id is None:
        return []
    chats = (
        await session.scalars(
            select(ChatBinding).where(
                ChatBinding.kind == ChatKind.OFFICE, ChatBinding.department_id == department_id
            )
        )
    ).all()
    if chats:
        return [Target(RecipientKind.OFFICE, department_id, c.channel, c.chat_id) for c in chats]
    members = (
        await session.scalars(
            select(Person).where(Person.department_id == department_id, Person.active.is_(True))
        )
    ).all()
    targets = [t for t in await _person_targets(session, list(members)) if t.channel != LOG_CHANNEL]
    return targets or [
        Target(RecipientKind.OFFICE, department_id, LOG_CHANNEL, f"office:{department_id}")
    ]


async def office_heads(session: AsyncSession, department_id: int | None) -> list[Target]:
    heads = (
        await session.scalars(
            select(Person).where(
                Person.department_id == department_id,
                Person.is_head.is_(True),
                Person.active.is_(True),
            )
        )
    ).all()
    return await _person_targets(session, list(heads))


async def supervisors(session: AsyncSession, area_id: int | None) -> list[Target]:
    """The supervisors of one area (None: the county): their group chats and each of them."""
    chats = (
        await session.scalars(
            select(ChatBinding).where(
                ChatBinding.kind == ChatKind.SUPERVISORS,
                ChatBinding.area_id == area_id if area_id else ChatBinding.area_id.is_(None),
            )
        )
    ).all()
    people = (
        await session.scalars(
            select(Person).where(
                Person.role == Role.SUPERVISOR,
                Person.active.is_(True),
                Person.area_id == area_id if area_id else Person.area_id.is_(None),
            )
        )
    ).all()
    return [
        Target(RecipientKind.SUPERVISORS, area_id, c.channel, c.chat_id) for c in chats
    ] + await _person_targets(session, list(people))


async def dispatchers(session: AsyncSession, area_ids: tuple[int | None, ...]) -> list[Target]:
    """The dispatchers whose area holds the case (county-wide dispatchers always)."""
    scoped = [a for a in area_ids if a is not None]
    people = (
        await session.scalars(
            select(Person).where(
                Person.role == Role.DISPATCHER,
                Person.active.is_(True),
                or_(Person.area_id.is_(None), Person.area_id.in_(scoped)),
            )
        )
    ).all()
    return await _person_targets(session, list(people))


class Recipients:
    """Recipient lookups memoised for one transaction: a sweep escalating hundreds of cases
    asks for the same offices and supervisors over and over."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self._memo: dict[tuple[str, object], list[Target]] = {}

    async def _cached(self, kind: str, key: object, lookup: Any) -> list[Target]:
        if (kind, key) not in self._memo:
            self._memo[kind, key] = await lookup(self.session, key)
        return self._memo[kind, key]

    async def person(self, person_id: int | None) -> list[Target]:
        return await self._cached("person", person_id, person)

    async def office(self, department_id: int | None) -> list[Target]:
        return await self._cached("office", department_id, office)

    async def office_heads(self, department_id: int | None) -> list[Target]:
        return await self._cached("heads", department_id, office_heads)

    async def supervisors(self, area_id: int | None) -> list[Target]:
        return await self._cached("supervisors", area_id, supervisors)

    async def dispatchers(self, area_ids: tuple[int | None, ...]) -> list[Target]:
        return await self._cached("dispatchers", area_ids, dispatchers)


async def enqueue(
    session: AsyncSession,
    targets: list[Target],
    kind: str,
    dedupe_base: str,
    payload: dict[str, Any],
    case_id: int | None = None,
    now: datetime | None = None,
) -> int:
    """Writes one outbox row per distinct target; returns how many were new."""
    rows = []
    seen: set[str] = set()
    for t in targets:
        key = f"{dedupe_base}:{kind}:{t.channel}:{t.address}"
        if key in seen:
            continue
        seen.add(key)
        row: dict[str, Any] = dict(
            dedupe_key=key,
            kind=kind,
            case_id=case_id,
            recipient_kind=t.kind,
            recipient_id=t.id,
            channel=t.channel,
            address=t.address,
            locale=t.locale,
            payload=payload,
        )
        if now is not None:
            row.update(created_at=now, next_attempt_at=now)
        rows.append(row)
    if not rows:
        return 0
    insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
    result = await session.execute(
        insert(OutboxMessage).values(rows).on_conflict_do_nothing(index_elements=["dedupe_key"])
    )
    return result.rowcount or 0
