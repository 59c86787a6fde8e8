"""Monthly assessment (考核): the figures of each unit, scored with the versioned formula of its
level, and ranked with the change from the previous month.

A formula's terms name a figure, its weight (the weights add up to 100) and its target: a
figure at or above its target earns the whole weight, below it the same share of the weight.
Figures without data in a month (no case due, no follow-up answered) are left out and the
score is scaled over the weights that remain, so a unit is neither rewarded nor punished for
what did not happen."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from dispatch.assessment import Dimension, Figures, figures
from dispatch.catalog import Catalog
from dispatch.core.errors import N_, InvalidInput, NotFound
from models import Case, CaseReview, FollowUp, Person, RectificationNotice, ScoringFormula
from models.enums import NoticeStatus, Role, Satisfaction


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
VERIFY_WITHIN = timedelta(hours=24)  # a grid worker's verification counts on time within this
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


async def formula_in_force(session: AsyncSession, level: Level, month: date) -> ScoringFormula:
    found = await session.scalar(
        select(ScoringFormula)
        .where(ScoringFormula.level == level.value, ScoringFormula.valid_from <= month)
        .order_by(ScoringFormula.valid_from.desc())
        .limit(1)
    )
    if found is None:
        raise NotFound(
            N_("No scoring formula of the %(level)s level is in force in %(month)s."),
            level=level.value,
            month=f"{month:%Y-%m}",
        )
    return found


def _ratio(numerator: int | float, denominator: int | float) -> float | None:
    return numerator / denominator if denominator else None


async def _grouped(session: AsyncSession, query: Any) -> dict[int, tuple[Any, ...]]:
    return {row[0]: tuple(row[1:]) for row in (await session.execute(query)).all() if row[0]}


def _good(column: ColumnElement[Any]) -> ColumnElement[int]:
    return func.coalesce(
        func.sum(
            case(
                (column.in_([Satisfaction.SATISFIED, Satisfaction.BASICALLY_SATISFIED]), 1),
                else_=0,
            )
        ),
        0,
    )


async def metrics(
    session: AsyncSession, level: Level, start: datetime, end: datetime, now: datetime
) -> dict[int, dict[str, float | None]]:
    """Every unit's figures of the level for the period, by unit id."""
    base: dict[int, Figures] = {
        f.key: f
        for f in await figures(session, DIMENSION[level], start, end, now)
        if f.key is not None
    }
    group = {
        Level.OFFICE: Case.department_id,
        Level.COMMUNITY: Case.community_id,
        Level.TOWN: Case.town_id,
        Level.GRID_WORKER: Case.reporter_id,
    }[level]
    satisfaction = await _grouped(
        session,
        select(group, _good(FollowUp.satisfaction), func.count(FollowUp.id))
        .join(Case, Case.id == FollowUp.case_id)
        .where(FollowUp.answered_at >= start, FollowUp.answered_at < end)
        .group_by(group),
    )
    found: dict[int, dict[str, float | None]] = {}
    if level is Level.GRID_WORKER:
        workers = set(
            (await session.scalars(select(Person.id).where(Person.role == Role.GRID_WORKER))).all()
        )
        verified: dict[int, list[int]] = defaultdict(lambda: [0, 0])
        rows = await session.execute(
            select(Case.reporter_id, Case.resolved_at, Case.closed_at).where(
                Case.closed_at >= start, Case.closed_at < end, Case.reporter_id.is_not(None)
            )
        )
        for reporter, resolved, closed in rows:
            verified[reporter][1] += 1
            if resolved is not None and closed - resolved <= VERIFY_WITHIN:
                verified[reporter][0] += 1
        for key in workers & (set(base) | set(verified)):
            f = base.get(key)
            found[key] = {
                "valid_reports": _ratio(f.filed - f.voided_of_filed, f.received) if f else None,
                "verification_on_time": _ratio(*verified[key]) if key in verified else None,
            }
        return found
    for key, f in base.items():
        good, answered = satisfaction.get(key, (0, 0))
        found[key] = {
            "on_time": f.on_time_rate,
            "closure": f.closure_rate,
            "no_rework": None if f.rework_rate is None else 1 - f.rework_rate,
            "accurate_filing": f.accurate_filing_rate,
            "satisfaction": _ratio(good, answered),
            "_overdue": float(f.overdue),
        }
    if level is Level.OFFICE:
        reviews = await _grouped(
            session,
            select(CaseReview.department_id, func.avg(CaseReview.score))
            .where(CaseReview.reviewed_at >= start, CaseReview.reviewed_at < end)
            .group_by(CaseReview.department_id),
        )
        notices = await _grouped(
            session,
            select(
                RectificationNotice.department_id,
                func.coalesce(
                    func.sum(
                        case(
                            (
                                (RectificationNotice.status == NoticeStatus.ACCEPTED)
                                & RectificationNotice.on_time.is_(True),
                                1,
                            ),
                            else_=0,
                        )
                    ),
                    0,
                ),
                func.count(RectificationNotice.id),
            )
            .where(RectificationNotice.deadline_at >= start, RectificationNotice.deadline_at < end)
            .group_by(RectificationNotice.department_id),
        )
        for key in set(reviews) | set(notices):
            row = found.setdefault(key, {"_overdue": 0.0})
            if key in reviews:
                row["review_score"] = float(reviews[key][0]) / 100
            if key in notices:
                row["rectification_on_time"] = _ratio(*notices[key])
    return found


def unit_name(catalog: Catalog, level: Level, key: int, people: dict[int, str]) -> str:
    if level is Level.OFFICE:
        return catalog.department_name(key)
    if level is Level.GRID_WORKER:
        return people.get(key, str(key))
    return catalog.area_name(key)


async def ranking(
    session: AsyncSession,
    catalog: Catalog,
    level: Level,
    month: date,
    tz: ZoneInfo,
    now: datetime,
) -> Ranking:
    """The month's ranking of the level, with each unit's place and score the month before
    (scored with the formula in force then)."""
    formula = await formula_in_force(session, level, month)
    terms = [Term(**t) for t in formula.terms]
    current = await metrics(session, level, *month_range(month, tz), now)
    before = previous_month(month)
    try:
        old_formula = await formula_in_force(session, level, before)
    except NotFound:
        old_formula = None
    previous: dict[int, tuple[float, int]] = {}
    if old_formula is not None:
        old_terms = [Term(**t) for t in old_formula.terms]
        old = await metrics(session, level, *month_range(before, tz), now)
        previous = _places({k: score(old_terms, m) for k, m in old.items()})
    people = dict((await session.execute(select(Person.id, Person.name))).all())
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
