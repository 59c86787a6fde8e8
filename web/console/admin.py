"""Admin pages: API keys for Open311 clients, people and their invites."""

from aiohttp import web

from dispatch import queries
from dispatch.registration import create_api_key, create_invite
from models import ApiKey, Person
from models.enums import Role
from web.console import forms
from web.console.base import app_of, gettext_of, render, requires
from web.console.paging import Pager

routes = web.RouteTableDef()


async def _page(request: web.Request, **extra: str) -> web.Response:
    app = app_of(request)
    pager = Pager(request, path="/console/admin")
    async with app.sessions() as session:
        keys = await queries.people.api_keys(session)
        people = await queries.people.people(session, pager.offset, pager.limit)
    return render(request, "admin.html", {"keys": keys, "people": pager.page(people), **extra})


@routes.get("/console/admin")
@requires(Role.ADMIN)
async def admin_home(request: web.Request) -> web.Response:
    return await _page(request)


@routes.post("/console/admin/apikeys")
@requires(Role.ADMIN)
async def new_api_key(request: web.Request) -> web.Response:
    app = app_of(request)
    form = await request.post()
    name = str(form.get("name") or "").strip()
    if not name:
        return await _page(request, error=gettext_of(request)("An API key needs a name."))
    async with app.sessions() as session, session.begin():
        key = await create_api_key(session, name, app.casework.clock())
    return await _page(request, new_key=key)


@routes.post("/console/admin/apikeys/{id:\\d+}/revoke")
@requires(Role.ADMIN)
async def revoke_api_key(request: web.Request) -> web.Response:
    app = app_of(request)
    async with app.sessions() as session, session.begin():
        key = await session.get(ApiKey, int(request.match_info["id"]))
        if key is not None and key.revoked_at is None:
            key.revoked_at = app.casework.clock()
    raise web.HTTPSeeOther("/console/admin")


@routes.post("/console/admin/invites")
@requires(Role.ADMIN)
async def new_invite(request: web.Request) -> web.Response:
    app = app_of(request)
    form = await request.post()
    try:
        person_id = forms.required_int(form, "person_id")
    except forms.FormError as exc:
        return await _page(request, error=forms.problem(request, exc)[0])
    async with app.sessions() as session, session.begin():
        person = await session.get(Person, person_id)
        if person is None:
            raise web.HTTPSeeOther("/console/admin")
        invite = await create_invite(session, app.casework.clock(), person=person)
        code = invite.code
    return await _page(request, new_invite=code)
