"""Login, logout, the language switch and the home page that sends each role on."""

import secrets

from aiohttp import web

from models.enums import Role
from web.console import auth
from web.console.base import gettext_of, render, user_of
from web.context import context_of
from web.i18n import LANG_COOKIE, LOCALES

routes = web.RouteTableDef()
LOGIN_FORM_LIMIT = 16 * 1024  # the log-in form is read before anyone is known
HOME = {
    Role.OFFICE_MEMBER: "/console/cases",
    Role.GRID_WORKER: "/console/cases",
    Role.DISPATCHER: "/console/queue",
    Role.SUPERVISOR: "/console/dashboard",
    Role.ADMIN: "/console/admin",
}


def _login_form(request: web.Request, error: str = "", status: int = 200) -> web.Response:
    token = secrets.token_urlsafe(24)
    response = render(request, "login.html", {"login_csrf": token, "error": error}, status)
    response.set_cookie(
        auth.LOGIN_CSRF_COOKIE, token, **auth.cookie_options(context_of(request), "/console/login")
    )
    return response


@routes.get("/console/login")
async def login_form(request: web.Request) -> web.Response:
    return _login_form(request)


@routes.post("/console/login")
async def login(request: web.Request) -> web.Response:
    ctx = context_of(request)
    _ = gettext_of(request)
    if (request.content_length or 0) > LOGIN_FORM_LIMIT:
        raise web.HTTPRequestEntityTooLarge(LOGIN_FORM_LIMIT, request.content_length or 0)
    form = await request.post()
    if not auth.csrf_ok(request.cookies.get(auth.LOGIN_CSRF_COOKIE), form.get("csrf_token")):
        return _login_form(request, _("The form has expired; please try again."), 403)
    username = str(form.get("username") or "").strip()
    password = str(form.get("password") or "")
    result = await ctx.accounts.login(username, password, auth.client_address(ctx, request))
    if result.throttled:
        return _login_form(request, _("Too many failed logins; try again in 15 minutes."), 429)
    if result.token is None:
        return _login_form(request, _("Wrong username or password."), 401)
    response = web.HTTPSeeOther("/console/")
    response.set_cookie(
        auth.SESSION_COOKIE,
        result.token,
        max_age=int(ctx.accounts.session_ttl.total_seconds()),
        **auth.cookie_options(ctx),
    )
    response.del_cookie(auth.LOGIN_CSRF_COOKIE, path="/console/login")
    raise response


@routes.post("/console/logout")
async def logout(request: web.Request) -> web.Response:
    ctx = context_of(request)
    token = request.cookies.get(auth.SESSION_COOKIE)
    if token:
        await ctx.accounts.logout(token, auth.client_address(ctx, request))
    response = web.HTTPSeeOther("/console/login")
    response.del_cookie(auth.SESSION_COOKIE, path="/console")
    raise response


@routes.get("/console/lang")
async def switch_language(request: web.Request) -> web.Response:
    locale = request.query.get("to", "")
    back = request.headers.get("Referer", "/console/")
    response = web.HTTPSeeOther(
        back if back.startswith(("/", request.url.origin().human_repr())) else "/console/"
    )
    if locale in LOCALES:
        response.set_cookie(
            LANG_COOKIE, locale, max_age=365 * 86400, **auth.cookie_options(context_of(request))
        )
    raise response


@routes.get("/console/")
async def home(request: web.Request) -> web.Response:
    role = user_of(request).actor.role
    raise web.HTTPSeeOther(HOME.get(role, "/console/cases") if role else "/console/cases")
