"""The figures behind `/metrics`, cheap at any table size (issue 11 §5).

Counters come from append-only facts (a case's source; the remind, escalate and dispatch
events), kept as running totals per process: each scrape reads only the rows added since the
previous one, by primary key. Rows are folded into the totals once they are older than
`SETTLE` (a transaction still open with a lower id would otherwise be skipped); younger rows
are counted afresh on every scrape. The first scrape of a process reads the whole history once.

Gauges are exact where the rows are few and indexed (open cases by status, undelivered
outbox messages); the many terminal rows (closed, voided and merged cases, delivered
messages) are the exact total minus the exact open part, split by PostgreSQL's column
statistics once a table is large."""

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, exists, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from models import OPEN_STATUSES, Case, CaseEvent, OutboxMessage
from models.enums import CaseStatus, OutboxStatus

LATENCY_BUCKETS = (300.0, 900.0, 1800.0, 3600.0, 4 * 3600.0, 8 * 3600.0, 24 * 3600.0, 72 * 3600.0)
ESCALATIONS = ("remind", "escalate")
TERMINAL_STATUSES = (CaseStatus.CLOSED, CaseStatus.VOIDED, CaseStatus.MERGED)
UNDELIVERED = (OutboxStatus.PENDING, OutboxStatus.DEAD, OutboxStatus.UNDELIVERABLE)
SETTLE = timedelta(minutes=10)
# Below this many rows (by the planner's estimate) a table is simply counted.
ESTIMATE_FROM_ROWS = 100_000


@dataclass
class Latency:
    """Seconds from report to first dispatch: cumulative bucket counts, count and sum."""

    buckets: list[int] = field(default_factory=lambda: [0] * len(LATENCY_BUCKETS))
    count: int = 0
    total: float = 0.0

    def __add__(self, other: "Latency") -> "Latency":
        return Latency(
            [a + b for a, b in zip(self.buckets, other.buckets, strict=True)],
            self.count + other.count,
            self.total + other.total,
        )


@dataclass(frozen=True)
class MetricsSnapshot:
    cases_by_status: dict[str, int]
    cases_by_source: dict[str, int]
    escalation_events: dict[str, int]
    outbox_by_status: dict[str, int]
    oldest_pending_outbox: datetime | None
    latency: Latency


@dataclass
class RunningTotals:
    """One process's totals of the append-only facts, and how far they go."""

    cases_upto: int = 0
    cases_by_source: Counter[str] = field(default_factory=Counter)
    events_upto: int = 0
    escalations: Counter[str] = field(default_factory=Counter)
    latency: Latency = field(default_factory=Latency)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)  # one scrape folds at a time

    async def snapshot(self, session: AsyncSession, now: datetime) -> MetricsSnapshot:
        async with self.lock:
            return await self._snapshot(session, now)

    async def _snapshot(self, session: AsyncSession, now: datetime) -> MetricsSnapshot:
        settled_before = now - SETTLE
        cases_upto = await _settled_upto(
            session, Case, Case.created_at, self.cases_upto, settled_before
        )
        events_upto = await _settled_upto(
            session, CaseEvent, CaseEvent.at, self.events_upto, settled_before
        )
        new_cases = await _by_source(session, self.cases_upto, cases_upto)
        new_escalations = await _escalations(session, self.events_upto, events_upto)
        settled_latency, fresh_latency = await _latency(session, self.events_upto, events_upto)
        self.cases_by_source.update(new_cases[0])
        self.escalations.update(new_escalations[0])
        self.latency += settled_latency
        self.cases_upto, self.events_upto = cases_upto, events_upto

        sources = self.cases_by_source + new_cases[1]
        open_cases = await _grouped(session, Case.status, Case.status.in_(OPEN_STATUSES))
        statuses = {
            **open_cases,
            **await _split(
                session,
                Case.status,
                TERMINAL_STATUSES,
                sum(sources.values()) - sum(open_cases.values()),
            ),
        }
        undelivered = await _grouped(
            session, OutboxMessage.status, OutboxMessage.status.in_(UNDELIVERED)
        )
        outbox_total = await _row_count(session, OutboxMessage)
        sent = (
            outbox_total - sum(undelivered.values())
            if outbox_total is not None
            else (
                await _grouped(
                    session, OutboxMessage.status, OutboxMessage.status == OutboxStatus.SENT
                )
            ).get(OutboxStatus.SENT.value, 0)
        )
        return MetricsSnapshot(
            cases_by_status={s.value: statuses.get(s.value, 0) for s in CaseStatus},
            cases_by_source=dict(sources),
            escalation_events=dict(self.escalations + new_escalations[1]),
            outbox_by_status={
                **{s.value: undelivered.get(s.value, 0) for s in UNDELIVERED},
                OutboxStatus.SENT.value: max(sent, 0),
            },
            oldest_pending_outbox=await session.scalar(
                select(func.min(OutboxMessage.created_at)).where(
                    OutboxMessage.status == OutboxStatus.PENDING
                )
            ),
            latency=self.latency + fresh_latency,
        )


async def _settled_upto(
    session: AsyncSession,
    table: type[Case] | type[CaseEvent],
    at: ColumnElement[datetime],
    upto: int,
    settled_before: datetime,
) -> int:
    """The highest id, after `upto`, of a row old enough to be folded into the totals."""
    top = await session.scalar(
        select(func.max(table.id)).where(table.id > upto, at < settled_before)
    )
    return max(top or 0, upto)


async def _by_source(
    session: AsyncSession, upto: int, settled: int
) -> tuple[Counter[str], Counter[str]]:
    """Cases after `upto` by source: (those up to `settled`, the younger ones)."""
    is_settled = (Case.id <= settled).label("settled")
    rows = await session.execute(
        select(Case.source, is_settled, func.count())
        .where(Case.id > upto)
        .group_by(Case.source, is_settled)
    )
    return _settled_and_fresh(rows.all())


async def _escalations(
    session: AsyncSession, upto: int, settled: int
) -> tuple[Counter[str], Counter[str]]:
    is_settled = (CaseEvent.id <= settled).label("settled")
    rows = await session.execute(
        select(CaseEvent.action, is_settled, func.count())
        .where(CaseEvent.id > upto, CaseEvent.action.in_(ESCALATIONS))
        .group_by(CaseEvent.action, is_settled)
    )
    return _settled_and_fresh(rows.all())


def _settled_and_fresh(rows: list) -> tuple[Counter[str], Counter[str]]:
    settled: Counter[str] = Counter()
    fresh: Counter[str] = Counter()
    for key, is_settled, n in rows:
        (settled if is_settled else fresh)[str(key)] += int(n)
    return settled, fresh


async def _latency(session: AsyncSession, upto: int, settled: int) -> tuple[Latency, Latency]:
    """Report-to-dispatch time of the first dispatch events after `upto`."""
    earlier = aliased(CaseEvent)
    seconds = _seconds_between(session, CaseEvent.at, Case.created_at)
    is_settled = (CaseEvent.id <= settled).label("settled")
    columns = [is_settled, func.count(), func.coalesce(func.sum(seconds), 0.0)]
    columns += [func.count().filter(seconds <= bucket) for bucket in LATENCY_BUCKETS]
    rows = await session.execute(
        select(*columns)
        .join(Case, Case.id == CaseEvent.case_id)
        .where(
            CaseEvent.id > upto,
            CaseEvent.action == "dispatch",
            ~exists().where(
                and_(
                    earlier.case_id == CaseEvent.case_id,
                    earlier.action == "dispatch",
                    earlier.id < CaseEvent.id,
                )
            ),
        )
        .group_by(is_settled)
    )
    parts = {True: Latency(), False: Latency()}
    for flag, count, total, *buckets in rows.all():
        parts[bool(flag)] = Latency([int(n) for n in buckets], int(count), float(total))
    return parts[True], parts[False]


def _seconds_between(
    session: AsyncSession, later: ColumnElement[datetime], earlier: ColumnElement[datetime]
) -> ColumnElement[float]:
    if session.bind.dialect.name == "postgresql":
        return func.extract("epoch", later - earlier)
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0


async def _grouped(
    session: AsyncSession, column: ColumnElement, *where: ColumnElement[bool]
) -> dict[str, int]:
    rows = await session.execute(select(column, func.count()).where(*where).group_by(column))
    return {str(k): int(v) for k, v in rows.all()}


async def _row_count(session: AsyncSession, table: type[Case] | type[OutboxMessage]) -> int | None:
    """The planner's row count of a large PostgreSQL table; None when it is better counted."""
    if session.bind.dialect.name != "postgresql":
        return None
    estimate = await session.scalar(
        text("SELECT reltuples::bigint FROM pg_class WHERE oid = CAST(:t AS regclass)"),
        {"t": table.__tablename__},
    )
    return int(estimate) if estimate is not None and estimate >= ESTIMATE_FROM_ROWS else None


async def _split(
    session: AsyncSession, column: ColumnElement, values: tuple[CaseStatus, ...], total: int
) -> dict[str, int]:
    """`total` rows among `values`: counted on a small table, shared out by the column's
    statistics (most common values and their frequencies) on a large one."""
    if await _row_count(session, Case) is None:
        return await _grouped(session, column, column.in_(values))
    row = (
        await session.execute(
            text(
                "SELECT most_common_vals::text::text[], most_common_freqs FROM pg_stats"
                " WHERE tablename = 'cases' AND attname = 'status'"
            )
        )
    ).first()
    frequencies = dict(zip(row[0], row[1], strict=True)) if row else {}
    weights = {v.value: float(frequencies.get(v.value, 0.0)) for v in values}
    share = sum(weights.values())
    if share == 0:
        return await _grouped(session, column, column.in_(values))
    split = {k: round(total * w / share) for k, w in weights.items()}
    split[values[0].value] += total - sum(split.values())  # rounding goes to the largest
    return split
