"""The public transparency page (政务公开) at /public/: no login, switched on by the county with
GRIDGOV_PUBLIC_PAGE=on (404 while off). Answers come from a short-lived cache, so a crowd of
visitors costs one set of queries per period; each client address is rate-limited."""

import json
import time
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field

import aiohttp_jinja2
from aiohttp import web

from dispatch.supervision.public import public_cases, public_figures
from web.console.auth import client_address
from web.context import WebContext, context_of
from web.i18n import choose_locale, translator

routes = web.RouteTableDef()


@dataclass
class PublicState:
    """The cache of rendered answers and the per-address request times."""

    cache: dict[str, tuple[float, bytes, str]] = field(default_factory=dict)
    requests: dict[str, deque[float]] = field(default_factory=lambda: defaultdict(deque))


STATE = web.AppKey("public_state", PublicState)
Builder = Callable[[web.Request, WebContext], Awaitable[tuple[bytes, str]]]


def _allowed(state: PublicState, address: str, per_minute: int) -> bool:
    now = time.monotonic()
    times = state.requests[address]
    while times and now - times[0] > 60:
        times.popleft()
    if len(times) >= per_minute:
        return False
    times.append(now)
    if len(state.requests) > 10_000:  # forget idle addresses
        for key in [k for k, v in state.requests.items() if not v][:5000]:
            del state.requests[key]
    return True


async def _cached(request: web.Request, key: str, build: Builder) -> web.Response:
    ctx = context_of(request)
    if not ctx.settings.public_page:
        raise web.HTTPNotFound()
    state = request.app[STATE]
    address = client_address(ctx, request)
    if not _allowed(state, address, ctx.settings.public_requests_per_minute):
        raise web.HTTPTooManyRequests(headers={"Retry-After": "60"})
    hit = state.cache.get(key)
    now = time.monotonic()
    if hit is None or now - hit[0] > ctx.settings.public_cache_seconds:
        body, content_type = await build(request, ctx)
        hit = state.cache[key] = (now, body, content_type)
    max_age = int(ctx.settings.public_cache_seconds)
    return web.Response(
        body=hit[1],
        content_type=hit[2],
        charset="utf-8",
        headers={"Cache-Control": f"public, max-age={max_age}"},
    )


async def _page(request: web.Request, ctx: WebContext) -> tuple[bytes, str]:
    locale = choose_locale(request, ctx.settings.default_locale)
    tz = ctx.settings.tz
    async with ctx.sessions() as session:
        months = await public_figures(session, ctx.casework.catalog, tz, ctx.now())
    response = aiohttp_jinja2.render_template(
        "public/index.html",
        request,
        {"_": translator(locale), "locale": locale, "months": months},
    )
    assert isinstance(response.body, bytes)
    return response.body, "text/html"


async def _cases(request: web.Request, ctx: WebContext) -> tuple[bytes, str]:
    tz = ctx.settings.tz
    async with ctx.sessions() as session:
        cases = await public_cases(session, ctx.casework.catalog, tz, ctx.now())
    return json.dumps([asdict(c) for c in cases], ensure_ascii=False).encode(), "application/json"


async def _grids(request: web.Request, ctx: WebContext) -> tuple[bytes, str]:
    return ctx.casework.directory.outlines, "application/geo+json"


@routes.get("/public/")
async def index(request: web.Request) -> web.Response:
    locale = choose_locale(request, context_of(request).settings.default_locale)
    return await _cached(request, f"page:{locale}", _page)


@routes.get("/public/cases.json")
async def cases(request: web.Request) -> web.Response:
    return await _cached(request, "cases", _cases)


@routes.get("/public/grids.geojson")
async def grids(request: web.Request) -> web.Response:
    return await _cached(request, "grids", _grids)


def setup(webapp: web.Application) -> None:
    webapp[STATE] = PublicState()
    webapp.router.add_routes(routes)
