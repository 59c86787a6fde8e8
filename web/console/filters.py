"""The filters and order of a case list, read from the URL and written back into links. A value
that cannot be read is ignored (the list shows more, never an error page)."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from aiohttp import web

from dispatch.catalog import Catalog
from dispatch.queries.cases import (
    CONDITIONS,
    LIGHTS,
    PERIOD_BASES,
    SORTABLE,
    CaseFilter,
    Period,
)
from dispatch.supervision.scoring import month_range
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


def _period(request: web.Request, tz: ZoneInfo) -> Period | None:
    """`due=YYYY-MM`, `closed=YYYY-MM` or `filed=YYYY-MM`: the cases of an assessment figure
    by the local month of that date (the first of them given)."""
    for basis in PERIOD_BASES:
        text = request.query.get(basis, "")
        try:
            month = datetime.strptime(text, "%Y-%m").date()
        except ValueError:
            continue
        if date(2000, 1, 1) <= month <= date(2200, 1, 1):
            return Period(basis, *month_range(month, tz))
    return None


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
        reporter_id=_int(request, "reporter"),
        start=datetime.combine(start, time(), tz) if start else None,
        end=datetime.combine(end + timedelta(days=1), time(), tz) if end else None,
        period=_period(request, tz),
        condition=query.get("condition", "") if query.get("condition") in CONDITIONS else "",
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


DRILL_PARAMS = ("reporter", *PERIOD_BASES, "condition")
PERIOD_LABELS = {
    "due": "Due in %(month)s",
    "closed": "Closed in %(month)s",
    "filed": "Filed in %(month)s",
}
CONDITION_LABELS = {"overdue": "Overdue", "reworked": "Reworked"}


def drill_down(
    request: web.Request, chosen: CaseFilter, reporter: str, _: Callable[[str], str]
) -> list[Option]:
    """The assessment filters of a drill-down from the ranking, which the form does not show:
    each as a label and the link that drops it."""

    def without(*names: str) -> str:
        return str(request.rel_url.without_query_params(*names, "page"))

    found = []
    if chosen.reporter_id is not None:
        found.append(Option(without("reporter"), f"{_('Reporter')}: {reporter}"))
    if chosen.period is not None:
        month = f"{chosen.period.start:%Y-%m}"
        label = _(PERIOD_LABELS[chosen.period.basis]) % {"month": month}
        found.append(Option(without(*PERIOD_BASES), label))
    if chosen.condition:
        found.append(Option(without("condition"), _(CONDITION_LABELS[chosen.condition])))
    return found
