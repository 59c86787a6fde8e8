"""What every console page shares: the login check, the CSRF check, role guards and the
error pages."""

from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from dispatch.accounts import SignedIn
from dispatch.queries.cases import NavCounts, nav_counts
from models.enums import Role
from web.console.auth import csrf_ok, current_user
from web.context import context_of
from web.errors import check_text
from web.i18n import choose_locale, translator

PUBLIC = {"/console/login", "/console/lang"}
LOCALE = web.RequestKey("locale", str)
USER = web.RequestKey("user", SignedIn)
NAV = web.RequestKey("nav", NavCounts)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def user_of(request: web.Request) -> SignedIn:
    return request[USER]


def locale_of(request: web.Request) -> str:
    return request.get(LOCALE, "zh_CN")


def gettext_of(request: web.Request) -> Callable[[str], str]:
    return translator(locale_of(request))


def error_page(request: web.Request, status: int, message: str) -> web.Response:
    return render(request, "error.html", {"status": status, "message": message}, status)


def error_answer(request: web.Request, status: int, message: str) -> web.Response:
    """The page for a request the error middleware stopped (`message` is for the log)."""
    request.setdefault(LOCALE, choose_locale(request, context_of(request).settings.default_locale))
    _ = gettext_of(request)
    if status >= 500:
        return error_page(
            request, status, _("Something went wrong on our side; it has been logged.")
        )
    return error_page(request, status, _("The request could not be read."))


@web.middleware
async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not request.path.startswith("/console"):
        return await handler(request)
    ctx = context_of(request)
    request[LOCALE] = choose_locale(request, ctx.settings.default_locale)
    if request.path in PUBLIC:
        return await handler(request)
    user = await current_user(ctx, request)
    if user is None:
        raise web.HTTPSeeOther("/console/login")
    request[USER] = user
    if request.method == "GET" and "." not in request.path.rsplit("/", 1)[-1]:
        async with ctx.sessions() as session:
            request[NAV] = await nav_counts(session, user.actor, ctx.now())
    if request.method == "POST":
        _ = gettext_of(request)
        try:
            form = await request.post()
        except web.HTTPRequestEntityTooLarge:
            size = f"{ctx.settings.max_upload_bytes / 2**20:.3g}"
            message = _("The upload is larger than %(size)s MB.") % {"size": size}
            return error_page(request, 413, message)
        if not csrf_ok(user.csrf_token, form.get("csrf_token")):
            return error_page(request, 403, _("The form has expired; reload the page."))
        for name, value in form.items():
            if isinstance(value, str):
                check_text(value, name)
    response = await handler(request)
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def requires(*roles: Role) -> Callable[[Handler], Handler]:
    """Lets only these roles in; the others get a 403 page."""

    def decorate(handler: Handler) -> Handler:
        async def guarded(request: web.Request) -> web.StreamResponse:
            if user_of(request).actor.role not in roles:
                _ = gettext_of(request)
                return error_page(request, 403, _("Your role may not open this page."))
            return await handler(request)

        return guarded

    return decorate


def render(
    request: web.Request, template: str, context: dict[str, Any], status: int = 200
) -> web.Response:
    """A console page; every template gets the translator, the user and the CSRF token."""
    user = request.get(USER)
    locale = locale_of(request)
    shared = {
        "_": translator(locale),
        "locale": locale,
        "user": user,
        "csrf_token": user.csrf_token if user else "",
        "nav": request.get(NAV, NavCounts()),
        "request_path": request.path,
    }
    return aiohttp_jinja2.render_template(
        f"console/{template}", request, {**shared, **context}, status=status
    )
