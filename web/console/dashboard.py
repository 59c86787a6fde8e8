"""The supervisor dashboard: overdue list, map of open cases, assessment table with daily
charts, and its CSV export (UTF-8 with BOM so that Excel reads the Chinese text)."""

import csv
import io
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from aiohttp import web

from dispatch import console_queries as q
from dispatch.assessment import Dimension, Figures, figures
from models.enums import Role
from web.console.base import gettext_of, locale_of, render, requires, user_of
from web.console.cases import _row
from web.console.paging import Pager
from web.context import WebContext, context_of

routes = web.RouteTableDef()
VIEWERS = (Role.SUPERVISOR, Role.DISPATCHER, Role.ADMIN)
DIMENSIONS = (Dimension.DEPARTMENT, Dimension.COMMUNITY, Dimension.TOWN)
COLUMNS = (
    ("received", "Received"),
    ("filed", "Filed"),
    ("closed", "Closed"),
    ("due", "Due"),
    ("overdue", "Overdue"),
    ("on_time_rate", "On-time closure rate"),
    ("closure_rate", "Closure rate"),
    ("rework_rate", "Rework rate"),
    ("accurate_filing_rate", "Accurate filing rate"),
    ("avg_handling_hours", "Average handling (working hours)"),
)


def _day(request: web.Request, name: str, default: date) -> date:
    """A day of the query, or the default for one that is not a day of 1970-2999."""
    try:
        day = date.fromisoformat(request.query.get(name, ""))
    except ValueError:
        return default
    return day if 1970 <= day.year <= 2999 else default


def _period(request: web.Request, tz: ZoneInfo, today: date) -> tuple[date, date, Dimension]:
    start = _day(request, "start", today.replace(day=1))
    end = _day(request, "end", today)
    dimension = request.query.get("dimension", Dimension.DEPARTMENT.value)
    chosen = Dimension(dimension) if dimension in DIMENSIONS else Dimension.DEPARTMENT
    return start, max(end, start), chosen


def _bounds(start: date, end: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    return (
        datetime.combine(start, time(), tz),
        datetime.combine(end + timedelta(days=1), time(), tz),
    )


def _name(ctx: WebContext, dimension: Dimension, key: int | None, locale: str) -> str:
    catalog = ctx.dispatch.catalog
    if key is None:
        return "—"
    if dimension is Dimension.DEPARTMENT:
        return catalog.department_name(key, locale)
    return catalog.area_name(key)


def _value(f: Figures, column: str) -> str:
    value = getattr(f, column)
    if value is None:
        return ""
    if column.endswith("_rate"):
        return f"{value * 100:.1f}%"
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


async def _table(request: web.Request) -> tuple[date, date, Dimension, list[list[str]]]:
    ctx, user = context_of(request), user_of(request)
    tz = ctx.settings.tz
    now = ctx.now()
    start, end, dimension = _period(request, tz, now.astimezone(tz).date())
    lo, hi = _bounds(start, end, tz)
    area = user.actor.area_id
    keys = None
    if area is not None and dimension is not Dimension.DEPARTMENT:
        keys = [a.id for a in ctx.dispatch.catalog.areas.values() if area in (a.id, a.parent_id)]
    async with ctx.sessions() as session:
        rows = await figures(session, dimension, lo, hi, now, keys=keys)
    table = [
        [_name(ctx, dimension, f.key, locale_of(request)), *(_value(f, c) for c, _ in COLUMNS)]
        for f in rows
    ]
    return start, end, dimension, table


@routes.get("/console/dashboard")
@requires(*VIEWERS)
async def dashboard(request: web.Request) -> web.Response:
    ctx, user = context_of(request), user_of(request)
    tz = ctx.settings.tz
    now = ctx.now()
    start, end, dimension, table = await _table(request)
    lo, hi = _bounds(start, end, tz)
    pager = Pager(request, param="overdue")
    async with ctx.sessions() as session:
        total, found = await q.overdue(session, user.actor, now, pager.offset, pager.limit)
        days = await q.daily_counts(session, user.actor, lo, hi, ctx.settings.tz.key)
    overdue = pager.page(found, total)
    peak = max([1, *(max(d.received, d.closed) for d in days)])
    return render(
        request,
        "dashboard.html",
        {
            "overdue": overdue,
            "overdue_rows": [_row(ctx, c, now, locale_of(request)) for c in overdue.rows],
            "start": start.isoformat(),
            "end": end.isoformat(),
            "dimension": dimension.value,
            "dimensions": [d.value for d in DIMENSIONS],
            "columns": [label for _, label in COLUMNS],
            "table": table,
            "days": days,
            "peak": peak,
        },
    )


@routes.get("/console/dashboard.csv")
@requires(*VIEWERS)
async def export_csv(request: web.Request) -> web.Response:
    _ = gettext_of(request)
    start, end, dimension, table = await _table(request)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_(dimension.value.capitalize()), *(_(label) for _key, label in COLUMNS)])
    writer.writerows(table)
    return web.Response(
        text="\ufeff" + out.getvalue(),
        content_type="text/csv",
        charset="utf-8",
        headers={
            "Content-Disposition": (
                f'attachment; filename="assessment-{dimension.value}-{start}-{end}.csv"'
            ),
        },
    )


@routes.get("/console/grids.geojson")
@requires(*Role)  # every console user: the case page's map shows them too
async def grid_outlines(request: web.Request) -> web.Response:
    """The grid layer in force, the map's base (there are no tiles offline)."""
    directory = context_of(request).dispatch.directory
    return web.Response(
        body=directory.outlines,
        content_type="application/geo+json",
        headers={"Cache-Control": "private, max-age=300", "ETag": f'"layer-{directory.layer_id}"'},
    )


@routes.get("/console/map.json")
@requires(*VIEWERS)
async def open_cases(request: web.Request) -> web.Response:
    ctx, user = context_of(request), user_of(request)
    now = ctx.now()
    async with ctx.sessions() as session:
        rows = await q.open_cases_on_map(session, user.actor)
    return web.json_response(
        [
            {
                "number": c.number,
                "lon": c.lon,
                "lat": c.lat,
                "status": c.status.value,
                "light": ctx.dispatch.light(c, now) or "none",
            }
            for c in rows
        ]
    )
