"""A month's case counts for every unit of every assessment level (office, community, town,
grid worker) in one pass over the month's cases.

On PostgreSQL one grouped query with GROUPING SETS reads the cases that were reported, filed,
closed or due in the month once (a BitmapOr over the four indexed timestamps) and aggregates
them per office, community, town and reporter; SQLite, the embedded default with small
volumes, runs the same aggregate once per level. The definitions are those of
`dispatch.assessment` (due: the deadline fell in the month, voided and merged cases excluded;
overdue: due and not resolved by the deadline, suspended ones excepted)."""

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from dispatch.assessment import GROUP_COLUMN, CaseRates, Dimension, due_within, overdue_by
from models import Case, FollowUp
from models.enums import CaseStatus, Satisfaction

VERIFY_WITHIN = timedelta(hours=24)  # a grid worker's verification counts on time within this
GOOD = (Satisfaction.SATISFIED, Satisfaction.BASICALLY_SATISFIED)


@dataclass(frozen=True)
class Tally(CaseRates):
    """One unit's counts for the month."""

    received: int = 0
    filed: int = 0
    due: int = 0
    suspended: int = 0
    closed_on_time: int = 0
    due_closed: int = 0
    reworked: int = 0
    overdue: int = 0
    voided_of_filed: int = 0
    closed: int = 0  # closed in the month
    verified_in_time: int = 0  # of those, closed within VERIFY_WITHIN of the resolution
    answered: int = 0  # follow-ups answered in the month
    satisfied: int = 0  # of those, satisfied or basically satisfied

    @property
    def valid_report_rate(self) -> float | None:
        return self._ratio(self.filed - self.voided_of_filed, self.received)

    @property
    def verification_rate(self) -> float | None:
        return self._ratio(self.verified_in_time, self.closed)

    @property
    def satisfaction_rate(self) -> float | None:
        return self._ratio(self.satisfied, self.answered)


Tallies = dict[Dimension, dict[int, Tally]]
CASE_FIELDS = (
    "received",
    "filed",
    "due",
    "suspended",
    "closed_on_time",
    "due_closed",
    "reworked",
    "overdue",
    "voided_of_filed",
    "closed",
    "verified_in_time",
)


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.count().filter(condition)


def _verified_in_time(postgres: bool) -> ColumnElement[bool]:
    if postgres:
        return Case.closed_at - Case.resolved_at <= VERIFY_WITHIN
    days = VERIFY_WITHIN / timedelta(days=1)  # SQLite keeps timestamps as text
    return func.julianday(Case.closed_at) - func.julianday(Case.resolved_at) <= days


def _case_counts(start: datetime, end: datetime, now: datetime, postgres: bool) -> list[Any]:
    def within(column: ColumnElement[datetime]) -> ColumnElement[bool]:
        return and_(column >= start, column < end)

    due = due_within(start, end)
    closed = within(Case.closed_at)
    return [
        _count(within(Case.created_at)),
        _count(within(Case.filed_at)),
        _count(due),
        _count(and_(due, Case.status == CaseStatus.SUSPENDED)),
        _count(and_(due, Case.closed_on_time.is_(True))),
        _count(and_(due, Case.status == CaseStatus.CLOSED)),
        _count(and_(due, Case.rework_count > 0)),
        _count(and_(due, overdue_by(now))),
        _count(and_(within(Case.filed_at), Case.status == CaseStatus.VOIDED)),
        _count(closed),
        _count(and_(closed, Case.resolved_at.is_not(None), _verified_in_time(postgres))),
    ]


def _case_filter(start: datetime, end: datetime) -> ColumnElement[bool]:
    return or_(
        *(
            and_(column >= start, column < end)
            for column in (Case.created_at, Case.filed_at, Case.closed_at, Case.deadline_at)
        )
    )


async def _grouped(
    session: AsyncSession, base: Select[Any], counts: list[Any]
) -> dict[Dimension, dict[int, tuple[int, ...]]]:
    """`counts` per unit of every dimension: one GROUPING SETS query on PostgreSQL, one query
    per dimension elsewhere."""
    found: dict[Dimension, dict[int, tuple[int, ...]]] = {d: {} for d in Dimension}
    if session.bind.dialect.name == "postgresql":
        # The planner overestimates the rows of the four-way BitmapOr (about 3x), so the
        # query's cost crosses jit_above_cost and JIT compilation (~50 ms) would cost more
        # than the whole aggregate saves (~150 ms at 75,000 cases a month).
        await session.execute(text("SET LOCAL jit = off"))
        keys = [GROUP_COLUMN[d] for d in Dimension]
        query = base.with_only_columns(*keys, *counts).group_by(func.grouping_sets(*keys))
        for row in await session.execute(query):
            # Each grouping set groups by one key and leaves the others NULL; a unit's key is
            # never NULL, so the one key that is set names the dimension (all NULL: no unit).
            for dimension, key in zip(Dimension, row[: len(keys)], strict=True):
                if key is not None:
                    found[dimension][key] = tuple(row[len(keys) :])
        return found
    for dimension in Dimension:
        column = GROUP_COLUMN[dimension]
        query = base.with_only_columns(column, *counts).group_by(column)
        for row in await session.execute(query):
            if row[0] is not None:
                found[dimension][row[0]] = tuple(row[1:])
    return found


async def tallies(session: AsyncSession, start: datetime, end: datetime, now: datetime) -> Tallies:
    """Every unit's counts for [start, end), by dimension and unit id."""
    postgres = session.bind.dialect.name == "postgresql"
    cases = await _grouped(
        session,
        select(Case.id).where(_case_filter(start, end)),
        _case_counts(start, end, now, postgres),
    )
    answers = await _grouped(
        session,
        select(FollowUp.id)
        .join(Case, Case.id == FollowUp.case_id)
        .where(FollowUp.answered_at >= start, FollowUp.answered_at < end),
        [func.count(), _count(FollowUp.satisfaction.in_(GOOD))],
    )
    result: Tallies = {}
    for dimension in Dimension:
        units = {
            key: Tally(**dict(zip(CASE_FIELDS, (int(v) for v in counts), strict=True)))
            for key, counts in cases[dimension].items()
        }
        for key, (answered, satisfied) in answers[dimension].items():
            if key in units:  # a unit without cases this month is not ranked for its answers
                units[key] = replace(units[key], answered=int(answered), satisfied=int(satisfied))
        result[dimension] = units
    return result
