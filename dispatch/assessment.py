"""Assessment figures (考核) per office, community, town or grid worker for a period,
computed by SQL aggregation in one pass over the period's cases.

- received: reported in the period; filed: filed in the period; closed: closed in the period
- due: the deadline fell in the period (voided and merged cases excluded)
- on-time closure rate 按期结案率 = due and closed on time / (due − suspended)
- closure rate 结案率 = due and closed / (due − suspended)
- rework rate 返工率 = due and reworked at least once / due
- overdue: due cases not resolved by their deadline (suspended ones excepted)
- average and p90 handling time, in working hours, of the cases closed in the period
- accurate filing rate 准确立案率 = (filed − voided) / filed
"""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import Case
from models.enums import CaseStatus


class Dimension(StrEnum):
    DEPARTMENT = "department"
    COMMUNITY = "community"
    TOWN = "town"
    REPORTER = "reporter"


GROUP_COLUMN = {
    Dimension.DEPARTMENT: Case.department_id,
    Dimension.COMMUNITY: Case.community_id,
    Dimension.TOWN: Case.town_id,
    Dimension.REPORTER: Case.reporter_id,
}


class CaseRates:
    """The rates above, from a unit's counts (shared by the dashboard's figures and the
    monthly ranking's tallies)."""

    filed: int
    due: int
    suspended: int
    closed_on_time: int
    due_closed: int
    reworked: int
    voided_of_filed: int

    @staticmethod
    def _ratio(numerator: int, denominator: int) -> float | None:
        return numerator / denominator if denominator > 0 else None

    @property
    def on_time_rate(self) -> float | None:
        return self._ratio(self.closed_on_time, self.due - self.suspended)

    @property
    def closure_rate(self) -> float | None:
        return self._ratio(self.due_closed, self.due - self.suspended)

    @property
    def rework_rate(self) -> float | None:
        return self._ratio(self.reworked, self.due)

    @property
    def accurate_filing_rate(self) -> float | None:
        return self._ratio(self.filed - self.voided_of_filed, self.filed)


@dataclass(frozen=True)
class Figures(CaseRates):
    key: int | None
    received: int
    filed: int
    closed: int
    due: int
    suspended: int
    closed_on_time: int
    due_closed: int
    reworked: int
    overdue: int
    voided_of_filed: int
    avg_handling_hours: float | None
    p90_handling_hours: float | None


def due_within(start: datetime, end: datetime) -> ColumnElement[bool]:
    """Counted as due in [start, end): the deadline fell in it; voided and merged cases are
    never due."""
    return and_(
        Case.deadline_at >= start,
        Case.deadline_at < end,
        Case.status.notin_([CaseStatus.VOIDED, CaseStatus.MERGED]),
    )


def overdue_by(now: datetime) -> ColumnElement[bool]:
    """Not resolved by the deadline (still open past it, or resolved after it); suspended
    cases are not counted overdue."""
    return and_(
        or_(
            Case.resolved_at > Case.deadline_at,
            and_(Case.resolved_at.is_(None), Case.deadline_at < now),
        ),
        Case.status != CaseStatus.SUSPENDED,
    )


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


async def figures(
    session: AsyncSession,
    dimension: Dimension,
    start: datetime,
    end: datetime,
    now: datetime,
    keys: list[int] | None = None,
) -> list[Figures]:
    group = GROUP_COLUMN[dimension]

    def within(column: ColumnElement[datetime]) -> ColumnElement[bool]:
        return and_(column >= start, column < end)

    counted = Case.status.notin_([CaseStatus.VOIDED, CaseStatus.MERGED])
    due = and_(within(Case.deadline_at), counted)
    closed_in = within(Case.closed_at)
    late = or_(
        Case.resolved_at > Case.deadline_at,
        and_(Case.resolved_at.is_(None), Case.deadline_at < now),
    )
    handling = case((closed_in, Case.handling_work_seconds), else_=None)
    columns = [
        group,
        _count(within(Case.created_at)),
        _count(within(Case.filed_at)),
        _count(closed_in),
        _count(due),
        _count(and_(due, Case.status == CaseStatus.SUSPENDED)),
        _count(and_(due, Case.closed_on_time.is_(True))),
        _count(and_(due, Case.status == CaseStatus.CLOSED)),
        _count(and_(due, Case.rework_count > 0)),
        _count(and_(due, late, Case.status != CaseStatus.SUSPENDED)),
        _count(and_(within(Case.filed_at), Case.status == CaseStatus.VOIDED)),
        func.avg(handling),
    ]
    postgres = session.bind.dialect.name == "postgresql"
    if postgres:
        columns.append(func.percentile_cont(0.9).within_group(handling))
    query = (
        select(*columns)
        .where(
            or_(
                within(Case.created_at),
                within(Case.filed_at),
                within(Case.closed_at),
                within(Case.deadline_at),
            )
        )
        .group_by(group)
    )
    if keys is not None:
        query = query.where(group.in_(keys))
    rows = (await session.execute(query)).all()
    result = []
    for row in rows:
        p90 = row[12] if postgres else await _p90_sqlite(session, group, row[0], closed_in)
        result.append(
            Figures(
                row[0],
                *(int(v) for v in row[1:11]),
                avg_handling_hours=float(row[11]) / 3600 if row[11] is not None else None,
                p90_handling_hours=float(p90) / 3600 if p90 is not None else None,
            )
        )
    return sorted(result, key=lambda f: (f.key is None, f.key or 0))


async def _p90_sqlite(
    session: AsyncSession,
    group: ColumnElement[int],
    key: int | None,
    closed_in: ColumnElement[bool],
) -> float | None:
    """SQLite has no percentile_cont: the same continuous percentile over one group's
    handling times, for the embedded database's small volumes."""
    values = sorted(
        v
        for v in (
            await session.scalars(
                select(Case.handling_work_seconds).where(
                    closed_in,
                    Case.handling_work_seconds.is_not(None),
                    group.is_(None) if key is None else group == key,
                )
            )
        ).all()
    )
    if not values:
        return None
    position = 0.9 * (len(values) - 1)
    low = int(position)
    high = min(low + 1, len(values) - 1)
    return values[low] + (values[high] - values[low]) * (position - low)
