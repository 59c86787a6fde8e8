"""The filters and order of a case list, read from the URL and written back into links. A value
that cannot be read is ignored (the list shows more, never an error page)."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from aiohttp import web

from dispatch.catalog import Catalog
from dispatch.queries.cases import LIGHTS, SORTABLE, CaseFilter
from models.enums import AreaLevel, CaseStatus
from web.console import choices

MAX_TEXT = 100
STATUS_CHOICES = ("open", "closed", "all", *(s.value for s in CaseStatus))


@dataclass(frozen=True)
class Option:
    value: str
    label: str


def _int(request: web.Request, name: str) -> int | None:
    value = request.query.get(name, "")
    return int(value) if value.isdigit() and len(value) < 10 else None


def _day(request: web.Request, name: str) -> date | None:
    try:
        day = date.fromisoformat(request.query.get(name, ""))
    except ValueError:
        return None
    return day if date(2000, 1, 1) <= day <= date(2200, 1, 1) else None


def _categories(catalog: Catalog, code: str) -> tuple[int, ...]:
    """A sub-category, or every sub-category of a main category (大类)."""
    return tuple(
        c.id for c in catalog.categories.values() if c.code == code or c.parent_code == code
    )


def read(request: web.Request, catalog: Catalog, tz: ZoneInfo) -> CaseFilter:
    query = request.query
    start, end = _day(request, "start"), _day(request, "end")
    category = query.get("category", "")
    department = _int(request, "office")
    area = _int(request, "area")
    sort = query.get("sort", "deadline")
    return CaseFilter(
        light=query.get("light", "") if query.get("light") in LIGHTS else "",
        status=query.get("status", "") if query.get("status") in STATUS_CHOICES else "",
        category_ids=_categories(catalog, category) if category else (),
        department_id=department if department in catalog.departments else None,
        area_id=area if area in catalog.areas else None,
        start=datetime.combine(start, time(), tz) if start else None,
        end=datetime.combine(end + timedelta(days=1), time(), tz) if end else None,
        text=query.get("q", "").replace("\x00", "").strip()[:MAX_TEXT],
        sort=sort if sort in SORTABLE else "deadline",
        descending=query.get("dir") == "desc",
    )


def options(catalog: Catalog, locale: str) -> dict[str, list[Option]]:
    """The choices of the filter form, in the reader's language."""
    mains = sorted(
        (c for c in catalog.categories.values() if c.parent_code is None), key=lambda c: c.code
    )
    return {
        "lights": [Option(light, light) for light in LIGHTS],
        "statuses": [Option(s, s) for s in STATUS_CHOICES],
        "categories": [
            Option(c.code, f"{c.code} {c.name_en if locale == 'en' else c.name_zh}") for c in mains
        ],
        "offices": [Option(str(d.id), d.label) for d in choices.departments(catalog, locale)],
        "areas": [
            Option(str(a.id), a.label)
            for a in choices.areas(catalog)
            if catalog.areas[a.id].level is not AreaLevel.COUNTY
        ],
    }


def sort_links(request: web.Request, chosen: CaseFilter) -> dict[str, tuple[str, str]]:
    """For each sortable column: the link that sorts by it (the other way round when it is
    the current order), and the current direction ("asc", "desc" or "")."""
    links = {}
    for column in SORTABLE:
        current = chosen.sort == column
        direction = "desc" if current and not chosen.descending else "asc"
        url = request.rel_url.update_query({"sort": column, "dir": direction, "page": "1"})
        links[column] = (str(url), ("desc" if chosen.descending else "asc") if current else "")
    return links
