"""Who hears of a case step, and the outbox rows that carry it. Rows are written in the use
case's transaction; a unique dedupe key makes a second write of the same message a no-op."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, bindparam, literal, or_, select, union_all
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from models import ChatBinding, ChatIdentity, OutboxMessage, Person
from models.enums import ChatKind, RecipientKind, Role

LOG_CHANNEL = "log"  # where a message goes when its recipient has no chat yet: on record, visible
# The delivery order between a chat's waiting messages: escalations overtake routine traffic.
PRIORITY = {"case.escalate": 2, "case.overdue": 2, "case.remind": 1}


@dataclass(frozen=True)
class Target:
    kind: RecipientKind
    id: int | None
    channel: str
    address: str
    locale: str = "zh_CN"


async def _people(session: AsyncSession, *conditions: ColumnElement[bool]) -> list[Target]:
    """Active people matching the conditions, one target per chat account they have, or a
    log target for those without one."""
    rows = await session.execute(
        select(Person.id, Person.locale, ChatIdentity.channel, ChatIdentity.external_id)
        .outerjoin(ChatIdentity, ChatIdentity.person_id == Person.id)
        .where(Person.active.is_(True), *conditions)
        .order_by(Person.id, ChatIdentity.id)
    )
    return [
        Target(
            RecipientKind.PERSON,
            r.id,
            r.channel or LOG_CHANNEL,
            r.external_id or f"person:{r.id}",
            r.locale,
        )
        for r in rows
    ]


async def _chats(
    session: AsyncSession,
    kind: ChatKind,
    owner: ColumnElement[bool],
    recipient: RecipientKind,
    recipient_id: int | None,
) -> list[Target]:
    rows = await session.execute(
        select(ChatBinding.channel, ChatBinding.chat_id)
        .where(ChatBinding.kind == kind, owner)
        .order_by(ChatBinding.id)
    )
    return [Target(recipient, recipient_id, r.channel, r.chat_id) for r in rows]


async def person(session: AsyncSession, person_id: int | None) -> list[Target]:
    if person_id is None:
        return []
    return await _people(session, Person.id == person_id)


# An office's group chats and its members' own chats, in one round trip (every step of a
# case asks for them).
_OFFICE_CHATS = union_all(
    select(
        literal(RecipientKind.OFFICE.value).label("kind"),
        ChatBinding.department_id.label("id"),
        ChatBinding.channel,
        ChatBinding.chat_id.label("address"),
        literal("zh_CN").label("locale"),
        ChatBinding.id.label("n"),
    ).where(
        ChatBinding.kind == ChatKind.OFFICE, ChatBinding.department_id == bindparam("department")
    ),
    select(
        literal(RecipientKind.PERSON.value),
        Person.id,
        ChatIdentity.channel,
        ChatIdentity.external_id,
        Person.locale,
        ChatIdentity.id,
    )
    .join(ChatIdentity, ChatIdentity.person_id == Person.id)
    .where(Person.department_id == bindparam("department"), Person.active.is_(True)),
).order_by("kind", "n")


async def office(session: AsyncSession, department_id: int | None) -> list[Target]:
    """The office's bound group chats; failing those, its members one by one."""
    if department_id is None:
        return []
    rows = (await session.execute(_OFFICE_CHATS, {"department": department_id})).all()
    targets = [Target(RecipientKind(r.kind), r.id, r.channel, r.address, r.locale) for r in rows]
    chats = [t for t in targets if t.kind is RecipientKind.OFFICE]
    return (
        chats
        or targets
        or [Target(RecipientKind.OFFICE, department_id, LOG_CHANNEL, f"office:{department_id}")]
    )


async def office_heads(session: AsyncSession, department_id: int | None) -> list[Target]:
    return await _people(session, Person.department_id == department_id, Person.is_head.is_(True))


async def supervisors(session: AsyncSession, area_id: int | None) -> list[Target]:
    """The supervisors of one area (None: the county): their group chats and each of them."""
    chats = await _chats(
        session,
        ChatKind.SUPERVISORS,
        ChatBinding.area_id == area_id if area_id else ChatBinding.area_id.is_(None),
        RecipientKind.SUPERVISORS,
        area_id,
    )
    people = await _people(
        session,
        Person.role == Role.SUPERVISOR,
        Person.area_id == area_id if area_id else Person.area_id.is_(None),
    )
    return chats + people


async def dispatchers(session: AsyncSession, area_ids: tuple[int | None, ...]) -> list[Target]:
    """The dispatchers whose area holds the case (county-wide dispatchers always)."""
    scoped = [a for a in area_ids if a is not None]
    return await _people(
        session,
        Person.role == Role.DISPATCHER,
        or_(Person.area_id.is_(None), Person.area_id.in_(scoped)),
    )


class Notifier:
    """One unit of work's messages: each recipient looked up once (a sweep escalating
    hundreds of cases asks for the same offices over and over), and the outbox rows written
    in one statement when the work is done."""

    def __init__(
        self,
        session: AsyncSession,
        memo: dict[tuple[str, object], list[Target]] | None = None,
        deliver_by: datetime | None = None,
    ) -> None:
        self.session = session
        self._memo = {} if memo is None else memo
        self._rows: list[dict[str, Any]] = []
        # The latest a message may wait for: a sweep run "as of" a later time still queues
        # its messages for delivery now.
        self.deliver_by = deliver_by

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

    def queue(
        self,
        targets: list[Target],
        kind: str,
        dedupe_base: str,
        payload: dict[str, Any],
        case_id: int | None = None,
        now: datetime | None = None,
    ) -> None:
        rows = outbox_rows(targets, kind, dedupe_base, payload, case_id, now)
        if self.deliver_by is not None and now is not None and now > self.deliver_by:
            for row in rows:
                row["next_attempt_at"] = self.deliver_by
        self._rows += rows

    async def flush(self) -> int:
        """Writes the queued rows; returns how many were new."""
        rows, self._rows = self._rows, []
        return await insert_rows(self.session, rows)


def outbox_rows(
    targets: list[Target],
    kind: str,
    dedupe_base: str,
    payload: dict[str, Any],
    case_id: int | None = None,
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """One row per target; the dedupe key names the event, the kind and the chat."""
    times = {"created_at": now, "next_attempt_at": now} if now is not None else {}
    return [
        dict(
            dedupe_key=f"{dedupe_base}:{kind}:{t.channel}:{t.address}",
            kind=kind,
            case_id=case_id,
            recipient_kind=t.kind,
            recipient_id=t.id,
            channel=t.channel,
            address=t.address,
            locale=t.locale,
            payload=payload,
            priority=PRIORITY.get(kind, 0),
            **times,
        )
        for t in targets
    ]


async def insert_rows(session: AsyncSession, rows: list[dict[str, Any]]) -> int:
    """Inserts outbox rows; a row whose dedupe key is already there is dropped."""
    unique = list({row["dedupe_key"]: row for row in rows}.values())
    if not unique:
        return 0
    insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
    statement = insert(OutboxMessage).on_conflict_do_nothing(index_elements=["dedupe_key"])
    result = await session.execute(statement.returning(OutboxMessage.id), unique)
    return len(result.all())
