"""The figures at a glance that the dashboard and the wall display share: KPI tiles with the
previous period beside them, the charts' data, and the overdue list. Every figure carries the
link to the cases behind it."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from aiohttp import web

from dispatch import queries
from dispatch.assessment import Dimension, Figures, figures
from dispatch.catalog import Catalog
from dispatch.core.actors import Actor
from models.enums import AreaLevel
from web.console.base import NAV, gettext_of, locale_of, user_of
from web.console.cases import _row
from web.console.paging import Pager
from web.context import context_of

OVERDUE_PAGE = 10  # the dashboard lists the worst; the full list is a filter of the inbox


@dataclass(frozen=True)
class Tile:
    key: str
    label: str
    value: str
    previous: str  # the same figure for the period before, "" where it has none
    trend: str  # "up", "down" or ""
    good: bool | None  # whether the trend is good news; None when it is neither
    link: str


@dataclass(frozen=True)
class Totals:
    received: int
    closed: int
    on_time_rate: float | None
    rework_rate: float | None


def cases_link(**filters: object) -> str:
    return "/console/cases?" + urlencode({k: v for k, v in filters.items() if v not in ("", None)})


def _bounds(start: date, end: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    return datetime.combine(start, time(), tz), datetime.combine(end + timedelta(1), time(), tz)


def _scope(actor: Actor, catalog: Catalog) -> tuple[Dimension, list[int] | None]:
    """The area dimension that holds the viewer's whole scope, and its key."""
    if actor.area_id is None:
        return Dimension.TOWN, None
    level = catalog.areas[actor.area_id].level
    return (Dimension.COMMUNITY if level is AreaLevel.COMMUNITY else Dimension.TOWN), [
        actor.area_id
    ]


def _totals(rows: list[Figures]) -> Totals:
    def total(name: str) -> int:
        return sum(getattr(f, name) for f in rows)

    base = total("due") - total("suspended")
    return Totals(
        received=total("received"),
        closed=total("closed"),
        on_time_rate=total("closed_on_time") / base if base > 0 else None,
        rework_rate=total("reworked") / total("due") if total("due") > 0 else None,
    )


def _percent(value: float | None) -> str:
    return "" if value is None else f"{value * 100:.1f}%"


def _trend(
    now: float | None, before: float | None, higher_is_good: bool
) -> tuple[str, bool | None]:
    if now is None or before is None or now == before:
        return "", None
    up = now > before
    return ("up" if up else "down"), up == higher_is_good


def _tiles(
    nav: queries.cases.NavCounts, now: Totals, before: Totals, start: date, end: date, _: Any
) -> list[Tile]:
    period = {"start": start.isoformat(), "end": end.isoformat()}
    tiles = [
        Tile("open", _("Open cases"), str(nav.open), "", "", None, cases_link()),
        Tile("overdue", _("Overdue now"), str(nav.overdue), "", "", None, cases_link(light="red")),
    ]
    for key, label, value, previous, higher_is_good, status in (
        ("received", _("Received"), now.received, before.received, None, "all"),
        ("closed", _("Closed"), now.closed, before.closed, True, "closed"),
    ):
        trend, good = _trend(value, previous, bool(higher_is_good))
        tiles.append(
            Tile(
                key,
                label,
                str(value),
                str(previous),
                trend,
                good if higher_is_good is not None else None,
                cases_link(status=status, **period),
            )
        )
    for key, label, value, previous, higher_is_good in (
        ("on_time", _("On-time closure rate"), now.on_time_rate, before.on_time_rate, True),
        ("rework", _("Rework rate"), now.rework_rate, before.rework_rate, False),
    ):
        trend, good = _trend(value, previous, higher_is_good)
        tiles.append(
            Tile(
                key,
                label,
                _percent(value) or "—",
                _percent(previous),
                trend,
                good,
                cases_link(status="closed", **period),
            )
        )
    return tiles


def _day_series(
    days: list[queries.statistics.DayCounts], start: date, end: date
) -> dict[str, list[Any]]:
    by_day = {d.day: d for d in days}
    labels, received, closed = [], [], []
    day = start
    while day <= end:
        found = by_day.get(day.isoformat())
        labels.append(day.isoformat())
        received.append(found.received if found else 0)
        closed.append(found.closed if found else 0)
        day += timedelta(days=1)
    return {"days": labels, "received": received, "closed": closed}


async def build(request: web.Request, start: date, end: date) -> dict[str, Any]:
    """Everything the dashboard and the wall show for [start, end] (whole local days)."""
    ctx, user = context_of(request), user_of(request)
    catalog, locale = ctx.casework.catalog, locale_of(request)
    _ = gettext_of(request)
    tz = ctx.settings.tz
    now = ctx.now()
    lo, hi = _bounds(start, end, tz)
    length = (end - start).days + 1
    before_lo, before_hi = _bounds(start - timedelta(days=length), start - timedelta(days=1), tz)
    dimension, keys = _scope(user.actor, catalog)
    pager = Pager(request, param="overdue", size=OVERDUE_PAGE)
    async with ctx.sessions() as session:
        nav = request.get(NAV) or await queries.cases.nav_counts(session, user.actor, now)
        current = await figures(session, dimension, lo, hi, now, keys=keys)
        previous = await figures(session, dimension, before_lo, before_hi, now, keys=keys)
        offices = await figures(session, Dimension.DEPARTMENT, lo, hi, now)
        days = await queries.statistics.daily_counts(
            session, user.actor, lo, hi, ctx.settings.tz.key
        )
        by_category = await queries.statistics.received_by_category(session, user.actor, lo, hi)
        total, found = await queries.cases.overdue(
            session, user.actor, now, pager.offset, pager.limit
        )
    ranked = sorted(
        (f for f in offices if f.key is not None and f.on_time_rate is not None),
        key=lambda f: f.on_time_rate or 0.0,
    )
    mains: dict[str, int] = {}
    for category_id, count in by_category.items():
        category = catalog.categories_by_id[category_id]
        main = category.parent_code or category.code
        mains[main] = mains.get(main, 0) + count
    period = {"start": start.isoformat(), "end": end.isoformat(), "status": "all"}
    overdue = pager.page(found, total)
    charts = {
        **_day_series(days, start, end),
        "labels": {"received": _("Received"), "closed": _("Closed")},
        "offices": [
            {
                "name": catalog.department_name(f.key, locale),
                "rate": round((f.on_time_rate or 0.0) * 100, 1),
                "link": cases_link(office=f.key, **period),
            }
            for f in ranked
        ],
        "categories": [
            {
                "name": (
                    catalog.categories[code].name_en
                    if locale == "en"
                    else catalog.categories[code].name_zh
                ),
                "value": count,
                "link": cases_link(category=code, **period),
            }
            for code, count in sorted(mains.items(), key=lambda item: -item[1])
        ],
        "day_link": cases_link(status="all"),
    }
    return {
        "tiles": _tiles(nav, _totals(current), _totals(previous), start, end, _),
        "charts": charts,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "overdue": overdue,
        "overdue_rows": [_row(ctx, c, now, locale) for c in overdue.rows],
    }
