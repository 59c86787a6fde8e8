"""Console accounts: argon2 passwords, server-side sessions in HttpOnly SameSite cookies,
a CSRF token per session on every form, and a limit on failed logins."""

import asyncio
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from dispatch.core.actors import Actor
from dispatch.core.errors import DomainError
from dispatch.registration import digest
from gridgov.app import App
from models import ConsoleSession, LoginFailure, Person

SESSION_COOKIE = "gridgov_session"
LOGIN_CSRF_COOKIE = "gridgov_login_csrf"
SESSION_TTL = timedelta(hours=12)
FAILURE_WINDOW = timedelta(minutes=15)
MAX_FAILURES = 5
HASHER = PasswordHasher()
# Verified against when the username is unknown, so that both cases take the same time.
_DUMMY_HASH = HASHER.hash(secrets.token_hex(8))


@dataclass(frozen=True)
class ConsoleUser:
    person: Person
    actor: Actor
    csrf_token: str


def hash_password(password: str) -> str:
    return HASHER.hash(password)


def _verify(stored: str | None, password: str) -> bool:
    try:
        return HASHER.verify(stored or _DUMMY_HASH, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def cookie_options(app: App, path: str = "/console") -> dict[str, Any]:
    return {
        "httponly": True,
        "samesite": "Lax",
        "secure": app.settings.public_url.startswith("https://"),
        "path": path,
    }


def remote_of(request: web.Request) -> str:
    return (request.remote or "")[:64]


async def too_many_failures(
    session: AsyncSession, username: str, remote: str, now: datetime
) -> bool:
    count = await session.scalar(
        select(func.count())
        .select_from(LoginFailure)
        .where(
            LoginFailure.at > now - FAILURE_WINDOW,
            or_(LoginFailure.username == username, LoginFailure.remote == remote),
        )
    )
    return (count or 0) >= MAX_FAILURES


async def login(app: App, username: str, password: str, remote: str) -> str | None:
    """A new session token for good credentials; None (and a recorded failure) otherwise.
    The caller checks the rate limit first."""
    now = app.casework.clock()
    async with app.sessions() as session, session.begin():
        person = await session.scalar(
            select(Person).where(Person.username == username, Person.active.is_(True))
        )
        stored = person.password_hash if person else None
        if person is None or not await asyncio.to_thread(_verify, stored, password):
            session.add(LoginFailure(username=username[:64], remote=remote, at=now))
            return None
        if HASHER.check_needs_rehash(stored or ""):
            person.password_hash = await asyncio.to_thread(hash_password, password)
        token = secrets.token_urlsafe(32)
        session.add(
            ConsoleSession(
                token_digest=digest(token),
                person_id=person.id,
                csrf_token=secrets.token_urlsafe(32),
                created_at=now,
                expires_at=now + SESSION_TTL,
            )
        )
        return token


async def current_user(app: App, request: web.Request) -> ConsoleUser | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    async with app.sessions() as session:
        row = await session.get(ConsoleSession, digest(token))
        if row is None or row.expires_at <= app.casework.clock():
            return None
        person = await session.get(Person, row.person_id, options=[selectinload(Person.grids)])
        if person is None or not person.active:
            return None
        try:
            actor = await app.casework.actor(session, person.id)
        except DomainError:
            return None
        return ConsoleUser(person, actor, row.csrf_token)


async def logout(app: App, request: web.Request) -> None:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        async with app.sessions() as session, session.begin():
            await session.execute(
                delete(ConsoleSession).where(ConsoleSession.token_digest == digest(token))
            )


def csrf_ok(expected: str | None, given: object) -> bool:
    return bool(expected) and isinstance(given, str) and secrets.compare_digest(expected, given)
