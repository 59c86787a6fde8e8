"""Deadlines, lights and the escalation ladder of a case, counted on the working calendar.

The stored `yellow_at` and `deadline_at` are the source of truth for lights and for the
sweep; `next_check_at` is the moment the next rung of the ladder falls due."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import IntEnum
from typing import TYPE_CHECKING

from dispatch.core.workcalendar import WorkCalendar
from models.enums import CaseStatus, ClockStart, TimeLimitUnit

if TYPE_CHECKING:
    from models import Case, Category

RUNNING = (CaseStatus.DISPATCHED, CaseStatus.ACCEPTED)


class Rung(IntEnum):
    """The escalation ladder; a case's `escalation_level` is the highest level fired."""

    REMINDER = 0  # yellow: remind the handling office
    LEVEL1 = 1  # overdue: office head and community supervisors (催办)
    LEVEL2 = 2  # town/street supervisors (督办)
    LEVEL3 = 3  # county supervisors (通报)


@dataclass(frozen=True)
class EscalationPolicy:
    yellow_ratio: float = 0.8
    level2_after_seconds: int = 4 * 3600
    level3_after_seconds: int = 16 * 3600

    def __post_init__(self) -> None:
        if not 0 < self.yellow_ratio <= 1:
            raise ValueError(f"yellow_ratio must be in (0, 1], got {self.yellow_ratio}")


class DeadlinePlanner:
    def __init__(
        self,
        calendar: WorkCalendar,
        policy: EscalationPolicy,
        categories: Mapping[int, Category],
    ) -> None:
        self.calendar = calendar
        self.policy = policy
        self.categories = categories  # the configuration in force, by id

    def _category(self, case: Case) -> Category:
        return self.categories[case.category_id]

    def _advance(self, start: datetime, seconds: float, unit: str) -> datetime:
        if unit == TimeLimitUnit.HOURS:
            return start + timedelta(seconds=seconds)
        return self.calendar.add_working_seconds(start, round(seconds))

    def _unit(self, case: Case) -> str:
        return (self._category(case).time_limit_unit or TimeLimitUnit.WORK_HOURS).value

    def on_dispatch(self, case: Case, now: datetime) -> None:
        if self._category(case).clock_start is ClockStart.DISPATCH:
            self.start(case, now)
        else:
            self._clear(case)

    def on_accept(self, case: Case, now: datetime) -> None:
        if self._category(case).clock_start is ClockStart.ACCEPT:
            self.start(case, now)

    def start(self, case: Case, now: datetime) -> None:
        """(Re)starts the full limit from `now`: dispatch, acceptance, rework, reopen."""
        category = self._category(case)
        if category.time_limit_value is None or category.time_limit_unit is None:
            self._clear(case)
            return
        unit = category.time_limit_unit.value
        limit = self.calendar.limit_seconds(category.time_limit_value, unit)
        case.clock_started_at = now
        case.deadline_at = self._advance(now, limit, unit)
        case.yellow_at = self._advance(now, limit * self.policy.yellow_ratio, unit)
        self._reset_ladder(case)

    restart = start

    def _clear(self, case: Case) -> None:
        case.clock_started_at = case.deadline_at = case.yellow_at = None
        self._reset_ladder(case)

    def _reset_ladder(self, case: Case) -> None:
        case.escalation_level = 0
        case.reminded = False
        case.extension_requested_until = None

    def stop(self, case: Case) -> None:
        case.extension_requested_until = None

    def pause(self, case: Case, now: datetime) -> None:
        if case.deadline_at is not None:
            unit = self._unit(case)
            case.remaining_work_seconds = max(
                0, self.calendar.elapsed_limit_seconds(now, case.deadline_at, unit)
            )

    def resume(self, case: Case, now: datetime) -> None:
        """Suspended time does not count: the rest of the limit runs from the resumption."""
        if case.deadline_at is None or case.remaining_work_seconds is None:
            return
        unit = self._unit(case)
        remaining = case.remaining_work_seconds
        yellow_left = max(0, remaining - self._limit(case) * (1 - self.policy.yellow_ratio))
        case.deadline_at = self._advance(now, remaining, unit)
        case.yellow_at = self._advance(now, yellow_left, unit)
        case.remaining_work_seconds = None

    def _limit(self, case: Case) -> int:
        category = self._category(case)
        if category.time_limit_value is None or category.time_limit_unit is None:
            return 0
        return self.calendar.limit_seconds(category.time_limit_value, category.time_limit_unit)

    def extend(self, case: Case, until: datetime) -> None:
        """An approved extension moves the deadline and lets the ladder start again."""
        assert case.clock_started_at is not None
        unit = self._unit(case)
        total = self.calendar.elapsed_limit_seconds(case.clock_started_at, until, unit)
        case.deadline_at = until
        case.yellow_at = self._advance(
            case.clock_started_at, total * self.policy.yellow_ratio, unit
        )
        case.escalation_level = 0
        case.reminded = False

    def handling_seconds(self, case: Case) -> int | None:
        """Working seconds from the start of handling to the office's resolution."""
        start = case.clock_started_at or case.dispatched_at
        if start is None or case.resolved_at is None:
            return None
        return self.calendar.working_seconds_between(start, case.resolved_at)

    def rung_times(self, case: Case) -> dict[Rung, datetime]:
        assert case.deadline_at is not None and case.yellow_at is not None
        unit = self._unit(case)
        return {
            Rung.REMINDER: case.yellow_at,
            Rung.LEVEL1: case.deadline_at,
            Rung.LEVEL2: self._advance(case.deadline_at, self.policy.level2_after_seconds, unit),
            Rung.LEVEL3: self._advance(case.deadline_at, self.policy.level3_after_seconds, unit),
        }

    def pending_rungs(self, case: Case) -> list[tuple[Rung, datetime]]:
        """The rungs not fired yet, in order. The reminder is skipped once a level has fired."""
        if case.status not in RUNNING or case.deadline_at is None or case.yellow_at is None:
            return []
        return self._unfired(case, self.rung_times(case))

    @staticmethod
    def _unfired(case: Case, times: dict[Rung, datetime]) -> list[tuple[Rung, datetime]]:
        return [
            (rung, at)
            for rung, at in times.items()
            if (rung is Rung.REMINDER and not case.reminded and case.escalation_level == 0)
            or (rung is not Rung.REMINDER and rung > case.escalation_level)
        ]

    def next_check(self, case: Case) -> datetime | None:
        pending = self.pending_rungs(case)
        return pending[0][1] if pending else None

    def due_rungs(self, case: Case, now: datetime) -> list[Rung]:
        """Rungs due at `now`. After downtime several levels may be due at once; a reminder
        is pointless once the case is already overdue."""
        return self._due(self.pending_rungs(case), now)

    @staticmethod
    def _due(pending: list[tuple[Rung, datetime]], now: datetime) -> list[Rung]:
        due = [rung for rung, at in pending if at <= now]
        if len(due) > 1 and Rung.REMINDER in due:
            due.remove(Rung.REMINDER)
        return due

    def climb(self, case: Case, now: datetime) -> list[Rung]:
        """Fires the rungs due at `now` on the case and moves `next_check_at` to the next
        one; the rungs' times are worked out once."""
        if case.status not in RUNNING or case.deadline_at is None or case.yellow_at is None:
            case.next_check_at = None
            return []
        times = self.rung_times(case)
        due = self._due(self._unfired(case, times), now)
        for rung in due:
            if rung is Rung.REMINDER:
                case.reminded = True
            else:
                case.escalation_level = int(rung)
        later = self._unfired(case, times)
        case.next_check_at = later[0][1] if later else None
        return due

    def light(self, case: Case, now: datetime) -> str | None:
        """The light of the office's running clock. A case waiting for verification (or in
        any other step without a time limit) has none: it no longer counts against the
        office."""
        if case.deadline_at is None or case.status not in RUNNING:
            return None
        if now > case.deadline_at:
            return "red"
        if case.yellow_at is not None and now >= case.yellow_at:
            return "yellow"
        return "green"
