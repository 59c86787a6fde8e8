"""Console sign-in on the web side: the session cookie (HttpOnly, SameSite), the CSRF token
per session on every form, and the client's address. Passwords, sessions and the login
throttle are the domain's (`dispatch.accounts`)."""

import secrets
from ipaddress import ip_address
from typing import Any

from aiohttp import web

from dispatch.accounts import SignedIn
from web.context import WebContext

SESSION_COOKIE = "gridgov_session"
LOGIN_CSRF_COOKIE = "gridgov_login_csrf"


def cookie_options(ctx: WebContext, path: str = "/console") -> dict[str, Any]:
    return {
        "httponly": True,
        "samesite": "Lax",
        "secure": ctx.settings.secure_cookies,
        "path": path,
    }


def client_address(ctx: WebContext, request: web.Request) -> str:
    """The client's address: the peer, or, when the peer is a trusted proxy, the last address
    in X-Forwarded-For that is not one of the trusted proxies."""
    trusted = ctx.settings.trusted_proxies
    address = request.remote or ""
    forwarded = ",".join(request.headers.getall("X-Forwarded-For", []))
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    while hops and _is_trusted(address, trusted):
        address = hops.pop()
    return address[:64]


def _is_trusted(address: str, trusted: tuple[Any, ...]) -> bool:
    try:
        parsed = ip_address(address)
    except ValueError:
        return False
    return any(parsed in network for network in trusted)


async def current_user(ctx: WebContext, request: web.Request) -> SignedIn | None:
    token = request.cookies.get(SESSION_COOKIE)
    return await ctx.accounts.signed_in(token) if token else None


def csrf_ok(expected: str | None, given: object) -> bool:
    if not expected or not isinstance(given, str):
        return False
    return secrets.compare_digest(expected.encode(), given.encode("utf-8", "surrogatepass"))
