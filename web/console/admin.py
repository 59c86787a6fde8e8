"""Admin pages: API keys for Open311 clients, people, their invites and their WeCom links."""

import contextlib

from aiohttp import web

from dispatch import queries
from dispatch.core.errors import DomainError, NotFound
from models.enums import Role
from web.console import forms
from web.console.auth import client_address
from web.console.base import gettext_of, render, requires, user_of
from web.console.paging import Pager
from web.context import context_of

routes = web.RouteTableDef()


async def _page(request: web.Request, status: int = 200, **extra: str) -> web.Response:
    ctx = context_of(request)
    pager = Pager(request, path="/console/admin")
    async with ctx.sessions() as session:
        keys = await queries.people.api_keys(session)
        people = await queries.people.people(session, pager.offset, pager.limit)
        wecom = await queries.people.wecom_links(session, [p.id for p in people])
    return render(
        request,
        "admin.html",
        {"keys": keys, "people": pager.page(people), "wecom": wecom, **extra},
        status,
    )


@routes.get("/console/admin")
@requires(Role.ADMIN)
async def admin_home(request: web.Request) -> web.Response:
    return await _page(request)


@routes.post("/console/admin/apikeys")
@requires(Role.ADMIN)
async def new_api_key(request: web.Request) -> web.Response:
    ctx = context_of(request)
    form = await request.post()
    name = str(form.get("name") or "").strip()
    if not name:
        return await _page(request, error=gettext_of(request)("An API key needs a name."))
    key = await ctx.accounts.create_api_key(
        user_of(request).actor, name, client_address(ctx, request)
    )
    return await _page(request, new_key=key)


@routes.post("/console/admin/apikeys/{id:\\d{1,9}}/revoke")
@requires(Role.ADMIN)
async def revoke_api_key(request: web.Request) -> web.Response:
    ctx = context_of(request)
    with contextlib.suppress(NotFound):  # gone, or never there: the list shows what is
        await ctx.accounts.revoke_api_key(
            user_of(request).actor, int(request.match_info["id"]), client_address(ctx, request)
        )
    raise web.HTTPSeeOther("/console/admin")


@routes.post("/console/admin/invites")
@requires(Role.ADMIN)
async def new_invite(request: web.Request) -> web.Response:
    ctx = context_of(request)
    form = await request.post()
    try:
        person_id = forms.required_int(form, "person_id")
    except forms.FormError as exc:
        return await _page(request, error=forms.problem(request, exc)[0])
    try:
        code = await ctx.accounts.create_person_invite(
            user_of(request).actor, person_id, client_address(ctx, request)
        )
    except NotFound:
        raise web.HTTPSeeOther("/console/admin") from None
    return await _page(request, new_invite=code)


PERSON_WECOM = "/console/admin/people/{id:\\d{1,9}}/wecom"


@routes.post(PERSON_WECOM)
@requires(Role.ADMIN)
async def link_wecom(request: web.Request) -> web.Response:
    """Sets or changes the person's WeCom userid."""
    ctx, _ = context_of(request), gettext_of(request)
    form = await request.post()
    userid = forms.text(form, "userid")
    try:
        await ctx.chat_admin.link_wecom(
            user_of(request).actor,
            int(request.match_info["id"]),
            userid,
            client_address(ctx, request),
        )
    except DomainError as exc:
        message, status = forms.problem(request, exc)
        return await _page(request, status, error=message)
    notice = _("Linked to the WeCom userid %(userid)s.") % {"userid": userid}
    return await _page(request, notice=notice)


@routes.post(PERSON_WECOM + "/delete")
@requires(Role.ADMIN)
async def unlink_wecom(request: web.Request) -> web.Response:
    ctx, _ = context_of(request), gettext_of(request)
    try:
        userid = await ctx.chat_admin.unlink_wecom(
            user_of(request).actor, int(request.match_info["id"]), client_address(ctx, request)
        )
    except DomainError as exc:
        message, status = forms.problem(request, exc)
        return await _page(request, status, error=message)
    notice = _("The link to the WeCom userid %(userid)s is removed.") % {"userid": userid}
    return await _page(request, notice=notice)
