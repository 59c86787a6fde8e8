"""Admin pages for what routing and deadlines follow: categories and their time limits, the
routing rules, and the working calendar."""

from datetime import date
from typing import Any

from aiohttp import web

from dispatch import queries
from dispatch.administration import Administration, CategoryChange
from dispatch.core.errors import DomainError
from models import GRID_LEVEL, Category
from models.enums import CalendarDayKind, ClockStart, Role, TimeLimitUnit
from web.console import choices, forms
from web.console.base import error_page, gettext_of, locale_of, render, requires
from web.console.paging import Pager
from web.context import WebContext, context_of

routes = web.RouteTableDef()
RULES_PAGE = 100


def _category_row(category: Category, ctx: WebContext, locale: str) -> dict[str, Any]:
    return {
        "code": category.code,
        "main": category.parent_code is None,
        "name": category.name_en if locale == "en" else category.name_zh,
        "value": "" if category.time_limit_value is None else f"{category.time_limit_value:g}",
        "unit": category.time_limit_unit.value if category.time_limit_unit else "",
        "clock_start": category.clock_start.value,
        "priority": category.priority,
        "department_id": category.default_department_id,
        "department": ctx.casework.catalog.department_name(category.default_department_id, locale),
        "active": category.active,
    }


# -- categories -------------------------------------------------------------------------


@routes.get("/console/admin/categories")
@requires(Role.ADMIN)
async def categories(request: web.Request) -> web.Response:
    ctx, locale = context_of(request), locale_of(request)
    ordered = sorted(ctx.casework.catalog.categories.values(), key=lambda c: c.code)
    rows = [_category_row(c, ctx, locale) for c in ordered]
    return render(request, "admin_categories.html", {"categories": rows})


async def _category_page(
    request: web.Request, code: str, error: str = "", status: int = 200
) -> web.Response:
    ctx, locale = context_of(request), locale_of(request)
    category = ctx.casework.catalog.categories.get(code)
    if category is None:
        return error_page(request, 404, gettext_of(request)("No such category."))
    return render(
        request,
        "admin_category.html",
        {
            "category": _category_row(category, ctx, locale),
            "units": [u.value for u in TimeLimitUnit],
            "clock_starts": [c.value for c in ClockStart],
            "departments": choices.departments(ctx.casework.catalog, locale),
            "error": error,
        },
        status,
    )


@routes.get("/console/admin/categories/{code}")
@requires(Role.ADMIN)
async def category(request: web.Request) -> web.Response:
    return await _category_page(request, request.match_info["code"])


@routes.post("/console/admin/categories/{code}")
@requires(Role.ADMIN)
async def save_category(request: web.Request) -> web.Response:
    code = request.match_info["code"]
    form = await request.post()
    try:
        change = CategoryChange(
            time_limit_value=forms.optional_float(form, "time_limit_value"),
            time_limit_unit=forms.optional_choice(form, "time_limit_unit", TimeLimitUnit),
            clock_start=forms.choice(form, "clock_start", ClockStart),
            priority=forms.required_int(form, "priority"),
            default_department_id=forms.optional_int(form, "default_department_id"),
            active=forms.text(form, "active") == "on",
        )
        await Administration(context_of(request).casework).update_category(code, change)
    except (DomainError, forms.FormError) as exc:
        return await _category_page(request, code, *forms.problem(request, exc))
    raise web.HTTPSeeOther("/console/admin/categories")


# -- routing rules ----------------------------------------------------------------------


async def _routing_page(request: web.Request, error: str = "", status: int = 200) -> web.Response:
    ctx, locale = context_of(request), locale_of(request)
    catalog = ctx.casework.catalog
    pager = Pager(request, size=RULES_PAGE, path="/console/admin/routing")
    async with ctx.sessions() as session:
        rules = pager.page(
            await queries.configuration.routing_rules(session, pager.offset, pager.limit)
        )
    areas = {a.code: a.name for a in catalog.areas.values()}
    grids = ctx.casework.directory.info

    def place(code: str, level: str) -> str:
        if level == GRID_LEVEL:
            return grids[code].grid_name if code in grids else ""
        return areas.get(code, "")

    def category_name(code: str) -> str:
        found = catalog.categories.get(code)
        if found is None:
            return ""
        return found.name_en if locale == "en" else found.name_zh

    return render(
        request,
        "admin_routing.html",
        {
            "rules": rules,
            "rows": [
                {
                    "id": r.id,
                    "category_code": r.category_code,
                    "category": category_name(r.category_code),
                    "area_code": r.area_code,
                    "level": r.area_level,
                    "area": place(r.area_code, r.area_level),
                    "department": catalog.department_name(r.department_id, locale),
                }
                for r in rules.rows
            ],
            "categories": [
                (c.code, category_name(c.code))
                for c in sorted(catalog.categories.values(), key=lambda c: c.code)
            ],
            "areas": choices.areas(catalog),
            "departments": choices.departments(catalog, locale),
            "error": error,
        },
        status,
    )


@routes.get("/console/admin/routing")
@requires(Role.ADMIN)
async def routing(request: web.Request) -> web.Response:
    return await _routing_page(request)


@routes.post("/console/admin/routing")
@requires(Role.ADMIN)
async def add_rule(request: web.Request) -> web.Response:
    form = await request.post()
    try:
        await Administration(context_of(request).casework).add_routing_rule(
            forms.text(form, "category_code"),
            forms.text(form, "area_code"),
            forms.required_int(form, "department_id"),
        )
    except (DomainError, forms.FormError) as exc:
        return await _routing_page(request, *forms.problem(request, exc))
    raise web.HTTPSeeOther("/console/admin/routing")


@routes.post("/console/admin/routing/{id:\\d{1,9}}/delete")
@requires(Role.ADMIN)
async def delete_rule(request: web.Request) -> web.Response:
    try:
        await Administration(context_of(request).casework).delete_routing_rule(
            int(request.match_info["id"])
        )
    except DomainError as exc:
        return await _routing_page(request, *forms.problem(request, exc))
    raise web.HTTPSeeOther("/console/admin/routing")


# -- the calendar -----------------------------------------------------------------------


def _year(request: web.Request) -> int:
    """The year asked for, or this year."""
    ctx = context_of(request)
    today = ctx.now().astimezone(ctx.settings.tz).date()
    try:
        year = int(request.query.get("year", today.year))
    except ValueError:
        return today.year
    return year if 2000 <= year <= 2100 else today.year


async def _calendar_page(
    request: web.Request, year: int, error: str = "", status: int = 200
) -> web.Response:
    ctx = context_of(request)
    async with ctx.sessions() as session:
        days = await queries.configuration.calendar_year(session, year)
        following = await queries.configuration.calendar_year(session, year + 1)
    return render(
        request,
        "admin_calendar.html",
        {
            "year": year,
            "days": days,
            "next_year_empty": not following,
            "kinds": [k.value for k in CalendarDayKind],
            "error": error,
        },
        status,
    )


@routes.get("/console/admin/calendar")
@requires(Role.ADMIN)
async def calendar(request: web.Request) -> web.Response:
    return await _calendar_page(request, _year(request))


def _calendar_url(year: int) -> str:
    return f"/console/admin/calendar?year={year}"


@routes.post("/console/admin/calendar")
@requires(Role.ADMIN)
async def set_day(request: web.Request) -> web.Response:
    form = await request.post()
    admin = Administration(context_of(request).casework)
    try:
        day = forms.day(form, "day")
        kind = forms.choice(form, "kind", CalendarDayKind)
        await admin.set_calendar_day(day, kind, forms.text(form, "name"))
    except (DomainError, forms.FormError) as exc:
        return await _calendar_page(request, _year(request), *forms.problem(request, exc))
    raise web.HTTPSeeOther(_calendar_url(day.year))


@routes.post("/console/admin/calendar/{day}/delete")
@requires(Role.ADMIN)
async def remove_day(request: web.Request) -> web.Response:
    try:
        day = date.fromisoformat(request.match_info["day"])
    except ValueError:
        return error_page(request, 404, gettext_of(request)("No such day."))
    try:
        await Administration(context_of(request).casework).remove_calendar_day(day)
    except DomainError as exc:
        return await _calendar_page(request, day.year, *forms.problem(request, exc))
    raise web.HTTPSeeOther(_calendar_url(day.year))
