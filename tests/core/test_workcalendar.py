"""Tests for the working-time calendar, on China's 2026 holiday schedule."""

import math
import random
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from dispatch.core.workcalendar import NoWorkingTimeError, WorkCalendar, WorkingHours
from tests.china_2026 import DAYS_OFF_2026, MAKEUP_WORKDAYS_2026

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
HOUR = 3600

CAL = WorkCalendar(WorkingHours(), DAYS_OFF_2026, MAKEUP_WORKDAYS_2026, SHANGHAI)
BERLIN_CAL = WorkCalendar(WorkingHours(), set(), set(), BERLIN)


def sh(month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, second, tzinfo=SHANGHAI)


def be(month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=BERLIN)


# --- working hours and days -------------------------------------------------------------------


def test_default_working_hours() -> None:
    hours = WorkingHours()
    assert hours.periods == ((time(8, 30), time(12, 0)), (time(14, 0), time(17, 30)))
    assert hours.weekdays == frozenset(range(5))
    assert hours.daily_seconds == 7 * HOUR


def test_from_spec() -> None:
    hours = WorkingHours.from_spec(" 8:30-12:00 , 14:00 - 17:30")
    assert hours == WorkingHours()
    assert WorkingHours.from_spec("09:00-17:00", weekdays=range(6)).weekdays == frozenset(range(6))
    # Touching periods are allowed.
    assert WorkingHours.from_spec("08:00-12:00,12:00-13:00").daily_seconds == 5 * HOUR


def test_lists_are_normalised_to_immutable() -> None:
    hours = WorkingHours([(time(9), time(12))], {0, 1})  # type: ignore[arg-type]
    assert hours.periods == ((time(9), time(12)),)
    assert hours.weekdays == frozenset({0, 1})
    assert hash(hours) == hash(WorkingHours(((time(9), time(12)),), frozenset({0, 1})))


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "is not HH:MM-HH:MM"),
        ("8-12", "is not HH:MM-HH:MM"),
        ("08:30-12:00;14:00-17:30", "is not HH:MM-HH:MM"),
        ("08:30-12:00,", "is not HH:MM-HH:MM"),
        ("25:00-26:00", "hour must be in 0..23"),
        ("08:75-12:00", "minute must be in 0..59"),
        ("12:00-08:30", "ends before it starts"),
        ("08:30-08:30", "ends before it starts"),
        ("08:30-12:00,11:00-13:00", "overlaps or is out of order"),
        ("14:00-17:30,08:30-12:00", "overlaps or is out of order"),
    ],
)
def test_invalid_spec(spec: str, message: str) -> None:
    with pytest.raises(ValueError, match="invalid working hours spec") as excinfo:
        WorkingHours.from_spec(spec)
    assert message in str(excinfo.value)


def test_invalid_weekdays() -> None:
    with pytest.raises(ValueError, match=r"weekdays must be 0 \(Monday\) to 6 \(Sunday\)"):
        WorkingHours(weekdays=frozenset({0, 7}))


def test_empty_periods_rejected() -> None:
    with pytest.raises(ValueError, match="at least one period"):
        WorkingHours(periods=())


def test_aware_period_times_rejected() -> None:
    with pytest.raises(ValueError, match="naive"):
        WorkingHours(periods=((time(9, tzinfo=UTC), time(12, tzinfo=UTC)),))


def test_holiday_and_workday_clash() -> None:
    with pytest.raises(ValueError, match="both holiday and make-up working day: 2026-10-01"):
        WorkCalendar(WorkingHours(), {date(2026, 10, 1)}, {date(2026, 10, 1)}, SHANGHAI)


def test_is_working_day() -> None:
    assert CAL.is_working_day(date(2026, 3, 2))  # Monday
    assert not CAL.is_working_day(date(2026, 3, 7))  # ordinary Saturday
    assert not CAL.is_working_day(date(2026, 3, 8))  # ordinary Sunday
    assert not CAL.is_working_day(date(2026, 10, 1))  # National Day, Thursday
    assert not CAL.is_working_day(date(2026, 10, 3))  # National Day, Saturday
    assert CAL.is_working_day(date(2026, 9, 20))  # make-up Sunday
    assert CAL.is_working_day(date(2026, 10, 10))  # make-up Saturday
    assert CAL.is_working_day(date(2026, 2, 14))  # make-up Saturday before Spring Festival
    assert not CAL.is_working_day(date(2026, 2, 23))  # Spring Festival, Monday


def test_2026_has_248_working_days() -> None:
    days = [date(2026, 1, 1) + timedelta(days=i) for i in range(365)]
    assert sum(CAL.is_working_day(d) for d in days) == 248


# --- add_working_seconds ------------------------------------------------------------------------


def test_result_is_utc() -> None:
    result = CAL.add_working_seconds(sh(3, 2, 9), HOUR)
    assert result.tzinfo is UTC
    assert result == datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # 10:00 Shanghai


def test_within_one_period() -> None:
    assert CAL.add_working_seconds(sh(3, 2, 9), 2 * HOUR) == sh(3, 2, 11)
    assert CAL.add_working_seconds(sh(3, 2, 14, 15), 90 * 60) == sh(3, 2, 15, 45)


def test_across_lunch_break() -> None:
    assert CAL.add_working_seconds(sh(3, 2, 11), 2 * HOUR) == sh(3, 2, 15)


def test_result_at_period_end_stays_there() -> None:
    assert CAL.add_working_seconds(sh(3, 2, 8, 30), 3 * HOUR + 1800) == sh(3, 2, 12)
    assert CAL.add_working_seconds(sh(3, 2, 8, 30), 4 * HOUR) == sh(3, 2, 14, 30)
    assert CAL.add_working_seconds(sh(3, 2, 8, 30), 7 * HOUR) == sh(3, 2, 17, 30)
    assert CAL.add_working_seconds(sh(3, 2, 8, 30), 7 * HOUR + 1) == sh(3, 3, 8, 30, 1)


def test_zero_seconds_returns_start() -> None:
    assert CAL.add_working_seconds(sh(3, 7, 22), 0) == sh(3, 7, 22)


def test_across_weekend() -> None:
    # Friday 16:00-17:30 gives 1.5 h, Monday 08:30 + 2.5 h = 11:00.
    assert CAL.add_working_seconds(sh(3, 6, 16), 4 * HOUR) == sh(3, 9, 11)


def test_across_national_day() -> None:
    # Wed Sep 30: 1.5 h; Oct 1-7 off; Thu Oct 8 08:30 + 2.5 h.
    assert CAL.add_working_seconds(sh(9, 30, 16), 4 * HOUR) == sh(10, 8, 11)


def test_across_spring_festival() -> None:
    # Make-up Saturday Feb 14: 1.5 h; Feb 15-23 off; Tue Feb 24 08:30 + 2.5 h.
    assert CAL.add_working_seconds(sh(2, 14, 16), 4 * HOUR) == sh(2, 24, 11)


def test_on_makeup_working_days() -> None:
    assert CAL.add_working_seconds(sh(2, 13, 16), 4 * HOUR) == sh(2, 14, 11)  # Fri -> Sat
    assert CAL.add_working_seconds(sh(10, 9, 16), 4 * HOUR) == sh(10, 10, 11)  # Fri -> Sat
    assert CAL.add_working_seconds(sh(9, 19, 10), HOUR) == sh(9, 20, 9, 30)  # Sat -> make-up Sun
    assert CAL.add_working_seconds(sh(10, 10, 9), HOUR) == sh(10, 10, 10)  # within make-up Sat


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        (sh(3, 2, 20), sh(3, 3, 9, 30)),  # Monday evening
        (sh(3, 3, 7), sh(3, 3, 9, 30)),  # before work
        (sh(3, 3, 12, 30), sh(3, 3, 15)),  # lunch
        (sh(3, 3, 12), sh(3, 3, 15)),  # exactly at the end of the morning period
        (sh(3, 7, 10), sh(3, 9, 9, 30)),  # Saturday
        (sh(3, 8, 23, 59), sh(3, 9, 9, 30)),  # Sunday night
        (sh(10, 1, 10), sh(10, 8, 9, 30)),  # public holiday
    ],
)
def test_start_outside_working_time(start: datetime, expected: datetime) -> None:
    assert CAL.add_working_seconds(start, HOUR) == expected


def test_start_in_other_zone() -> None:
    # Friday 16:00 Shanghai given as 08:00 UTC.
    start = datetime(2026, 3, 6, 8, 0, tzinfo=UTC)
    assert CAL.add_working_seconds(start, 4 * HOUR) == sh(3, 9, 11)


def test_negative_seconds_rejected() -> None:
    with pytest.raises(ValueError, match="must not be negative"):
        CAL.add_working_seconds(sh(3, 2, 9), -1)


def test_naive_datetime_rejected() -> None:
    with pytest.raises(ValueError, match="start must be a timezone-aware datetime"):
        CAL.add_working_seconds(datetime(2026, 3, 2, 9), HOUR)
    with pytest.raises(ValueError, match="b must be a timezone-aware datetime"):
        CAL.working_seconds_between(sh(3, 2, 9), datetime(2026, 3, 2, 10))


def test_no_working_time_at_all() -> None:
    cal = WorkCalendar(WorkingHours(weekdays=frozenset()), set(), set(), SHANGHAI)
    with pytest.raises(NoWorkingTimeError, match="no working time left"):
        cal.add_working_seconds(sh(3, 2, 9), 1)
    assert not cal.is_working_day(date(2026, 3, 2))


def test_only_makeup_days_run_out() -> None:
    cal = WorkCalendar(WorkingHours(weekdays=frozenset()), set(), {date(2026, 3, 7)}, SHANGHAI)
    assert cal.add_working_seconds(sh(3, 2, 9), 7 * HOUR) == sh(3, 7, 17, 30)
    with pytest.raises(NoWorkingTimeError):
        cal.add_working_seconds(sh(3, 2, 9), 7 * HOUR + 1)
    with pytest.raises(NoWorkingTimeError):
        cal.add_working_seconds(sh(3, 8, 9), 1)


def test_long_span_is_day_by_day() -> None:
    # All 248 working days of 2026 from New Year's Day: ends on Thu Dec 31 at 17:30.
    assert CAL.add_working_days(sh(1, 1), 248) == sh(12, 31, 17, 30)
    assert CAL.working_seconds_between(sh(1, 1), sh(12, 31, 23, 59)) == 248 * 7 * HOUR


# --- working_seconds_between --------------------------------------------------------------------


def test_working_seconds_between() -> None:
    assert CAL.working_seconds_between(sh(3, 6, 16), sh(3, 9, 11)) == 4 * HOUR
    assert CAL.working_seconds_between(sh(3, 2, 11), sh(3, 2, 15)) == 2 * HOUR
    assert CAL.working_seconds_between(sh(3, 2, 12, 10), sh(3, 2, 13, 50)) == 0
    assert CAL.working_seconds_between(sh(10, 1), sh(10, 8)) == 0
    assert CAL.working_seconds_between(sh(9, 30, 17), sh(10, 8, 9)) == 3600
    # Sun Sep 20 is worked: Sat 00:00 -> Mon 00:00 holds one full working day.
    assert CAL.working_seconds_between(sh(9, 19), sh(9, 21)) == 7 * HOUR


def test_working_seconds_between_reversed_or_equal_is_zero() -> None:
    assert CAL.working_seconds_between(sh(3, 2, 15), sh(3, 2, 9)) == 0
    assert CAL.working_seconds_between(sh(3, 2, 10), sh(3, 2, 10)) == 0


@pytest.mark.parametrize("cal", [CAL, BERLIN_CAL], ids=["shanghai", "berlin"])
def test_between_is_inverse_of_add(cal: WorkCalendar) -> None:
    rng = random.Random(20260101)
    year_start = datetime(2026, 1, 1, tzinfo=cal.tz)
    for _ in range(500):
        start = year_start + timedelta(seconds=rng.randrange(365 * 86400))
        seconds = rng.randrange(1, 30 * 7 * HOUR + 1)
        end = cal.add_working_seconds(start, seconds)
        assert cal.working_seconds_between(start, end) == seconds
        # The result is the earliest such moment.
        assert cal.working_seconds_between(start, end - timedelta(seconds=1)) == seconds - 1


@pytest.mark.parametrize("cal", [CAL, BERLIN_CAL], ids=["shanghai", "berlin"])
def test_add_of_between_never_passes_b(cal: WorkCalendar) -> None:
    rng = random.Random(7)
    year_start = datetime(2026, 1, 1, tzinfo=cal.tz)
    for _ in range(300):
        a = year_start + timedelta(seconds=rng.randrange(365 * 86400))
        b = a + timedelta(seconds=rng.randrange(40 * 86400))
        n = cal.working_seconds_between(a, b)
        assert cal.add_working_seconds(a, n) <= b
        assert cal.add_working_seconds(a, n + 1) > b


# --- working days -------------------------------------------------------------------------------


def test_add_working_days_same_moment() -> None:
    assert CAL.add_working_days(sh(3, 3, 10), 5) == sh(3, 10, 10)  # Tue -> next Tue
    assert CAL.add_working_days(sh(3, 3, 10), 1) == sh(3, 4, 10)
    assert CAL.add_working_days(sh(3, 3, 12), 1) == sh(3, 4, 12)


def test_add_working_days_across_national_day() -> None:
    # Working days after Tue Sep 29: Sep 30, Oct 8, Oct 9, Sat Oct 10 (make-up), Mon Oct 12.
    assert CAL.add_working_days(sh(9, 29, 10), 5) == sh(10, 12, 10)


def test_add_working_days_outside_working_hours() -> None:
    # Friday evening counts from Monday 08:30; one full day ends Monday 17:30.
    assert CAL.add_working_days(sh(3, 6, 19), 1) == sh(3, 9, 17, 30)
    assert CAL.add_working_days(sh(3, 7, 10), 2) == sh(3, 10, 17, 30)
    # Lunch counts from 14:00; 7 h later is the end of the next morning.
    assert CAL.add_working_days(sh(3, 2, 13), 1) == sh(3, 3, 12)


def test_add_working_days_negative_rejected() -> None:
    with pytest.raises(ValueError, match="must not be negative"):
        CAL.add_working_days(sh(3, 2, 9), -1)


# --- deadlines and limits -----------------------------------------------------------------------


def test_deadline_work_hours() -> None:
    assert CAL.deadline(sh(3, 6, 16), 4, "work_hours") == sh(3, 9, 11)
    assert CAL.deadline(sh(3, 2, 9), 2, "work_hours") == sh(3, 2, 11)
    assert CAL.deadline(sh(3, 2, 11), 1.5, "work_hours") == sh(3, 2, 14, 30)


def test_deadline_work_days() -> None:
    assert CAL.deadline(sh(3, 3, 10), 5, "work_days") == sh(3, 10, 10)
    assert CAL.deadline(sh(9, 29, 10), 5, "work_days") == sh(10, 12, 10)
    assert CAL.deadline(sh(3, 3, 8, 30), 0.5, "work_days") == sh(3, 3, 12)


def test_deadline_plain_hours_ignores_calendar() -> None:
    assert CAL.deadline(sh(3, 6, 16), 2, "hours") == sh(3, 6, 18)
    assert CAL.deadline(sh(10, 1, 23), 2, "hours") == sh(10, 2, 1)  # National Day night
    assert CAL.deadline(sh(3, 7, 12, 30), 1.5, "hours") == sh(3, 7, 14)  # Saturday
    assert CAL.deadline(sh(3, 7, 12, 30), 1.5, "hours").tzinfo is UTC


@pytest.mark.parametrize("unit", ["minutes", "days", "", "WORK_HOURS"])
def test_unknown_unit(unit: str) -> None:
    message = "unknown time limit unit .*expected one of work_hours, work_days, hours"
    with pytest.raises(ValueError, match=message):
        CAL.deadline(sh(3, 2, 9), 1, unit)
    with pytest.raises(ValueError, match="unknown time limit unit"):
        CAL.limit_seconds(1, unit)
    with pytest.raises(ValueError, match="unknown time limit unit"):
        CAL.elapsed_limit_seconds(sh(3, 2, 9), sh(3, 2, 10), unit)


@pytest.mark.parametrize("value", [0, -1, -0.5, math.nan, math.inf])
@pytest.mark.parametrize("unit", ["work_hours", "work_days", "hours"])
def test_non_positive_value(value: float, unit: str) -> None:
    with pytest.raises(ValueError, match="time limit must be a positive number"):
        CAL.deadline(sh(3, 2, 9), value, unit)


def test_limit_seconds() -> None:
    assert CAL.limit_seconds(4, "work_hours") == 4 * HOUR
    assert CAL.limit_seconds(1.5, "work_hours") == 5400
    assert CAL.limit_seconds(5, "work_days") == 5 * 7 * HOUR
    assert CAL.limit_seconds(2, "hours") == 2 * HOUR


def test_elapsed_limit_seconds() -> None:
    start, now = sh(3, 6, 16), sh(3, 9, 11)
    assert CAL.elapsed_limit_seconds(start, now, "work_hours") == 4 * HOUR
    assert CAL.elapsed_limit_seconds(start, now, "work_days") == 4 * HOUR
    assert CAL.elapsed_limit_seconds(start, now, "hours") == 67 * HOUR
    assert CAL.elapsed_limit_seconds(now, start, "hours") == 0
    assert CAL.elapsed_limit_seconds(now, start, "work_hours") == 0


# --- a zone with daylight saving time -----------------------------------------------------------


def test_berlin_across_spring_forward() -> None:
    # Fri Mar 27 16:00 CET (15:00 UTC) + 4 h -> Mon Mar 30 11:00 CEST (09:00 UTC).
    result = BERLIN_CAL.add_working_seconds(be(3, 27, 16), 4 * HOUR)
    assert result == datetime(2026, 3, 30, 9, 0, tzinfo=UTC)
    assert result == be(3, 30, 11)
    assert BERLIN_CAL.working_seconds_between(be(3, 27, 16), be(3, 30, 11)) == 4 * HOUR
    assert BERLIN_CAL.add_working_days(be(3, 26, 10), 5) == be(4, 2, 10)


def test_berlin_across_fall_back() -> None:
    # Fri Oct 23 16:00 CEST (14:00 UTC) + 4 h -> Mon Oct 26 11:00 CET (10:00 UTC).
    result = BERLIN_CAL.add_working_seconds(be(10, 23, 16), 4 * HOUR)
    assert result == datetime(2026, 10, 26, 10, 0, tzinfo=UTC)
    assert BERLIN_CAL.add_working_days(be(10, 22, 10), 5) == be(10, 29, 10)


def test_berlin_plain_hours_are_elapsed_time() -> None:
    # 23:00 CET + 4 h across the spring gap is 04:00 CEST, not 03:00.
    assert BERLIN_CAL.deadline(be(3, 28, 23), 4, "hours") == be(3, 29, 4)
    # 23:00 CEST + 4 h across the autumn overlap is 02:00 CET (the second 02:00).
    fall = BERLIN_CAL.deadline(be(10, 24, 23), 4, "hours")
    assert fall == datetime(2026, 10, 25, 1, 0, tzinfo=UTC)
    assert BERLIN_CAL.elapsed_limit_seconds(be(10, 24, 23), fall, "hours") == 4 * HOUR


def test_berlin_night_period_across_transitions() -> None:
    # A period that straddles the transition is shorter (spring) or longer (autumn) that night.
    cal = WorkCalendar(
        WorkingHours.from_spec("01:00-04:00", weekdays=range(7)), set(), set(), BERLIN
    )
    assert cal.working_seconds_between(be(3, 29), be(3, 30)) == 2 * HOUR
    assert cal.working_seconds_between(be(10, 25), be(10, 26)) == 4 * HOUR
    assert cal.working_seconds_between(be(3, 28), be(3, 29)) == 3 * HOUR
    assert cal.add_working_seconds(be(3, 29, 1), 2 * HOUR) == be(3, 29, 4)
    # One nominal day (3 h) from Sat 04:00: Sunday gives 2 h, Monday 01:00 + 1 h.
    assert cal.add_working_days(be(3, 28, 4), 1) == be(3, 30, 2)
    # Autumn: 01:00 CEST (23:00 UTC) + 4 h ends at 04:00 CET (03:00 UTC).
    assert cal.add_working_seconds(be(10, 25, 1), 4 * HOUR) == datetime(
        2026, 10, 25, 3, 0, tzinfo=UTC
    )
