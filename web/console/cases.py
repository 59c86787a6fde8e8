"""The office inbox, the case page with its timeline and actions, and the dispatcher queue."""

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web
from sqlalchemy import select

from dispatch import console_queries as q
from dispatch import lifecycle
from dispatch.errors import DomainError, PermissionDenied, explain
from dispatch.intake import PhotoRef
from dispatch.lifecycle import RULES, Action
from models import Case
from models.enums import Role
from web.console import forms
from web.console.base import error_page, gettext_of, locale_of, render, requires, user_of
from web.console.paging import Pager
from web.context import WebContext, context_of
from web.media import UploadRejected, console_url, discard, store_upload

routes = web.RouteTableDef()
QUEUE_TITLES = {
    "to_file": "Reports to file",
    "returned": "Returned cases to re-dispatch",
    "extensions": "Extension requests",
}
# Actions that carry more than a note, and what the form asks for.
PARAMS = {
    Action.DISPATCH: "department",
    Action.TRANSFER: "department",
    Action.REQUEST_EXTENSION: "until",
    Action.MERGE: "into",
    Action.RESOLVE: "photo",
    Action.REWORK: "photo",
}


@routes.get("/console/cases")
async def inbox(request: web.Request) -> web.Response:
    ctx, user = context_of(request), user_of(request)
    light = request.query.get("light", "")
    status = request.query.get("status", "")
    search = request.query.get("q", "").strip()
    now = ctx.now()
    pager = Pager(request)
    async with ctx.sessions() as session:
        found = await q.inbox(
            session,
            user.actor,
            now,
            light=light,
            status=status,
            search=search,
            offset=pager.offset,
            limit=pager.limit,
        )
    if search and len(found) == 1 and found[0].number == search:
        raise web.HTTPSeeOther(f"/console/cases/{search}")
    page = pager.page(found)
    return render(
        request,
        "inbox.html",
        {
            "cases": [_row(ctx, c, now, locale_of(request)) for c in page.rows],
            "page": page,
            "light": light,
            "status": status,
            "search": search,
            "lights": q.LIGHTS,
        },
    )


def _row(ctx: WebContext, case: Case, now: datetime, locale: str = "zh_CN") -> dict[str, Any]:
    """What a list or the case page shows of a case; never the reporter's identity."""
    tz = ctx.settings.tz
    catalog = ctx.dispatch.catalog
    category = catalog.categories_by_id[case.category_id]
    return {
        "id": case.id,
        "number": case.number,
        "version": case.version,
        "status": case.status.value,
        "category": category.name_en if locale == "en" else category.name_zh,
        "description": case.description,
        "address": case.address,
        "lon": case.lon,
        "lat": case.lat,
        "community": catalog.area_name(case.community_id),
        "town": catalog.area_name(case.town_id),
        "department": catalog.department_name(case.department_id, locale),
        "light": ctx.dispatch.light(case, now) or "",
        "escalation_level": case.escalation_level,
        "rework_count": case.rework_count,
        "extension_until": _local(case.extension_requested_until, tz),
        "deadline": _local(case.deadline_at, tz),
        "created": _local(case.created_at, tz),
    }


def _local(value: datetime | None, tz: ZoneInfo) -> str:
    return f"{value.astimezone(tz):%Y-%m-%d %H:%M}" if value else ""


def available_actions(user: Any, case: Case) -> list[Action]:
    """The steps this person may take on the case now (the same rules the use cases check)."""
    found = []
    for action in RULES:
        try:
            lifecycle.check(action, user.actor, case, note="-")
        except DomainError:
            continue
        pending = case.extension_requested_until is not None
        if action in (Action.APPROVE_EXTENSION, Action.DENY_EXTENSION) and not pending:
            continue
        if action is Action.REQUEST_EXTENSION and pending:
            continue
        found.append(action)
    return found


async def _visible_case(request: web.Request) -> Case | web.Response:
    ctx, user = context_of(request), user_of(request)
    _ = gettext_of(request)
    number = request.match_info["number"]
    async with ctx.sessions() as session:
        case = await q.case_by_number(session, number)
        if case is None:
            return error_page(request, 404, _("No such case."))
        visible = await session.scalar(
            select(Case.id).where(Case.id == case.id, q.visible_to(user.actor))
        )
    if visible is None:
        return error_page(request, 403, _("This case is not yours to see."))
    return case


async def _case_page(
    request: web.Request, case: Case, error: str = "", status: int = 200
) -> web.Response:
    ctx, user = context_of(request), user_of(request)
    now = ctx.now()
    tz = ctx.settings.tz
    async with ctx.sessions() as session:
        events = await q.timeline(session, case.id)
    catalog = ctx.dispatch.catalog
    return render(
        request,
        "case.html",
        {
            "case": _row(ctx, case, now, locale_of(request)),
            "events": [
                {
                    "at": f"{e.at.astimezone(tz):%Y-%m-%d %H:%M}",
                    "action": e.action,
                    "actor": e.actor_label,
                    "from_status": e.from_status.value if e.from_status else "",
                    "to_status": e.to_status.value if e.to_status else "",
                    "department": catalog.department_name(e.department_id, locale_of(request)),
                    "note": e.note,
                }
                for e in events
            ],
            # Stored photos are shown; a client's link is only a link (no tracking pixel).
            "photos": [console_url(a.ref) for a in case.attachments if a.storage == "local"],
            "links": [a.ref for a in case.attachments if a.storage == "url"],
            "actions": [(a.value, PARAMS.get(a, "")) for a in available_actions(user, case)],
            "departments": sorted(catalog.departments.values(), key=lambda d: d.code),
            "error": error,
        },
        status,
    )


@routes.get("/console/cases/{number}")
async def case_page(request: web.Request) -> web.Response:
    case = await _visible_case(request)
    if isinstance(case, web.Response):
        return case
    return await _case_page(request, case)


async def _params(request: web.Request, action: Action, form: Any) -> dict[str, Any]:
    kind = PARAMS.get(action)
    if kind == "department" and form.get("department_id"):
        return {"department_id": forms.required_int(form, "department_id")}
    if kind == "until" and form.get("until"):
        tz = context_of(request).settings.tz
        return {"until": datetime.fromisoformat(form["until"]).replace(tzinfo=tz)}
    if kind == "into":
        return {"into_case_id": await _merge_target(request, str(form.get("into") or ""))}
    return {}


async def _merge_target(request: web.Request, number: str) -> int | None:
    """The id of the earlier case, named by its number, if this user may see it."""
    number = number.strip().lstrip("#")
    if not number:
        return None
    async with context_of(request).sessions() as session:
        found = await session.scalar(
            select(Case.id).where(Case.number == number, q.visible_to(user_of(request).actor))
        )
    if found is None:
        raise forms.FormError(
            forms.N_("No case numbered %(number)s is open to you."), number=number
        )
    return found


@routes.post("/console/cases/{number}/act")
async def act(request: web.Request) -> web.Response:
    case = await _visible_case(request)
    if isinstance(case, web.Response):
        return case
    ctx, user = context_of(request), user_of(request)
    _ = gettext_of(request)
    form = await request.post()
    photos: list[PhotoRef] = []
    try:
        action = Action(str(form.get("action")))
        params = await _params(request, action, form)
        version = forms.required_int(form, "version")
        photo = form.get("photo")
        if isinstance(photo, web.FileField) and photo.filename:
            photos.append(await store_upload(ctx.settings, photo, "console"))
        note = str(form.get("note") or "")
        try:
            await ctx.dispatch.act(action, case.id, user.person.id, note, version, photos, **params)
        except BaseException:
            discard(ctx.settings, photos)  # the step was not recorded: nothing refers to them
            raise
    except PermissionDenied as exc:
        return error_page(request, 403, explain(exc, locale_of(request)))
    except DomainError as exc:
        return await _case_page(request, case, explain(exc, locale_of(request)), 400)
    except forms.FormError as exc:
        return await _case_page(request, case, *forms.problem(request, exc))
    except (ValueError, UploadRejected) as exc:
        return await _case_page(request, case, _("Invalid input.") + f" ({exc})", 400)
    raise web.HTTPSeeOther(f"/console/cases/{case.number}")


@routes.get("/console/queue")
@requires(Role.DISPATCHER, Role.ADMIN)
async def queue(request: web.Request) -> web.Response:
    """Each section pages on its own (`?to_file=2`), keeping the others where they are."""
    ctx, user = context_of(request), user_of(request)
    now, loc = ctx.now(), locale_of(request)
    sections = []
    async with ctx.sessions() as session:
        for key, title in QUEUE_TITLES.items():
            pager = Pager(request, param=key)
            total, found = await q.queue_section(
                session, user.actor, key, pager.offset, pager.limit
            )
            page = pager.page(found, total)
            sections.append((key, title, page, [_row(ctx, c, now, loc) for c in page.rows]))
    return render(request, "queue.html", {"sections": sections})
