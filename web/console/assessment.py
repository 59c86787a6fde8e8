"""The monthly assessment (考核) page: every level's ranking with the change from the previous
month, printable as the report (通报) and downloadable as .xlsx; and the admin's formulas."""

from datetime import date, timedelta
from urllib.parse import urlencode

from aiohttp import web
from sqlalchemy import select

from dispatch.core.errors import DomainError
from dispatch.supervision.monthly_report import (
    LEVEL_TITLES,
    METRIC_TITLES,
    MonthlyReport,
    monthly_report,
    workbook,
)
from dispatch.supervision.scoring import AREA_LEVELS, METRICS, Level, Term, parse_month
from dispatch.supervision.trends import MONTHS, months_up_to, trends
from models import ScoringFormula
from models.enums import Role
from web.console import forms
from web.console.base import error_page, locale_of, render, requires, user_of
from web.context import context_of

routes = web.RouteTableDef()


def _month(request: web.Request) -> date:
    text = request.query.get("month") or request.match_info.get("month", "")
    if not text:  # the month so far; the report a county circulates is last month's
        ctx = context_of(request)
        return ctx.now().astimezone(ctx.settings.tz).date().replace(day=1)
    return parse_month(text)


async def _report(request: web.Request) -> tuple[date, MonthlyReport]:
    ctx = context_of(request)
    month = _month(request)
    async with ctx.sessions() as session:
        report = await monthly_report(
            session, ctx.casework.catalog, month, ctx.settings.tz, ctx.now()
        )
    return month, report


UNIT_PARAM = {
    Level.OFFICE: "office",
    Level.COMMUNITY: "area",
    Level.TOWN: "area",
    Level.GRID_WORKER: "reporter",
}
# The case list behind each figure of a unit and month (see dispatch.supervision.tallies):
# the cases it is computed over, narrowed to its condition where the list has one. Review
# scores, rectification and satisfaction come from other records and have no case list here.
DRILL = {
    "on_time": {"due": "{month}", "status": "all"},
    "closure": {"due": "{month}", "status": "closed"},
    "no_rework": {"due": "{month}", "status": "all", "condition": "reworked"},
    "overdue": {"due": "{month}", "status": "all", "condition": "overdue"},
    "accurate_filing": {"filed": "{month}", "status": "voided"},
    "valid_reports": {"start": "{first}", "end": "{last}", "status": "all"},
    "verification_on_time": {"closed": "{month}", "status": "closed"},
}


def drill_links(level: Level, key: int, month: date) -> dict[str, str]:
    """Each figure's link to the cases behind it, for one unit."""
    following = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    values = {
        "month": f"{month:%Y-%m}",
        "first": month.isoformat(),
        "last": (following - timedelta(days=1)).isoformat(),
    }
    return {
        figure: "/console/cases?"
        + urlencode({UNIT_PARAM[level]: key, **{k: v.format(**values) for k, v in params.items()}})
        for figure, params in DRILL.items()
        if figure in METRICS[level] or (figure == "overdue" and level in AREA_LEVELS)
    }


@routes.get("/console/assessment")
@requires(Role.SUPERVISOR, Role.DISPATCHER, Role.ADMIN)
async def assessment(request: web.Request) -> web.Response:
    try:
        month, report = await _report(request)
    except DomainError as exc:
        message, status = forms.problem(request, exc)
        return error_page(request, status, message)
    return render(
        request,
        "assessment.html",
        {
            "month": f"{month:%Y-%m}",
            "report": report,
            "levels": LEVEL_TITLES,
            "metric_titles": METRIC_TITLES,
            "metrics": METRICS,
            "drill": drill_links,
            "area_levels": AREA_LEVELS,
        },
    )


@routes.get("/console/assessment/trend.json")
@requires(Role.SUPERVISOR, Role.DISPATCHER, Role.ADMIN)
async def assessment_trend(request: web.Request) -> web.Response:
    """Every level's scores over the twelve months up to `month`, for the page's charts."""
    ctx = context_of(request)
    try:
        month = _month(request)
    except DomainError as exc:
        message, status = forms.problem(request, exc)
        return web.json_response({"error": message}, status=status)
    async with ctx.sessions() as session:
        found = await trends(session, ctx.casework.catalog, month, ctx.settings.tz, ctx.now())
    return web.json_response(
        {
            "months": [f"{m:%Y-%m}" for m in months_up_to(month, MONTHS)],
            "link": "/console/assessment?month=",
            "levels": [
                {
                    "level": level.value,
                    "title": LEVEL_TITLES[level],
                    "lines": [
                        {"key": line.key, "name": line.name, "scores": line.scores}
                        for line in trend.lines
                    ],
                }
                for level, trend in found.items()
            ],
        }
    )


@routes.get("/console/assessment/{month}.xlsx")
@requires(Role.SUPERVISOR, Role.DISPATCHER, Role.ADMIN)
async def assessment_xlsx(request: web.Request) -> web.Response:
    try:
        month, report = await _report(request)
    except DomainError as exc:
        message, status = forms.problem(request, exc)
        return error_page(request, status, message)
    return web.Response(
        body=workbook(report),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="kaohe-{month:%Y-%m}.xlsx"'},
    )


# -- formulas (admin) ------------------------------------------------------------------


async def _formulas_page(request: web.Request, error: str = "", status: int = 200) -> web.Response:
    ctx = context_of(request)
    async with ctx.sessions() as session:
        formulas = (
            await session.scalars(
                select(ScoringFormula).order_by(
                    ScoringFormula.level, ScoringFormula.valid_from.desc()
                )
            )
        ).all()
    return render(
        request,
        "admin_formulas.html",
        {
            "formulas": formulas,
            "levels": LEVEL_TITLES,
            "metrics": METRICS,
            "metric_titles": METRIC_TITLES,
            "error": error,
            "locale": locale_of(request),
        },
        status,
    )


@routes.get("/console/admin/formulas")
@requires(Role.ADMIN)
async def formulas(request: web.Request) -> web.Response:
    return await _formulas_page(request)


def _terms(text: str) -> list[Term]:
    """One figure a line: `metric weight [target]`, e.g. `on_time 40 0.95`."""
    terms = []
    for line in text.splitlines():
        parts = line.split()
        if not parts:
            continue
        try:
            numbers = [float(x) for x in parts[1:3]]
        except ValueError:
            raise forms.FormError(forms.N_("“%(value)s” is not a number."), value=line) from None
        if not numbers:
            raise forms.FormError(forms.N_("A required field is empty."))
        terms.append(Term(parts[0], *numbers))
    return terms


@routes.post("/console/admin/formulas")
@requires(Role.ADMIN)
async def formula_save(request: web.Request) -> web.Response:
    ctx, user = context_of(request), user_of(request)
    form = await request.post()
    try:
        level = forms.choice(form, "level", Level)
        month = parse_month(forms.text(form, "valid_from"))
        await ctx.supervision.formulas.save(
            user.person.id, level, month, _terms(forms.text(form, "terms"))
        )
    except (DomainError, forms.FormError) as exc:
        return await _formulas_page(request, *forms.problem(request, exc))
    raise web.HTTPSeeOther("/console/admin/formulas")
