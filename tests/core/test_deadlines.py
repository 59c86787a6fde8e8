"""Deadlines, lights and the escalation ladder on plain objects (no database)."""

from datetime import timedelta

import pytest

from dispatch.core.deadlines import EscalationPolicy, Rung
from models.enums import CaseStatus, ClockStart, TimeLimitUnit
from tests.core.plain import CAL, case, planner, sh

RUNNING = CaseStatus.DISPATCHED


def started(unit: TimeLimitUnit, value: float, start, ratio: float = 0.8):  # type: ignore[no-untyped-def]
    p = planner(ratio, value=value, unit=unit)
    c = case(RUNNING)
    p.start(c, start)
    return p, c


# --- lights (the one implementation: the planner's, from the stored yellow and deadline) -------


def test_light_work_hours() -> None:
    start = sh(3, 2, 9)
    p, c = started(TimeLimitUnit.WORK_HOURS, 4, start)
    deadline = c.deadline_at
    assert deadline == sh(3, 2, 15)

    def light(now):  # type: ignore[no-untyped-def]
        return p.light(c, now)

    assert light(start) == "green"  # 0 %
    assert light(sh(3, 2, 13)) == "green"  # 75 %, lunch break
    assert light(sh(3, 2, 14, 9, 36)) == "green"  # 79 % = 11376 s
    assert light(sh(3, 2, 14, 12)) == "yellow"  # 80 % = 11520 s
    assert light(deadline) == "yellow"  # 100 %, not yet overdue
    assert light(deadline + timedelta(seconds=1)) == "red"
    assert light(sh(3, 3, 9)) == "red"


def test_light_work_days_over_weekend() -> None:
    start = sh(3, 6, 10)  # Friday
    p, c = started(TimeLimitUnit.WORK_DAYS, 1, start)
    assert c.deadline_at == sh(3, 9, 10)
    assert p.light(c, sh(3, 7, 12)) == "green"  # 5.5 h of 7 h
    assert p.light(c, sh(3, 9, 8, 35)) == "green"  # 79.8 %
    assert p.light(c, sh(3, 9, 8, 36)) == "yellow"  # 80 %
    assert p.light(c, sh(3, 9, 10, 1)) == "red"


def test_light_plain_hours() -> None:
    start = sh(3, 7, 16)  # Saturday: the calendar does not matter
    p, c = started(TimeLimitUnit.HOURS, 2, start)
    assert c.deadline_at == CAL.deadline(start, 2, "hours")
    assert p.light(c, start) == "green"
    assert p.light(c, sh(3, 7, 17, 34, 48)) == "green"  # 79 %
    assert p.light(c, sh(3, 7, 17, 36)) == "yellow"  # 80 %
    assert p.light(c, sh(3, 7, 18, 0, 1)) == "red"


def test_light_extended_deadline_and_custom_ratio() -> None:
    start = sh(3, 2, 9)
    extended = CAL.deadline(start, 8, "work_hours")  # Mon 6.5 h, Tue 08:30 + 1.5 h
    assert extended == sh(3, 3, 10)
    for ratio, expected in ((0.8, "green"), (0.5, "yellow")):  # 50 % used at Mon 15:00
        p, c = started(TimeLimitUnit.WORK_HOURS, 4, start, ratio)
        p.extend(c, extended)
        assert p.light(c, sh(3, 2, 15)) == expected


def test_light_invalid_ratio() -> None:
    for ratio in (0, -0.1, 1.5):
        with pytest.raises(ValueError, match="yellow_ratio"):
            EscalationPolicy(yellow_ratio=ratio)


def test_no_light_without_a_limit_or_once_closed() -> None:
    p, c = started(TimeLimitUnit.WORK_HOURS, 4, sh(3, 2, 9))
    c.status = CaseStatus.CLOSED
    assert p.light(c, sh(3, 2, 10)) is None
    assert p.light(case(RUNNING), sh(3, 2, 10)) is None


def test_a_case_waiting_for_verification_has_no_light() -> None:
    """The office's clock stopped when it reported the fix: a late verification is not the
    office's lateness, and the inbox must not show the case red against it."""
    p, c = started(TimeLimitUnit.WORK_HOURS, 4, sh(3, 2, 9))
    c.status, c.resolved_at = CaseStatus.RESOLVED, sh(3, 2, 10)
    assert p.light(c, sh(3, 5, 9)) is None


# --- the clock and the ladder ------------------------------------------------------------------


def test_the_clock_starts_at_acceptance_when_the_category_says_so() -> None:
    p = planner(clock_start=ClockStart.ACCEPT)
    c = case(RUNNING)
    p.on_dispatch(c, sh(3, 2, 9))
    assert c.deadline_at is None
    p.on_accept(c, sh(3, 2, 10))
    assert c.deadline_at == sh(3, 2, 16)


def test_suspended_working_time_does_not_count() -> None:
    p, c = started(TimeLimitUnit.WORK_HOURS, 4, sh(3, 2, 9))  # due Mon 15:00
    p.pause(c, sh(3, 2, 11))  # 2 h used, 2 h left
    assert c.remaining_work_seconds == 2 * 3600
    p.resume(c, sh(3, 4, 9))  # Wednesday 09:00
    assert c.deadline_at == sh(3, 4, 11)
    assert c.remaining_work_seconds is None


def test_each_rung_in_turn_then_none() -> None:
    p, c = started(TimeLimitUnit.WORK_HOURS, 4, sh(3, 2, 9))
    c.next_check_at = p.next_check(c)
    assert c.next_check_at == sh(3, 2, 14, 12)  # yellow
    assert p.climb(c, sh(3, 2, 14, 12)) == [Rung.REMINDER]
    assert c.next_check_at == sh(3, 2, 15)
    assert p.climb(c, sh(3, 2, 15)) == [Rung.LEVEL1]
    assert c.next_check_at == sh(3, 3, 10)  # 4 working hours later: Mon 2.5 h, Tue 1.5 h
    assert p.climb(c, sh(3, 3, 10)) == [Rung.LEVEL2]
    assert p.climb(c, sh(3, 3, 10)) == []
    assert c.next_check_at == sh(3, 4, 17)  # 16 working hours after the deadline
    assert p.climb(c, sh(3, 4, 17)) == [Rung.LEVEL3]
    assert c.next_check_at is None
    assert c.escalation_level == 3


def test_after_downtime_the_missed_levels_fire_at_once_without_the_reminder() -> None:
    p, c = started(TimeLimitUnit.WORK_HOURS, 4, sh(3, 2, 9))
    assert p.climb(c, sh(3, 9, 9)) == [Rung.LEVEL1, Rung.LEVEL2, Rung.LEVEL3]
    assert not c.reminded


def test_an_extension_lets_the_ladder_start_again() -> None:
    p, c = started(TimeLimitUnit.WORK_HOURS, 4, sh(3, 2, 9))
    p.climb(c, sh(3, 2, 15))
    assert c.escalation_level == 1
    p.extend(c, sh(3, 3, 17, 30))
    assert (c.escalation_level, c.reminded, c.deadline_at) == (0, False, sh(3, 3, 17, 30))
    assert p.next_check(c) == c.yellow_at


def test_handling_time_counts_working_seconds_to_the_resolution() -> None:
    p, c = started(TimeLimitUnit.WORK_HOURS, 4, sh(3, 2, 9))
    c.resolved_at = sh(3, 2, 14, 30)
    assert p.handling_seconds(c) == 3 * 3600 + 30 * 60
