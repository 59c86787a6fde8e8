"""Monthly assessment (考核): the figures of each unit, scored with the versioned formula of its
level, and ranked with the change from the previous month.

A formula's terms name a figure, its weight (the weights add up to 100) and its target: a
figure at or above its target earns the whole weight, below it the same share of the weight.
Figures without data in a month (no case due, no follow-up answered) are left out and the
score is scaled over the weights that remain, so a unit is neither rewarded nor punished for
what did not happen."""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from dispatch.assessment import Dimension
from dispatch.catalog import Catalog
from dispatch.core.errors import N_, InvalidInput, NotFound
from dispatch.supervision.tallies import Tally, tallies
from models import CaseReview, Person, RectificationNotice, ScoringFormula
from models.enums import NoticeStatus, Role


class Level(StrEnum):
    OFFICE = "office"
    COMMUNITY = "community"
    TOWN = "town"
    GRID_WORKER = "grid_worker"


DIMENSION = {
    Level.OFFICE: Dimension.DEPARTMENT,
    Level.COMMUNITY: Dimension.COMMUNITY,
    Level.TOWN: Dimension.TOWN,
    Level.GRID_WORKER: Dimension.REPORTER,
}
# The figures each level may be scored on (rates from 0 to 1).
METRICS: dict[Level, tuple[str, ...]] = {
    Level.OFFICE: (
        "on_time",
        "closure",
        "no_rework",
        "review_score",
        "rectification_on_time",
        "satisfaction",
    ),
    Level.COMMUNITY: ("on_time", "closure", "no_rework", "accurate_filing", "satisfaction"),
    Level.TOWN: ("on_time", "closure", "no_rework", "accurate_filing", "satisfaction"),
    Level.GRID_WORKER: ("valid_reports", "verification_on_time"),
}
AREA_LEVELS = (Level.OFFICE, Level.COMMUNITY, Level.TOWN)  # the levels that own cases
BOTTOM = 3  # units named at the bottom of the monthly report


@dataclass(frozen=True)
class Term:
    metric: str
    weight: float
    target: float = 1.0


@dataclass
class Ranked:
    key: int
    name: str
    score: float
    rank: int
    metrics: dict[str, float | None]
    previous_score: float | None = None
    previous_rank: int | None = None
    overdue: int = 0

    @property
    def rank_change(self) -> int | None:
        """Places gained since the previous month (positive: moved up)."""
        return None if self.previous_rank is None else self.previous_rank - self.rank


@dataclass
class Ranking:
    level: Level
    month: date
    formula_from: date
    terms: list[Term]
    rows: list[Ranked] = field(default_factory=list)


def parse_month(text: str) -> date:
    try:
        return datetime.strptime(text.strip(), "%Y-%m").date()
    except ValueError:
        raise InvalidInput(N_("“%(value)s” is not a month (YYYY-MM)."), value=text) from None


def month_range(month: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    start = month.replace(day=1)
    following = date(start.year + start.month // 12, start.month % 12 + 1, 1)
    return datetime.combine(start, time(), tz), datetime.combine(following, time(), tz)


def previous_month(month: date) -> date:
    return (month.replace(day=1) - timedelta(days=1)).replace(day=1)


def validate_terms(level: Level, terms: list[Term]) -> None:
    """Refuses a formula whose weights do not add up to 100 or that names unknown figures."""
    if not terms:
        raise InvalidInput(N_("A formula needs at least one figure."))
    allowed = METRICS[level]
    for t in terms:
        if t.metric not in allowed:
            raise InvalidInput(
                N_("“%(metric)s” is not a figure of the %(level)s level; choose from %(allowed)s."),
                metric=t.metric,
                level=level.value,
                allowed=", ".join(allowed),
            )
        if not (0 < t.weight <= 100) or not (0 < t.target <= 1):
            raise InvalidInput(
                N_("Weights are above 0 and targets between 0 and 1 (%(metric)s)."),
                metric=t.metric,
            )
    if len({t.metric for t in terms}) != len(terms):
        raise InvalidInput(N_("A figure appears twice in the formula."))
    total = sum(t.weight for t in terms)
    if abs(total - 100) > 1e-6:
        raise InvalidInput(N_("The weights add up to %(total)g, not 100."), total=total)


def score(terms: list[Term], metrics: dict[str, float | None]) -> float:
    """The weighted score out of 100 over the figures that have data."""
    earned = weights = 0.0
    for t in terms:
        value = metrics.get(t.metric)
        if value is None:
            continue
        earned += t.weight * min(value / t.target, 1.0)
        weights += t.weight
    return round(100 * earned / weights, 2) if weights else 0.0


Versions = dict[Level, list[ScoringFormula]]


async def formula_versions(session: AsyncSession) -> Versions:
    """Every level's formula versions, oldest first (a handful of rows)."""
    found: Versions = {level: [] for level in Level}
    query = select(ScoringFormula).order_by(ScoringFormula.valid_from)
    for formula in await session.scalars(query):
        if formula.level in Level.__members__.values():
            found[Level(formula.level)].append(formula)
    return found


def in_force(versions: Versions, level: Level, month: date) -> ScoringFormula | None:
    """The latest version in force on the month's first day."""
    return next((f for f in reversed(versions[level]) if f.valid_from <= month), None)


def terms_of(formula: ScoringFormula) -> list[Term]:
    return [Term(**t) for t in formula.terms]


def _ratio(numerator: int | float, denominator: int | float) -> float | None:
    return numerator / denominator if denominator else None


async def _office_records(
    session: AsyncSession, start: datetime, end: datetime
) -> tuple[dict[int, float], dict[int, tuple[int, int]]]:
    """Each office's average review score (0-100) and its rectification notices due in the
    period (accepted on time, all)."""
    reviews = await session.execute(
        select(CaseReview.department_id, func.avg(CaseReview.score))
        .where(CaseReview.reviewed_at >= start, CaseReview.reviewed_at < end)
        .group_by(CaseReview.department_id)
    )
    accepted_on_time = (RectificationNotice.status == NoticeStatus.ACCEPTED) & (
        RectificationNotice.on_time.is_(True)
    )
    notices = await session.execute(
        select(
            RectificationNotice.department_id,
            func.count().filter(accepted_on_time),
            func.count(),
        )
        .where(RectificationNotice.deadline_at >= start, RectificationNotice.deadline_at < end)
        .group_by(RectificationNotice.department_id)
    )
    return (
        {key: float(average) for key, average in reviews if key},
        {key: (int(good), int(due)) for key, good, due in notices if key},
    )


def _area_metrics(counted: dict[int, Tally]) -> dict[int, dict[str, float | None]]:
    return {
        key: {
            "on_time": t.on_time_rate,
            "closure": t.closure_rate,
            "no_rework": None if t.rework_rate is None else 1 - t.rework_rate,
            "accurate_filing": t.accurate_filing_rate,
            "satisfaction": t.satisfaction_rate,
            "_overdue": float(t.overdue),
        }
        for key, t in counted.items()
    }


async def month_metrics(
    session: AsyncSession, start: datetime, end: datetime, now: datetime
) -> dict[Level, dict[int, dict[str, float | None]]]:
    """Every unit's figures of every level for the period, by level and unit id: one pass over
    the period's cases (see `tallies`) plus the offices' reviews and notices."""
    counted = await tallies(session, start, end, now)
    found = {level: _area_metrics(counted[DIMENSION[level]]) for level in AREA_LEVELS}
    reviews, notices = await _office_records(session, start, end)
    offices = found[Level.OFFICE]
    for key in reviews.keys() | notices.keys():
        row = offices.setdefault(key, {"_overdue": 0.0})
        if key in reviews:
            row["review_score"] = reviews[key] / 100
        if key in notices:
            row["rectification_on_time"] = _ratio(*notices[key])
    workers = set(
        (await session.scalars(select(Person.id).where(Person.role == Role.GRID_WORKER))).all()
    )
    found[Level.GRID_WORKER] = {
        key: {
            "valid_reports": t.valid_report_rate,
            "verification_on_time": t.verification_rate,
        }
        for key, t in counted[Dimension.REPORTER].items()
        if key in workers
    }
    return found


def unit_name(catalog: Catalog, level: Level, key: int, people: dict[int, str]) -> str:
    if level is Level.OFFICE:
        return catalog.department_name(key)
    if level is Level.GRID_WORKER:
        return people.get(key, str(key))
    return catalog.area_name(key)


async def people_names(session: AsyncSession) -> dict[int, str]:
    return dict((await session.execute(select(Person.id, Person.name))).all())


async def rankings(
    session: AsyncSession, catalog: Catalog, month: date, tz: ZoneInfo, now: datetime
) -> dict[Level, Ranking]:
    """The month's ranking of every level that has a formula in force, each unit with its
    place and score the month before (scored with the formula in force then). The figures of
    all levels come from one pass over each month's cases."""
    versions = await formula_versions(session)
    before = previous_month(month)
    levels = [level for level in Level if in_force(versions, level, month) is not None]
    if not levels:
        return {}
    current = await month_metrics(session, *month_range(month, tz), now)
    old: dict[Level, dict[int, dict[str, float | None]]] = {}
    if any(in_force(versions, level, before) for level in levels):
        old = await month_metrics(session, *month_range(before, tz), now)
    people = await people_names(session)
    found = {}
    for level in levels:
        formula = in_force(versions, level, month)
        assert formula is not None
        old_formula = in_force(versions, level, before)
        previous = (
            _places({k: score(terms_of(old_formula), m) for k, m in old[level].items()})
            if old_formula is not None
            else {}
        )
        found[level] = _ranked(level, month, formula, current[level], previous, catalog, people)
    return found


async def ranking(
    session: AsyncSession,
    catalog: Catalog,
    level: Level,
    month: date,
    tz: ZoneInfo,
    now: datetime,
) -> Ranking:
    """The month's ranking of one level (see `rankings`)."""
    found = (await rankings(session, catalog, month, tz, now)).get(level)
    if found is None:
        raise NotFound(
            N_("No scoring formula of the %(level)s level is in force in %(month)s."),
            level=level.value,
            month=f"{month:%Y-%m}",
        )
    return found


def _ranked(
    level: Level,
    month: date,
    formula: ScoringFormula,
    current: dict[int, dict[str, float | None]],
    previous: dict[int, tuple[float, int]],
    catalog: Catalog,
    people: dict[int, str],
) -> Ranking:
    terms = terms_of(formula)
    scores = {k: score(terms, m) for k, m in current.items()}
    places = _places(scores)
    rows = [
        Ranked(
            key=k,
            name=unit_name(catalog, level, k, people),
            score=scores[k],
            rank=places[k][1],
            metrics={m: current[k].get(m) for m in METRICS[level]},
            previous_score=previous[k][0] if k in previous else None,
            previous_rank=previous[k][1] if k in previous else None,
            overdue=int(current[k].get("_overdue") or 0),
        )
        for k in scores
    ]
    rows.sort(key=lambda r: (r.rank, r.name))
    return Ranking(level, month, formula.valid_from, terms, rows)


def _places(scores: dict[int, float]) -> dict[int, tuple[float, int]]:
    """Competition ranking: equal scores share a place (1, 2, 2, 4)."""
    ordered = sorted(scores.values(), reverse=True)
    return {k: (s, ordered.index(s) + 1) for k, s in scores.items()}
