"""Working-time calendar: office hours, weekends, public holidays and make-up working days (调休).

Pure computation, standard library only. The caller loads holidays and make-up working days from
its own table and passes them in as sets of local dates.

Conventions:

- All datetimes passed in must be timezone-aware; every datetime returned is in UTC.
- Working periods are wall-clock times in the calendar's zone. Durations are measured in real
  elapsed time, so a period that straddles a DST transition is an hour shorter or longer that day.
- Working time is counted from the next working moment: a start in the evening, at lunch or on a
  day off counts from the start of the next working period.
- A result that lands exactly on the end of a period stays there (08:30 + 3.5 working hours is
  12:00 the same day, not 14:00).
"""

import math
import re
from collections.abc import Iterable, Iterator
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

UNITS = ("work_hours", "work_days", "hours")
WORK_UNITS = frozenset({"work_hours", "work_days"})

_ONE_DAY = timedelta(days=1)
_ONE_SECOND = timedelta(seconds=1)
_PERIOD_RE = re.compile(r"^(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$")


class NoWorkingTimeError(ValueError):
    """The calendar has no (or no more) working time to satisfy the request."""


@dataclass(frozen=True)
class WorkingHours:
    """Daily working periods (local wall-clock times) and the normal working weekdays.

    `weekdays` uses `date.weekday()` numbering: 0 = Monday ... 6 = Sunday.
    """

    periods: tuple[tuple[time, time], ...] = (
        (time(8, 30), time(12, 0)),
        (time(14, 0), time(17, 30)),
    )
    weekdays: frozenset[int] = frozenset(range(5))

    def __post_init__(self) -> None:
        # Normalise lists/sets so the instance is truly immutable.
        object.__setattr__(self, "periods", tuple((start, end) for start, end in self.periods))
        object.__setattr__(self, "weekdays", frozenset(self.weekdays))
        if not self.periods:
            raise ValueError("working hours need at least one period")
        previous_end: time | None = None
        for start, end in self.periods:
            if start.tzinfo is not None or end.tzinfo is not None:
                raise ValueError("working periods must be naive wall-clock times")
            if start >= end:
                raise ValueError(f"working period {start:%H:%M}-{end:%H:%M} ends before it starts")
            if previous_end is not None and start < previous_end:
                raise ValueError(
                    f"working period {start:%H:%M}-{end:%H:%M} overlaps or is out of order"
                )
            previous_end = end
        bad = sorted(d for d in self.weekdays if not 0 <= d <= 6)
        if bad:
            raise ValueError(f"weekdays must be 0 (Monday) to 6 (Sunday), got {bad}")

    @classmethod
    def from_spec(cls, spec: str, weekdays: Iterable[int] = range(5)) -> "WorkingHours":
        """Parse a spec such as "08:30-12:00,14:00-17:30" (comma-separated HH:MM-HH:MM)."""
        periods: list[tuple[time, time]] = []
        for part in spec.split(","):
            match = _PERIOD_RE.match(part.strip())
            if match is None:
                raise ValueError(
                    f"invalid working hours spec {spec!r}: {part.strip()!r} is not HH:MM-HH:MM"
                )
            h1, m1, h2, m2 = (int(g) for g in match.groups())
            try:
                periods.append((time(h1, m1), time(h2, m2)))
            except ValueError as exc:
                raise ValueError(f"invalid working hours spec {spec!r}: {exc}") from exc
        try:
            return cls(tuple(periods), frozenset(weekdays))
        except ValueError as exc:
            raise ValueError(f"invalid working hours spec {spec!r}: {exc}") from exc

    @property
    def daily_seconds(self) -> int:
        """Nominal working seconds of one working day (wall-clock lengths of the periods)."""
        total = sum(
            (
                datetime.combine(date.min, end) - datetime.combine(date.min, start)
                for start, end in self.periods
            ),
            timedelta(),
        )
        return total // _ONE_SECOND


class WorkCalendar:
    """An office calendar: working hours plus the dated exceptions to the weekly pattern.

    `holidays` are days off that would otherwise be working days (public holidays; weekend dates
    in the set are harmless). `workdays` are make-up working days (调休), days worked that would
    otherwise be off. A date may not be in both.
    """

    __slots__ = ("_last_day", "holidays", "hours", "tz", "workdays")

    def __init__(
        self,
        hours: WorkingHours,
        holidays: AbstractSet[date],
        workdays: AbstractSet[date],
        tz: tzinfo,
    ) -> None:
        clash = sorted(holidays & workdays)
        if clash:
            listed = ", ".join(d.isoformat() for d in clash)
            raise ValueError(f"dates are both holiday and make-up working day: {listed}")
        self.hours = hours
        self.holidays = frozenset(holidays)
        self.workdays = frozenset(workdays)
        self.tz = tz
        # Without normal working weekdays the only working days are the listed make-up days, so
        # working time runs out after the last one.
        self._last_day: date | None = (
            None if hours.weekdays else max(self.workdays, default=date.min)
        )

    def is_working_day(self, d: date) -> bool:
        if d in self.workdays:
            return True
        if d in self.holidays:
            return False
        return d.weekday() in self.hours.weekdays

    def add_working_seconds(self, start: datetime, seconds: int) -> datetime:
        """The earliest moment at which `seconds` of working time have elapsed after `start`.

        Zero seconds returns `start` itself. Raises NoWorkingTimeError if the calendar runs out
        of working time.
        """
        if seconds < 0:
            raise ValueError(f"seconds must not be negative, got {seconds}")
        current = _to_utc(start, "start")
        remaining = timedelta(seconds=seconds)
        if not remaining:
            return current
        day = current.astimezone(self.tz).date()
        while True:
            if self._last_day is not None and day > self._last_day:
                raise NoWorkingTimeError(
                    f"calendar has no working time left to add {seconds} s after {start}"
                )
            for period_start, period_end in self._periods(day):
                begin = max(period_start, current)
                if begin >= period_end:
                    continue
                available = period_end - begin
                if remaining <= available:
                    return begin + remaining
                remaining -= available
            day += _ONE_DAY

    def working_seconds_between(self, a: datetime, b: datetime) -> int:
        """Whole working seconds in [a, b]; 0 if b <= a."""
        a_utc = _to_utc(a, "a")
        b_utc = _to_utc(b, "b")
        if b_utc <= a_utc:
            return 0
        total = timedelta()
        day = a_utc.astimezone(self.tz).date()
        last = b_utc.astimezone(self.tz).date()
        while day <= last:
            for period_start, period_end in self._periods(day):
                overlap = min(period_end, b_utc) - max(period_start, a_utc)
                if overlap > timedelta():
                    total += overlap
            day += _ONE_DAY
        return total // _ONE_SECOND

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """Add `days` × the daily working time: the same working moment `days` working days later.

        5 working days from Tuesday 10:00 end the next Tuesday 10:00 when no day off lies between.
        A start outside working hours counts from the next period start, and the result stays at
        a period end: 1 working day from Friday 19:00 ends Monday 17:30.
        """
        if days < 0:
            raise ValueError(f"days must not be negative, got {days}")
        return self.add_working_seconds(start, days * self.hours.daily_seconds)

    def limit_seconds(self, value: float, unit: str) -> int:
        """Length of a limit: working seconds for work units, plain seconds for "hours"."""
        _check_unit(unit)
        if not (math.isfinite(value) and value > 0):
            raise ValueError(f"time limit must be a positive number, got {value!r}")
        per_unit = self.hours.daily_seconds if unit == "work_days" else 3600
        return round(value * per_unit)

    def deadline(self, start: datetime, value: float, unit: str) -> datetime:
        """Deadline of a limit of `value` `unit`s ("work_hours", "work_days" or "hours").

        "hours" is plain elapsed time regardless of the calendar (emergencies).
        """
        seconds = self.limit_seconds(value, unit)
        if unit == "hours":
            return _to_utc(start, "start") + timedelta(seconds=seconds)
        return self.add_working_seconds(start, seconds)

    def elapsed_limit_seconds(self, start: datetime, now: datetime, unit: str) -> int:
        """How much of a limit is used at `now`, in the measure of `limit_seconds`."""
        _check_unit(unit)
        if unit in WORK_UNITS:
            return self.working_seconds_between(start, now)
        return max(0, (_to_utc(now, "now") - _to_utc(start, "start")) // _ONE_SECOND)

    def _periods(self, day: date) -> Iterator[tuple[datetime, datetime]]:
        """The working periods of a local date as UTC intervals (none on a day off)."""
        if not self.is_working_day(day):
            return
        for start, end in self.hours.periods:
            yield (
                datetime.combine(day, start, self.tz).astimezone(UTC),
                datetime.combine(day, end, self.tz).astimezone(UTC),
            )


def _check_unit(unit: str) -> None:
    if unit not in UNITS:
        raise ValueError(f"unknown time limit unit {unit!r}; expected one of {', '.join(UNITS)}")


def _to_utc(dt: datetime, name: str) -> datetime:
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got {dt!r}")
    return dt.astimezone(UTC)
