"""People, one-time invites, chat identities, group-chat bindings and API keys."""

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from dispatch.core.errors import N_, InvalidInput, NotFound
from models import ApiKey, ChatBinding, ChatIdentity, Invite, Person
from models.enums import CaseSource, ChatKind

INVITE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud, typed on phones


def new_invite_code() -> str:
    return "".join(secrets.choice(INVITE_ALPHABET) for _ in range(10))


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


async def create_invite(
    session: AsyncSession,
    now: datetime,
    *,
    person: Person | None = None,
    chat_kind: ChatKind | None = None,
    department_id: int | None = None,
    area_id: int | None = None,
    valid_for: timedelta = timedelta(days=7),
) -> Invite:
    """An invite binds a chat user to `person`, or (with `chat_kind`) a group chat to an
    office or to the supervisors of an area."""
    if (person is None) == (chat_kind is None):
        raise InvalidInput(N_("An invite is either for a person or for a group chat."))
    invite = Invite(
        code=new_invite_code(),
        person=person,
        chat_kind=chat_kind,
        department_id=department_id,
        area_id=area_id,
        created_at=now,
        expires_at=now + valid_for,
    )
    session.add(invite)
    await session.flush()
    return invite


async def _usable_invite(session: AsyncSession, code: str, now: datetime) -> Invite:
    invite = await session.scalar(
        select(Invite).where(Invite.code == code.strip().upper()).with_for_update()
    )
    if invite is None or invite.used_at is not None or invite.expires_at < now:
        raise NotFound(N_("This invite code is unknown, used or expired."))
    return invite


async def redeem_person_invite(
    session: AsyncSession, code: str, channel: str, external_id: str, now: datetime
) -> Person:
    """Binds the chat account to the invite's person. The same account redeeming its own
    invite again (a chat update handled a second time after a crash) gets the same answer."""
    again = await session.scalar(
        select(Person)
        .join(Invite, Invite.person_id == Person.id)
        .join(ChatIdentity, ChatIdentity.person_id == Person.id)
        .where(
            Invite.code == code.strip().upper(),
            Invite.used_at.is_not(None),
            ChatIdentity.channel == channel,
            ChatIdentity.external_id == external_id,
        )
    )
    if again is not None:
        return again
    invite = await _usable_invite(session, code, now)
    if invite.person_id is None:
        raise InvalidInput(N_("This code binds a group chat; send it there with /bind."))
    taken = await session.scalar(
        select(ChatIdentity).where(
            ChatIdentity.channel == channel, ChatIdentity.external_id == external_id
        )
    )
    if taken is not None:
        await session.delete(taken)  # re-registration moves the account to the new person
        await session.flush()
    session.add(ChatIdentity(person_id=invite.person_id, channel=channel, external_id=external_id))
    invite.used_at = now
    person = await session.get(Person, invite.person_id)
    assert person is not None
    return person


async def redeem_chat_invite(
    session: AsyncSession, code: str, channel: str, chat_id: str, title: str, now: datetime
) -> ChatBinding:
    invite = await _usable_invite(session, code, now)
    if invite.chat_kind is None:
        raise InvalidInput(N_("This code is for a person; send it to the bot with /start."))
    binding = await session.scalar(
        select(ChatBinding).where(ChatBinding.channel == channel, ChatBinding.chat_id == chat_id)
    ) or ChatBinding(channel=channel, chat_id=chat_id)
    binding.kind, binding.title = invite.chat_kind, title
    binding.department_id, binding.area_id = invite.department_id, invite.area_id
    session.add(binding)
    invite.used_at = now
    await session.flush()
    return binding


# Built once: every chat update looks its sender up.
PERSON_FOR_CHAT = (
    select(Person)
    .join(ChatIdentity, ChatIdentity.person_id == Person.id)
    .where(
        ChatIdentity.channel == bindparam("channel"),
        ChatIdentity.external_id == bindparam("external_id"),
        Person.active.is_(True),
    )
)


async def person_for_chat(session: AsyncSession, channel: str, external_id: str) -> Person | None:
    found = await session.execute(PERSON_FOR_CHAT, {"channel": channel, "external_id": external_id})
    return found.scalar()


async def create_api_key(
    session: AsyncSession, name: str, now: datetime, source: CaseSource = CaseSource.CITIZEN
) -> str:
    """Returns the key itself; only its digest is kept. `source` marks the cases the key
    reports: citizen apps, or the 12345 hotline."""
    if not name.strip():
        raise InvalidInput(N_("An API key needs a name."))
    if source not in (CaseSource.CITIZEN, CaseSource.HOTLINE):
        raise InvalidInput(N_("An API key reports for citizens or for the 12345 hotline."))
    key = secrets.token_urlsafe(24)
    session.add(ApiKey(name=name.strip(), key_digest=digest(key), created_at=now, source=source))
    await session.flush()
    return key


async def api_key_for(session: AsyncSession, key: str) -> ApiKey | None:
    found = await session.scalar(select(ApiKey).where(ApiKey.key_digest == digest(key)))
    return found if found is not None and found.revoked_at is None else None


async def link_chat_identity(
    session: AsyncSession, person_id: int, channel: str, external_id: str, now: datetime
) -> None:
    """Gives the person an account on a channel that needs no invite (the console's web
    chat, where the console login is the proof); nothing happens if it exists already."""
    found = await session.scalar(
        select(ChatIdentity.id).where(
            ChatIdentity.channel == channel, ChatIdentity.external_id == external_id
        )
    )
    if found is None:
        session.add(
            ChatIdentity(
                person_id=person_id, channel=channel, external_id=external_id, created_at=now
            )
        )
        await session.flush()
