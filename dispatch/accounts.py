"""Console accounts: log-in under a throttle, sessions, log-out, API keys for Open311 clients,
invites that bind a chat account to a person. Each use case is one transaction and leaves an
audit event (who, when, from where)."""

import asyncio
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import case, delete, literal, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from dispatch.core.actors import Actor
from dispatch.core.errors import N_, DomainError, NotFound, PermissionDenied
from dispatch.registration import create_api_key, create_invite, digest
from models import ApiKey, AuditEvent, ConsoleSession, LoginThrottle, Person
from models.base import UTCDateTime, utcnow
from models.enums import Role

HASHER = PasswordHasher()
# Verified against when the username is unknown, so that both cases take the same time.
_DUMMY_HASH = HASHER.hash(secrets.token_hex(8))

ActorOf = Callable[[AsyncSession, int], Awaitable[Actor]]


def hash_password(password: str) -> str:
    return HASHER.hash(password)


def _verify(stored: str | None, password: str) -> bool:
    try:
        return HASHER.verify(stored or _DUMMY_HASH, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


class AuditAction(StrEnum):
    LOGIN = "login"
    LOGIN_FAILED = "login.failed"
    LOGIN_THROTTLED = "login.throttled"
    LOGOUT = "logout"
    API_KEY_CREATED = "apikey.created"
    API_KEY_REVOKED = "apikey.revoked"
    INVITE_CREATED = "invite.created"
    WECOM_LINKED = "wecom.linked"
    WECOM_UNLINKED = "wecom.unlinked"
    CHAT_CREATED = "chat.created"
    CHAT_BOUND = "chat.bound"
    CHAT_UNBOUND = "chat.unbound"


@dataclass(frozen=True)
class ThrottlePolicy:
    """Failed logins allowed in a window: per account from one address (a guesser at one
    address does not lock the account out elsewhere), and per address across accounts."""

    per_account: int = 5
    per_address: int = 50
    window: timedelta = timedelta(minutes=15)


@dataclass(frozen=True)
class LoginResult:
    token: str | None  # the new session's token when the password was right
    throttled: bool = False


@dataclass(frozen=True)
class SignedIn:
    person: Person
    actor: Actor
    csrf_token: str


class Accounts:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        actor_of: ActorOf,
        policy: ThrottlePolicy = ThrottlePolicy(),
        session_ttl: timedelta = timedelta(hours=12),
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.sessions = sessions
        self.actor_of = actor_of
        self.policy = policy
        self.session_ttl = session_ttl
        self.clock = clock

    # -- log-in -------------------------------------------------------------------------

    async def login(self, username: str, password: str, remote: str) -> LoginResult:
        """Counts the attempt first, in one statement per counter, so that parallel attempts
        cannot all pass the limit; only then is the password checked."""
        now = self.clock()
        username, remote = username[:64], remote[:64]
        account_key, address_key = f"account:{username}@{remote}", f"address:{remote}"
        async with self.sessions() as session, session.begin():
            per_account = await self._count_attempt(session, account_key, now)
            per_address = await self._count_attempt(session, address_key, now)
            throttled = (
                per_account > self.policy.per_account or per_address > self.policy.per_address
            )
            if throttled:
                audit(session, now, AuditAction.LOGIN_THROTTLED, None, username, remote)
        if throttled:
            return LoginResult(None, throttled=True)
        async with self.sessions() as session, session.begin():
            person = (
                await session.execute(
                    select(Person.id, Person.password_hash).where(
                        Person.username == username, Person.active.is_(True)
                    )
                )
            ).first()
            stored = person.password_hash if person else None
            if person is None or not await asyncio.to_thread(_verify, stored, password):
                audit(session, now, AuditAction.LOGIN_FAILED, None, username, remote)
                return LoginResult(None)
            # A good password clears its account's count and gives its attempt back.
            await session.execute(delete(LoginThrottle).where(LoginThrottle.key == account_key))
            await session.execute(
                update(LoginThrottle)
                .where(LoginThrottle.key == address_key, LoginThrottle.failures > 0)
                .values(failures=LoginThrottle.failures - 1)
            )
            if HASHER.check_needs_rehash(stored or ""):
                new_hash = await asyncio.to_thread(hash_password, password)
                await session.execute(
                    update(Person).where(Person.id == person.id).values(password_hash=new_hash)
                )
            token = secrets.token_urlsafe(32)
            session.add(
                ConsoleSession(
                    token_digest=digest(token),
                    person_id=person.id,
                    csrf_token=secrets.token_urlsafe(32),
                    created_at=now,
                    expires_at=now + self.session_ttl,
                )
            )
            audit(session, now, AuditAction.LOGIN, person.id, username, remote)
            return LoginResult(token)

    async def _count_attempt(self, session: AsyncSession, key: str, now: datetime) -> int:
        """The attempts in the key's window, this one included (a new window when the last
        one is over)."""
        insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
        expired = LoginThrottle.window_started_at <= now - self.policy.window
        statement = (
            insert(LoginThrottle)
            .values(key=key, failures=1, window_started_at=now)
            .on_conflict_do_update(
                index_elements=["key"],
                set_={
                    "failures": case((expired, 1), else_=LoginThrottle.failures + 1),
                    "window_started_at": case(
                        (expired, literal(now, UTCDateTime())),
                        else_=LoginThrottle.window_started_at,
                    ),
                },
            )
            .returning(LoginThrottle.failures)
        )
        return int((await session.execute(statement)).scalar_one())

    # -- sessions -----------------------------------------------------------------------

    async def signed_in(self, token: str) -> SignedIn | None:
        """The person behind a session token, while the session and the person are valid."""
        async with self.sessions() as session:
            row = await session.get(ConsoleSession, digest(token))
            if row is None or row.expires_at <= self.clock():
                return None
            person = await session.get(Person, row.person_id, options=[selectinload(Person.grids)])
            if person is None or not person.active:
                return None
            try:
                actor = await self.actor_of(session, person.id)
            except DomainError:
                return None
            return SignedIn(person, actor, row.csrf_token)

    async def logout(self, token: str, remote: str) -> None:
        now = self.clock()
        async with self.sessions() as session, session.begin():
            row = await session.get(ConsoleSession, digest(token))
            if row is None:
                return
            await session.delete(row)
            audit(session, now, AuditAction.LOGOUT, row.person_id, "", remote)

    # -- API keys -----------------------------------------------------------------------

    async def create_api_key(self, admin: Actor, name: str, remote: str) -> str:
        """The new key itself (shown once); only its digest is kept."""
        require_admin(admin)
        now = self.clock()
        async with self.sessions() as session, session.begin():
            key = await create_api_key(session, name, now)
            audit(
                session,
                now,
                AuditAction.API_KEY_CREATED,
                admin.person_id,
                "",
                remote,
                {"name": name.strip()},
            )
            return key

    async def revoke_api_key(self, admin: Actor, key_id: int, remote: str) -> None:
        require_admin(admin)
        now = self.clock()
        async with self.sessions() as session, session.begin():
            key = await session.get(ApiKey, key_id, with_for_update=True)
            if key is None:
                raise NotFound(N_("API key %(id)s does not exist."), id=key_id)
            if key.revoked_at is not None:
                return
            key.revoked_at = now
            audit(
                session,
                now,
                AuditAction.API_KEY_REVOKED,
                admin.person_id,
                "",
                remote,
                {"api_key_id": key.id, "name": key.name},
            )

    # -- invites ------------------------------------------------------------------------

    async def create_person_invite(self, admin: Actor, person_id: int, remote: str) -> str:
        """A code that binds a chat account to the person (shown once to the admin)."""
        require_admin(admin)
        now = self.clock()
        async with self.sessions() as session, session.begin():
            person = await session.get(Person, person_id)
            if person is None:
                raise NotFound(N_("Person %(id)s does not exist."), id=person_id)
            invite = await create_invite(session, now, person=person)
            audit(
                session,
                now,
                AuditAction.INVITE_CREATED,
                admin.person_id,
                "",
                remote,
                {"person_id": person_id},
            )
            return invite.code


def require_admin(actor: Actor) -> None:
    if actor.role is not Role.ADMIN:
        raise PermissionDenied(N_("Only an administrator manages access."))


def audit(
    session: AsyncSession,
    now: datetime,
    action: AuditAction,
    person_id: int | None,
    username: str,
    remote: str,
    detail: dict[str, Any] | None = None,
) -> None:
    session.add(
        AuditEvent(
            at=now,
            action=action.value,
            person_id=person_id,
            username=username,
            remote=remote,
            detail=detail or {},
        )
    )
