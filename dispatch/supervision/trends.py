"""Each unit's monthly 考核 score over the last year, per level: the score of every month with
the formula in force that month, from the same one-pass figures as the ranking. Nothing is
cached: a month's figures change as long as its cases move."""

from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from dispatch.catalog import Catalog
from dispatch.supervision.scoring import (
    Level,
    formula_versions,
    in_force,
    month_metrics,
    month_range,
    people_names,
    score,
    terms_of,
    unit_name,
)

MONTHS = 12


@dataclass
class Line:
    key: int
    name: str
    scores: list[float | None]  # one a month, None: not ranked that month


@dataclass
class Trend:
    level: Level
    months: list[date]
    lines: list[Line] = field(default_factory=list)


def months_up_to(month: date, count: int) -> list[date]:
    """The `count` months ending with `month`, oldest first."""
    index = month.year * 12 + month.month - 1
    return [date(i // 12, i % 12 + 1, 1) for i in range(index - count + 1, index + 1)]


async def trends(
    session: AsyncSession,
    catalog: Catalog,
    month: date,
    tz: ZoneInfo,
    now: datetime,
    count: int = MONTHS,
) -> dict[Level, Trend]:
    """Every level's units with their scores over the `count` months up to `month`; a level
    with no formula in force in any of them is left out. Lines are ordered by the latest
    score, best first."""
    versions = await formula_versions(session)
    months = months_up_to(month, count)
    scores: dict[Level, dict[int, list[float | None]]] = {}
    for i, current in enumerate(months):
        formulas = {level: in_force(versions, level, current) for level in Level}
        if not any(formulas.values()):
            continue
        figures = await month_metrics(session, *month_range(current, tz), now)
        for level, formula in formulas.items():
            if formula is None:
                continue
            units = scores.setdefault(level, {})
            terms = terms_of(formula)
            for key, metrics in figures[level].items():
                units.setdefault(key, [None] * len(months))[i] = score(terms, metrics)
    people = await people_names(session)
    found = {}
    for level, units in scores.items():
        lines = [Line(k, unit_name(catalog, level, k, people), s) for k, s in units.items()]
        lines.sort(key=lambda line: (_latest(line) is None, -(_latest(line) or 0.0), line.name))
        found[level] = Trend(level, months, lines)
    return found


def _latest(line: Line) -> float | None:
    return next((s for s in reversed(line.scores) if s is not None), None)
