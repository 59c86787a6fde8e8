"""The office inbox, the case page with its timeline and actions, and the dispatcher queue."""

import csv
import io
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web
from sqlalchemy import select

from dispatch import queries
from dispatch.core import lifecycle
from dispatch.core.commands import (
    DispatchTo,
    MergeInto,
    RequestExtension,
    StepCommand,
    TransferTo,
    Verify,
    Void,
)
from dispatch.core.errors import DomainError, PermissionDenied, explain
from dispatch.core.lifecycle import RULES, Action
from dispatch.intake import PhotoRef
from dispatch.supervision.followup import FollowUps
from models import Case, Person
from models.enums import ConditionKind, Role
from web.console import filters, forms, timeline
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
PHOTO_ORDER = ("report", "result", "rework")
EXPORT_LIMIT = 10_000
EXPORT_COLUMNS = (
    ("number", "Number"),
    ("light", "Light"),
    ("status", "Status"),
    ("category", "Category"),
    ("department", "Office"),
    ("town", "Town"),
    ("community", "Community"),
    ("address", "Address"),
    ("created", "Reported"),
    ("deadline", "Deadline"),
    ("description", "Description"),
)
# Actions that carry more than a note, and what the form asks for.
PARAMS = {
    Action.DISPATCH: "department",
    Action.TRANSFER: "department",
    Action.REQUEST_EXTENSION: "until",
    Action.MERGE: "into",
    Action.RESOLVE: "photo",
    Action.REWORK: "photo",
    Action.VERIFY: "closing",  # tick the closing conditions
    Action.VOID: "filing",  # pick the filing condition not met
}


@routes.get("/console/cases")
async def inbox(request: web.Request) -> web.Response:
    """Every list of cases: filters and order live in the URL, so a list can be bookmarked,
    shared and exported as it is shown."""
    ctx, user = context_of(request), user_of(request)
    now = ctx.now()
    chosen = filters.read(request, ctx.casework.catalog, ctx.settings.tz)
    if chosen.text and (found := await _exact_number(request, chosen.text)):
        raise web.HTTPSeeOther(f"/console/cases/{found}")
    pager = Pager(request)
    async with ctx.sessions() as session:
        total, rows = await queries.cases.case_list(
            session, user.actor, now, chosen, pager.offset, pager.size
        )
        reporter = await session.get(Person, chosen.reporter_id) if chosen.reporter_id else None
    page = pager.page(rows, total)
    loc = locale_of(request)
    drill = filters.drill_down(
        request, chosen, reporter.name if reporter else str(chosen.reporter_id), gettext_of(request)
    )
    return render(
        request,
        "inbox.html",
        {
            "cases": [_row(ctx, c, now, loc) for c in page.rows],
            "page": page,
            "chosen": chosen,
            "query": dict(request.query),
            "form": filters.options(ctx.casework.catalog, loc),
            "sort_links": filters.sort_links(request, chosen),
            "drill": drill,
            "drill_params": filters.DRILL_PARAMS,
            "export": str(request.rel_url.with_path("/console/cases.csv")),
        },
    )


async def _exact_number(request: web.Request, text: str) -> str | None:
    """A search for a case number the user may see goes straight to that case."""
    async with context_of(request).sessions() as session:
        return await session.scalar(
            select(Case.number).where(
                Case.number == text, queries.cases.visible_to(user_of(request).actor)
            )
        )


@routes.get("/console/cases.csv")
async def export_cases(request: web.Request) -> web.Response:
    """The filtered list as a spreadsheet (UTF-8 with BOM, for Excel), up to EXPORT_LIMIT."""
    ctx, user = context_of(request), user_of(request)
    _ = gettext_of(request)
    now, loc = ctx.now(), locale_of(request)
    chosen = filters.read(request, ctx.casework.catalog, ctx.settings.tz)
    async with ctx.sessions() as session:
        _total, rows = await queries.cases.case_list(
            session, user.actor, now, chosen, 0, EXPORT_LIMIT
        )
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_(label) for _key, label in EXPORT_COLUMNS])
    for case in rows:
        row = _row(ctx, case, now, loc)
        row["status"], row["light"] = _(row["status"]), _(row["light"]) if row["light"] else ""
        writer.writerow([row[key] for key, _label in EXPORT_COLUMNS])
    return web.Response(
        text="\ufeff" + out.getvalue(),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="cases-{now:%Y%m%d%H%M}.csv"'},
    )


def _row(ctx: WebContext, case: Case, now: datetime, locale: str = "zh_CN") -> dict[str, Any]:
    """What a list or the case page shows of a case; never the reporter's identity."""
    tz = ctx.settings.tz
    catalog = ctx.casework.catalog
    category = catalog.categories_by_id[case.category_id]
    light = ctx.casework.light(case, now) or ""
    return {
        "id": case.id,
        "number": case.number,
        "version": case.version,
        "status": case.status.value,
        "category": category.name_en if locale == "en" else category.name_zh,
        "category_code": category.code,
        "description": case.description,
        "address": case.address,
        "lon": case.lon,
        "lat": case.lat,
        "community": catalog.area_name(case.community_id),
        "town": catalog.area_name(case.town_id),
        "department": catalog.department_name(case.department_id, locale),
        "light": light,
        "escalation_level": case.escalation_level,
        "rework_count": case.rework_count,
        "extension_until": _local(case.extension_requested_until, tz),
        "deadline": _local(case.deadline_at, tz),
        "hours_left": _hours_left(catalog, case, now) if light else None,
        "created": _local(case.created_at, tz),
    }


def _hours_left(catalog: Any, case: Case, now: datetime) -> float | None:
    """Working hours to the deadline (negative: overdue by), on the office calendar."""
    if case.deadline_at is None:
        return None
    calendar = catalog.calendar
    if now <= case.deadline_at:
        return calendar.working_seconds_between(now, case.deadline_at) / 3600
    return -calendar.working_seconds_between(case.deadline_at, now) / 3600


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
        case = await queries.cases.case_by_number(session, number)
        if case is None:
            return error_page(request, 404, _("No such case."))
        visible = await session.scalar(
            select(Case.id).where(Case.id == case.id, queries.cases.visible_to(user.actor))
        )
    if visible is None:
        return error_page(request, 403, _("This case is not yours to see."))
    return case


async def _case_page(
    request: web.Request,
    case: Case,
    error: str = "",
    status: int = 200,
    typed: dict[str, str] | None = None,
) -> web.Response:
    """The case page; after a failed step it shows the error and keeps what was typed."""
    ctx, user = context_of(request), user_of(request)
    now = ctx.now()
    tz = ctx.settings.tz
    async with ctx.sessions() as session:
        events = await queries.cases.timeline(session, case.id)
    catalog, loc = ctx.casework.catalog, locale_of(request)
    # Stored photos are shown; a client's link is only a link (no tracking pixel).
    photos: dict[str, list[str]] = {}
    for a in case.attachments:
        if a.storage == "local":
            photos.setdefault(a.purpose, []).append(console_url(a.ref))
    done = request.query.get("done", "")
    category = catalog.categories_by_id[case.category_id]
    return render(
        request,
        "case.html",
        {
            "case": _row(ctx, case, now, loc),
            "events": timeline.entries(events, catalog, tz, loc, gettext_of(request)),
            "photos": [(p, photos[p]) for p in PHOTO_ORDER if p in photos],
            "links": [a.ref for a in case.attachments if a.storage == "url"],
            "actions": [(a.value, PARAMS.get(a, "")) for a in available_actions(user, case)],
            "departments": sorted(catalog.departments.values(), key=lambda d: d.code),
            "filing_conditions": catalog.conditions_for(category, ConditionKind.FILING),
            "closing_conditions": catalog.conditions_for(category, ConditionKind.CLOSING),
            "error": error,
            "typed": typed or {},
            "flash": timeline.done_message(done, case.number or "", gettext_of(request)),
        },
        status,
    )


@routes.get("/console/cases/{number}")
async def case_page(request: web.Request) -> web.Response:
    case = await _visible_case(request)
    if isinstance(case, web.Response):
        return case
    return await _case_page(request, case)


async def _command(request: web.Request, action: Action, form: Any) -> StepCommand:
    """The typed command for a step that carries more than a note; the bare action when the
    form leaves it out (the use case then names what is missing)."""
    kind = PARAMS.get(action)
    if kind == "department" and form.get("department_id"):
        department_id = forms.required_int(form, "department_id")
        return TransferTo(department_id) if action is Action.TRANSFER else DispatchTo(department_id)
    if kind == "until" and form.get("until"):
        tz = ZoneInfo(context_of(request).settings.tz)
        return RequestExtension(datetime.fromisoformat(form["until"]).replace(tzinfo=tz))
    if kind == "into":
        into = await _merge_target(request, str(form.get("into") or ""))
        return action if into is None else MergeInto(into)
    if kind == "closing":
        return Verify(tuple(int(x) for x in form.getall("condition", [])))
    if kind == "filing" and form.get("condition_id"):
        return Void(int(form["condition_id"]))
    return action


async def _merge_target(request: web.Request, number: str) -> int | None:
    """The id of the earlier case, named by its number, if this user may see it."""
    number = number.strip().lstrip("#")
    if not number:
        return None
    async with context_of(request).sessions() as session:
        found = await session.scalar(
            select(Case.id).where(
                Case.number == number, queries.cases.visible_to(user_of(request).actor)
            )
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
        command = await _command(request, action, form)
        version = forms.required_int(form, "version")
        photo = form.get("photo")
        if isinstance(photo, web.FileField) and photo.filename:
            photos.append(await store_upload(ctx.settings, photo, "console"))
        note = str(form.get("note") or "")
        if isinstance(command, Void) and not note.strip() and command.condition is not None:
            note = _condition_text(ctx, command.condition)  # the condition is the reason
        try:
            await ctx.casework.steps.act(command, case.id, user.person.id, note, version, photos)
        except BaseException:
            discard(ctx.settings, photos)  # the step was not recorded: nothing refers to them
            raise
    except PermissionDenied as exc:
        return error_page(request, 403, explain(exc, locale_of(request)))
    except DomainError as exc:
        message = explain(exc, locale_of(request))
        return await _case_page(request, case, message, 400, _typed(form))
    except forms.FormError as exc:
        return await _case_page(request, case, *forms.problem(request, exc), _typed(form))
    except (ValueError, UploadRejected) as exc:
        message = _("Invalid input.") + f" ({exc})"
        return await _case_page(request, case, message, 400, _typed(form))
    raise web.HTTPSeeOther(f"/console/cases/{case.number}?done={action.value}")


def _typed(form: Any) -> dict[str, str]:
    """What the person typed into the step's form, to show it again after an error."""
    fields = ("action", "note", "until", "into", "department_id")
    return {name: str(form.get(name) or "") for name in fields}


def _condition_text(ctx: WebContext, condition_id: int) -> str:
    found = [
        c.text_zh
        for conditions in ctx.casework.catalog.conditions.values()
        for c in conditions
        if c.id == condition_id
    ]
    return found[0] if found else ""


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
            total, found = await queries.cases.queue_section(
                session, user.actor, key, pager.offset, pager.limit
            )
            page = pager.page(found, total)
            sections.append((key, title, page, [_row(ctx, c, now, loc) for c in page.rows]))
        follow_ups = await FollowUps.due(session, queries.cases.visible_to(user.actor))
    overdue = sum(1 for f in follow_ups if f.due_at < now)
    return render(
        request,
        "queue.html",
        {"sections": sections, "follow_ups": len(follow_ups), "follow_ups_overdue": overdue},
    )
