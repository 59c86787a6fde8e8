"""Supervision pages: the case file (案卷, printable and exportable), case-file review with its
sample draw, rectification notices, and the admin's review checklist."""

import json
from datetime import date
from typing import Any

from aiohttp import web

from dispatch.core.errors import DomainError, PermissionDenied, explain
from dispatch.intake import PhotoRef
from dispatch.supervision import queries as sq
from dispatch.supervision.casefile import case_file
from dispatch.supervision.review import ChecklistEntry, Verdict
from models import RectificationNotice
from models.enums import NoticeStatus, Role
from web.console import forms, timeline
from web.console.base import error_page, gettext_of, locale_of, render, requires, user_of
from web.console.cases import _visible_case
from web.context import context_of
from web.media import UploadRejected, console_url, store_upload

routes = web.RouteTableDef()


# -- the case file ---------------------------------------------------------------------


async def _file(request: web.Request) -> tuple[Any, web.Response | None]:
    case = await _visible_case(request)
    if isinstance(case, web.Response):
        return None, case
    ctx = context_of(request)
    async with ctx.sessions() as session:
        found = await case_file(
            session,
            case,
            ctx.casework.catalog,
            ctx.settings.tz,
            lambda storage, ref: console_url(ref) if storage == "local" else None,
            locale_of(request),
        )
    return found, None


@routes.get("/console/cases/{number}/file")
async def file_page(request: web.Request) -> web.Response:
    found, refused = await _file(request)
    if refused is not None:
        return refused
    _ = gettext_of(request)
    return render(
        request,
        "casefile.html",
        {"file": found, "actor_of": lambda e: timeline.actor_label(e.action, e.actor, _)},
    )


@routes.get("/console/cases/{number}/file.json")
async def file_export(request: web.Request) -> web.Response:
    found, refused = await _file(request)
    if refused is not None:
        return refused
    response = web.json_response(found.as_dict(), dumps=_dumps)
    response.headers["Content-Disposition"] = f'attachment; filename="case-{found.number}.json"'
    return response


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=1)


# -- reviews ---------------------------------------------------------------------------


@routes.get("/console/reviews")
@requires(Role.SUPERVISOR)
async def reviews(request: web.Request) -> web.Response:
    """The reviews done, and a random draw of closed cases to review (`?month=&per_office=`)."""
    ctx, user = context_of(request), user_of(request)
    supervision = ctx.supervision
    month = request.query.get("month", "")
    drawn: list[Any] = []
    error = ""
    if month:
        try:
            first = date.fromisoformat(f"{month}-01")
            per_office = int(request.query.get("per_office") or 3)
            drawn = await supervision.reviews.sample(user.person.id, first, per_office)
        except ValueError:
            error = gettext_of(request)("Invalid input.")
        except DomainError as exc:
            error = explain(exc, locale_of(request))
    async with ctx.sessions() as session:
        done = await sq.recent_reviews(session, user.actor)
    catalog = ctx.casework.catalog
    return render(
        request,
        "reviews.html",
        {
            "month": month,
            "per_office": request.query.get("per_office", "3"),
            "drawn": [
                {"number": c.number, "department": catalog.department_name(c.department_id)}
                for c in drawn
            ],
            "done": done,
            "catalog": catalog,
            "error": error,
        },
        400 if error else 200,
    )


@routes.get("/console/reviews/new/{number}")
@requires(Role.SUPERVISOR)
async def review_form(request: web.Request) -> web.Response:
    return await _review_page(request)


async def _review_page(request: web.Request, error: str = "", status: int = 200) -> web.Response:
    case = await _visible_case(request)
    if isinstance(case, web.Response):
        return case
    ctx = context_of(request)
    async with ctx.sessions() as session:
        items = await ctx.supervision.reviews.checklist(session)
    return render(
        request,
        "review_form.html",
        {"number": case.number, "items": items, "error": error},
        status,
    )


@routes.post("/console/reviews/new/{number}")
@requires(Role.SUPERVISOR)
async def review_save(request: web.Request) -> web.Response:
    case = await _visible_case(request)
    if isinstance(case, web.Response):
        return case
    ctx, user = context_of(request), user_of(request)
    form = await request.post()
    async with ctx.sessions() as session:
        items = await ctx.supervision.reviews.checklist(session)
    verdicts = [
        Verdict(
            i.code,
            forms.text(form, f"item_{i.code}") == "pass",
            forms.text(form, f"note_{i.code}"),
        )
        for i in items
        if forms.text(form, f"item_{i.code}") in ("pass", "fail")
    ]
    try:
        review = await ctx.supervision.reviews.review(
            user.person.id, case.id, verdicts, forms.text(form, "note")
        )
    except PermissionDenied as exc:
        return error_page(request, 403, explain(exc, locale_of(request)))
    except DomainError as exc:
        return await _review_page(request, *forms.problem(request, exc))
    async with ctx.sessions() as session:
        notices = await sq.notices(session, user.actor)
    issued = [n for n in notices if n.review_id == review.id]
    if issued:
        raise web.HTTPSeeOther(f"/console/notices/{issued[0].id}")
    raise web.HTTPSeeOther(f"/console/cases/{case.number}/file")


# -- rectification notices -------------------------------------------------------------


@routes.get("/console/notices")
@requires(Role.SUPERVISOR, Role.OFFICE_MEMBER, Role.ADMIN)
async def notices(request: web.Request) -> web.Response:
    ctx, user = context_of(request), user_of(request)
    async with ctx.sessions() as session:
        found = await sq.notices(session, user.actor, open_only=request.query.get("all") != "1")
    now = ctx.now()
    return render(
        request,
        "notices.html",
        {
            "notices": [_notice_row(request, n, now) for n in found],
            "all": request.query.get("all") == "1",
        },
    )


def _notice_row(request: web.Request, n: RectificationNotice, now: Any) -> dict[str, Any]:
    ctx = context_of(request)
    tz = ctx.settings.tz
    return {
        "id": n.id,
        "number": n.case.number,
        "department": ctx.casework.catalog.department_name(n.department_id, locale_of(request)),
        "status": n.status.value,
        "deadline": f"{n.deadline_at.astimezone(tz):%Y-%m-%d %H:%M}",
        "overdue": n.status is NoticeStatus.OPEN and n.deadline_at < now,
        "level": n.escalation_level,
        "requirements": n.requirements,
        "answer": n.answer,
        "on_time": n.on_time,
    }


async def _notice_page(
    request: web.Request, notice_id: int, error: str = "", status: int = 200
) -> web.Response:
    ctx, user = context_of(request), user_of(request)
    _ = gettext_of(request)
    async with ctx.sessions() as session:
        notice = await sq.notice_for(session, user.actor, notice_id)
    if notice is None:
        return error_page(request, 404, _("No such rectification notice."))
    role = user.actor.role
    may_answer = (
        role is Role.OFFICE_MEMBER
        and user.actor.department_id == notice.department_id
        and notice.status is NoticeStatus.OPEN
    )
    may_decide = role is Role.SUPERVISOR and notice.status is NoticeStatus.ANSWERED
    return render(
        request,
        "notice.html",
        {
            "notice": _notice_row(request, notice, ctx.now()),
            "may_answer": may_answer,
            "may_decide": may_decide,
            "error": error,
        },
        status,
    )


def _notice_id(request: web.Request) -> int:
    return int(request.match_info["notice_id"])


# An id of at most 9 digits: a longer one is no notice, and PostgreSQL refuses it as an int.
@routes.get("/console/notices/{notice_id:\\d{1,9}}")
@requires(Role.SUPERVISOR, Role.OFFICE_MEMBER, Role.ADMIN)
async def notice_page(request: web.Request) -> web.Response:
    return await _notice_page(request, _notice_id(request))


@routes.post("/console/notices/{notice_id:\\d{1,9}}/{step}")
@requires(Role.SUPERVISOR, Role.OFFICE_MEMBER)
async def notice_step(request: web.Request) -> web.Response:
    ctx, user = context_of(request), user_of(request)
    notice_id, step = _notice_id(request), request.match_info["step"]
    rectifications = ctx.supervision.rectifications
    form = await request.post()
    note = forms.text(form, "note")
    try:
        if step == "answer":
            photos: list[PhotoRef] = []
            photo = form.get("photo")
            if isinstance(photo, web.FileField) and photo.filename:
                photos.append(await store_upload(ctx.settings, photo, "rectification"))
            await rectifications.answer(user.person.id, notice_id, note, photos)
        elif step == "accept":
            await rectifications.accept(user.person.id, notice_id, note)
        elif step == "send_back":
            await rectifications.send_back(user.person.id, notice_id, note)
        else:
            raise web.HTTPNotFound()
    except PermissionDenied as exc:
        return error_page(request, 403, explain(exc, locale_of(request)))
    except DomainError as exc:
        return await _notice_page(request, notice_id, *forms.problem(request, exc))
    except UploadRejected as exc:
        _ = gettext_of(request)
        return await _notice_page(request, notice_id, _("Invalid input.") + f" ({exc})", 400)
    raise web.HTTPSeeOther(f"/console/notices/{notice_id}")


# -- the checklist (admin) -------------------------------------------------------------


@routes.get("/console/admin/checklist")
@requires(Role.ADMIN)
async def checklist(request: web.Request) -> web.Response:
    return await _checklist_page(request)


async def _checklist_page(request: web.Request, error: str = "", status: int = 200) -> web.Response:
    ctx = context_of(request)
    async with ctx.sessions() as session:
        items = await ctx.supervision.reviews.checklist(session, active_only=False)
    return render(request, "admin_checklist.html", {"items": items, "error": error}, status)


@routes.post("/console/admin/checklist")
@requires(Role.ADMIN)
async def checklist_save(request: web.Request) -> web.Response:
    ctx, user = context_of(request), user_of(request)
    form = await request.post()
    try:
        entry = ChecklistEntry(
            code=forms.text(form, "code"),
            name_zh=forms.text(form, "name_zh"),
            name_en=forms.text(form, "name_en"),
            weight=forms.required_int(form, "weight"),
            position=forms.optional_int(form, "position") or 0,
            active=form.get("active") == "on",
        )
        await ctx.supervision.reviews.save_item(user.person.id, entry)
    except (DomainError, forms.FormError) as exc:
        return await _checklist_page(request, *forms.problem(request, exc))
    raise web.HTTPSeeOther("/console/admin/checklist")
