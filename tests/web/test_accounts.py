"""Console accounts through their use cases: an atomic login throttle per account and
address, trusted proxies, and the audit record of logins, logouts and API keys."""

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from ipaddress import ip_network

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from dispatch.accounts import AuditAction
from dispatch.core.errors import PermissionDenied
from gridgov.app import App
from models import ApiKey, AuditEvent
from tests.dispatch.world import World
from tests.web.conftest import PASSWORD
from tests.web.helpers import csrf_of, login
from web.app import create_web_app


async def _audit(app: App) -> list[AuditEvent]:
    async with app.sessions() as session:
        return list((await session.scalars(select(AuditEvent).order_by(AuditEvent.id))).all())


async def test_parallel_wrong_passwords_are_checked_at_most_the_limit(app: App) -> None:
    accounts = app.web_context().accounts
    results = await asyncio.gather(
        *(accounts.login("hw1", f"guess {i}", "198.51.100.7") for i in range(40))
    )
    assert all(r.token is None for r in results)
    events = [e.action for e in await _audit(app)]
    assert events.count(AuditAction.LOGIN_FAILED) <= 5  # the passwords actually checked
    assert events.count(AuditAction.LOGIN_THROTTLED) >= 35
    assert sum(r.throttled for r in results) >= 35


async def test_a_guesser_does_not_lock_the_account_out_elsewhere(app: App) -> None:
    accounts = app.web_context().accounts
    for _ in range(5):
        assert (await accounts.login("hw1", "guess", "198.51.100.7")).token is None
    assert (await accounts.login("hw1", PASSWORD, "198.51.100.7")).throttled
    elsewhere = await accounts.login("hw1", PASSWORD, "203.0.113.9")
    assert elsewhere.token is not None and not elsewhere.throttled


async def test_an_address_spraying_accounts_is_stopped(app: App) -> None:
    accounts = app.web_context().accounts
    limit = accounts.policy.per_address
    names = [f"user{i}" for i in range(limit)]
    for name in names:
        assert not (await accounts.login(name, "guess", "192.0.2.1")).throttled
    assert (await accounts.login("hw1", PASSWORD, "192.0.2.1")).throttled
    assert (await accounts.login("hw1", PASSWORD, "192.0.2.2")).token is not None


async def test_the_window_ends(app: App) -> None:
    accounts = app.web_context().accounts
    for _ in range(6):
        await accounts.login("hw1", "guess", "198.51.100.7")
    assert (await accounts.login("hw1", PASSWORD, "198.51.100.7")).throttled
    app.casework.clock.now += accounts.policy.window  # type: ignore[attr-defined]
    assert (await accounts.login("hw1", PASSWORD, "198.51.100.7")).token is not None


@pytest.fixture
async def proxied(app: App) -> AsyncIterator[TestClient]:
    """The console behind a TLS proxy on 127.0.0.1, which the settings trust."""
    ctx = app.web_context()
    ctx = replace(ctx, settings=replace(ctx.settings, trusted_proxies=(ip_network("127.0.0.1"),)))
    async with TestClient(TestServer(create_web_app(ctx))) as client:
        yield client


async def _login_from(client: TestClient, address: str, password: str) -> int:
    page = await (await client.get("/console/login")).text()
    r = await client.post(
        "/console/login",
        data={"username": "hw1", "password": password, "csrf_token": csrf_of(page)},
        headers={"X-Forwarded-For": f"{address}, 127.0.0.1"},
        allow_redirects=False,
    )
    return r.status


async def test_behind_a_trusted_proxy_each_client_is_throttled_alone(
    proxied: TestClient, app: App
) -> None:
    for _ in range(5):
        assert await _login_from(proxied, "203.0.113.5", "guess") == 401
    assert await _login_from(proxied, "203.0.113.5", PASSWORD) == 429
    assert await _login_from(proxied, "203.0.113.6", PASSWORD) == 303
    remotes = {e.remote for e in await _audit(app)}
    assert remotes == {"203.0.113.5", "203.0.113.6"}


async def test_an_untrusted_peer_cannot_choose_its_address(client: TestClient, app: App) -> None:
    for i in range(5):
        assert await _login_from(client, f"203.0.113.{i}", "guess") == 401
    assert await _login_from(client, "203.0.113.99", PASSWORD) == 429
    assert {e.remote for e in await _audit(app)} == {"127.0.0.1"}


async def test_logins_logouts_api_keys_and_invites_are_on_the_record(
    client: TestClient, app: App, world: World
) -> None:
    assert await login(client, "admin", "wrong") == 401
    assert await login(client, "admin") == 303
    page = await (await client.get("/console/admin")).text()
    csrf = csrf_of(page)
    page = await (
        await client.post("/console/admin/apikeys", data={"csrf_token": csrf, "name": "12345"})
    ).text()
    async with app.sessions() as session:
        key = await session.scalar(select(ApiKey).where(ApiKey.name == "12345"))
    assert key is not None
    r = await client.post(f"/console/admin/apikeys/{key.id}/revoke", data={"csrf_token": csrf})
    assert r.status == 200
    person = world.people["hw1"]
    r = await client.post("/console/admin/invites", data={"csrf_token": csrf, "person_id": person})
    assert r.status == 200
    await client.post("/console/logout", data={"csrf_token": csrf})
    events = await _audit(app)
    admin_id = next(e.person_id for e in events if e.action == AuditAction.LOGIN)
    assert [(e.action, e.person_id) for e in events] == [
        (AuditAction.LOGIN_FAILED, None),
        (AuditAction.LOGIN, admin_id),
        (AuditAction.API_KEY_CREATED, admin_id),
        (AuditAction.API_KEY_REVOKED, admin_id),
        (AuditAction.INVITE_CREATED, admin_id),
        (AuditAction.LOGOUT, admin_id),
    ]
    assert all(e.remote == "127.0.0.1" and e.at for e in events)
    assert events[0].username == "admin"
    assert events[3].detail["api_key_id"] == key.id
    assert events[4].detail["person_id"] == person


async def test_only_an_admin_manages_api_keys(app: App, world: World) -> None:
    accounts = app.web_context().accounts
    async with app.sessions() as session:
        office = await app.casework.actor(session, world.people["hw1"])
    with pytest.raises(PermissionDenied):
        await accounts.create_api_key(office, "sneaky", "127.0.0.1")
    assert await _audit(app) == []
