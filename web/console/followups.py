"""The dispatcher's follow-up calls (回访): the closed citizens' and hotline cases waiting for
one, the overdue first, and the form that records the call."""

from aiohttp import web

from dispatch import queries
from dispatch.core.errors import DomainError, PermissionDenied, explain
from dispatch.supervision.followup import Answer, FollowUps
from models.enums import Role, Satisfaction
from web.console import forms
from web.console.base import error_page, locale_of, render, requires, user_of
from web.console.cases import _visible_case
from web.context import context_of

routes = web.RouteTableDef()


async def _page(request: web.Request, error: str = "", status: int = 200) -> web.Response:
    ctx, user = context_of(request), user_of(request)
    now = ctx.now()
    tz = ctx.settings.tz
    async with ctx.sessions() as session:
        due = await FollowUps.due(session, queries.cases.visible_to(user.actor))
    catalog = ctx.casework.catalog
    rows = [
        {
            "number": f.case.number,
            "source": f.case.source.value,
            "department": catalog.department_name(f.case.department_id, locale_of(request)),
            "closed": f"{f.closed_at.astimezone(tz):%Y-%m-%d %H:%M}",
            "due": f"{f.due_at.astimezone(tz):%Y-%m-%d %H:%M}",
            "overdue": f.due_at < now,
            # The number to call back: shown to the dispatcher who makes the call, nowhere else.
            "phone": (f.case.reporter_contact or {}).get("phone", ""),
        }
        for f in due
    ]
    return render(
        request,
        "followups.html",
        {"rows": rows, "choices": list(Satisfaction), "error": error},
        status,
    )


@routes.get("/console/followups")
@requires(Role.DISPATCHER)
async def followups(request: web.Request) -> web.Response:
    return await _page(request)


@routes.post("/console/followups/{number}")
@requires(Role.DISPATCHER)
async def record(request: web.Request) -> web.Response:
    case = await _visible_case(request)
    if isinstance(case, web.Response):
        return case
    ctx, user = context_of(request), user_of(request)
    form = await request.post()
    try:
        answer = Answer(
            forms.choice(form, "satisfaction", Satisfaction),
            forms.text(form, "note"),
            reopen=form.get("reopen") == "on",
        )
        await ctx.supervision.followups.record_call(user.person.id, case.id, answer)
    except PermissionDenied as exc:
        return error_page(request, 403, explain(exc, locale_of(request)))
    except (DomainError, forms.FormError) as exc:
        return await _page(request, *forms.problem(request, exc))
    raise web.HTTPSeeOther("/console/followups")
