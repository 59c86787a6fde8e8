"""The supervisor dashboard: overdue list, map of open cases, assessment table with daily
charts, and its CSV export (UTF-8 with BOM so that Excel reads the Chinese text)."""

import csv
import io
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from aiohttp import web

from dispatch import queries
from dispatch.assessment import Dimension, Figures, figures
from models.enums import Role
from web.console import overview
from web.console.base import gettext_of, locale_of, render, requires, user_of
from web.context import WebContext, context_of

routes = web.RouteTableDef()
DEFAULT_DAYS = 30
WALL_REFRESH_S = 60
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2200, 12, 31)
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


def _day(request: web.Request, name: str) -> date | None:
    try:
        day = date.fromisoformat(request.query.get(name, ""))
    except ValueError:
        return None
    return day if FIRST_DAY <= day <= LAST_DAY else None


def _period(request: web.Request, tz: ZoneInfo, today: date) -> tuple[date, date, Dimension]:
    """The chosen period; by default the last 30 days up to today."""
    end = _day(request, "end") or today
    start = _day(request, "start") or end - timedelta(days=DEFAULT_DAYS - 1)
    dimension = request.query.get("dimension", Dimension.DEPARTMENT.value)
    chosen = Dimension(dimension) if dimension in DIMENSIONS else Dimension.DEPARTMENT
    return start, max(end, start), chosen


def _bounds(start: date, end: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    return (
        datetime.combine(start, time(), tz),
        datetime.combine(end + timedelta(days=1), time(), tz),
    )


def _name(ctx: WebContext, dimension: Dimension, key: int | None, locale: str) -> str:
    catalog = ctx.casework.catalog
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
        keys = [a.id for a in ctx.casework.catalog.areas.values() if area in (a.id, a.parent_id)]
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
    start, end, dimension, table = await _table(request)
    context = await overview.build(request, start, end)
    return render(
        request,
        "dashboard.html",
        {
            **context,
            "dimension": dimension.value,
            "dimensions": [d.value for d in DIMENSIONS],
            "columns": [label for _, label in COLUMNS],
            "table": table,
            "nav_section": "dashboard",
        },
    )


@routes.get("/console/wall")
@requires(*VIEWERS)
async def wall(request: web.Request) -> web.Response:
    """The dashboard for the command centre's screen: large, dark, refreshing itself."""
    ctx = context_of(request)
    tz = ctx.settings.tz
    start, end, _dimension = _period(request, tz, ctx.now().astimezone(tz).date())
    context = await overview.build(request, start, end)
    return render(request, "wall.html", {**context, "refresh_s": WALL_REFRESH_S})


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
    directory = context_of(request).casework.directory
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
        rows = await queries.cases.open_cases_on_map(session, user.actor)
    return web.json_response(
        [
            {
                "number": c.number,
                "lon": c.lon,
                "lat": c.lat,
                "status": c.status.value,
                "light": ctx.casework.light(c, now) or "none",
            }
            for c in rows
        ]
    )
