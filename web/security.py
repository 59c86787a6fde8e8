"""Headers on every answer: no content sniffing; console pages may not be framed and run
only the console's own scripts and styles (the Content-Security-Policy)."""

from collections.abc import Awaitable, Callable

from aiohttp import web
from multidict import CIMultiDict

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

CONSOLE_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)


def _add(request: web.Request, headers: "CIMultiDict[str]") -> None:
    headers.setdefault("X-Content-Type-Options", "nosniff")
    if request.path.startswith("/console"):
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Content-Security-Policy", CONSOLE_POLICY)


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        _add(request, exc.headers)
        raise
    _add(request, response.headers)
    return response
