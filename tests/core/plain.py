"""Plain stand-ins for the ORM rows the core works on: a case and a category are whatever has
the attributes the core reads and writes, so these tests need no database."""

from datetime import datetime
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

from dispatch.core.actors import Actor
from dispatch.core.deadlines import DeadlinePlanner, EscalationPolicy
from dispatch.core.workcalendar import WorkCalendar, WorkingHours
from models.enums import CaseStatus, ClockStart, Role, TimeLimitUnit
from tests.china_2026 import DAYS_OFF_2026, MAKEUP_WORKDAYS_2026

SHANGHAI = ZoneInfo("Asia/Shanghai")
CAL = WorkCalendar(WorkingHours(), DAYS_OFF_2026, MAKEUP_WORKDAYS_2026, SHANGHAI)
COMMUNITY, TOWN, OFFICE, OTHER_OFFICE = 11, 1, 5, 6


def sh(month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, second, tzinfo=SHANGHAI)


def category(
    value: float | None = 4,
    unit: TimeLimitUnit | None = TimeLimitUnit.WORK_HOURS,
    clock_start: ClockStart = ClockStart.DISPATCH,
) -> Any:
    return SimpleNamespace(time_limit_value=value, time_limit_unit=unit, clock_start=clock_start)


def planner(ratio: float = 0.8, **limit: Any) -> DeadlinePlanner:
    return DeadlinePlanner(
        CAL, EscalationPolicy(ratio, 4 * 3600, 16 * 3600), {1: category(**limit)}
    )


def case(status: CaseStatus = CaseStatus.REPORTED, **values: Any) -> Any:
    """A case row's columns, as a new report has them."""
    fields: dict[str, Any] = dict(
        id=100,
        number="20260302000100",
        status=status,
        category_id=1,
        reporter_id=7,
        department_id=None,
        community_id=COMMUNITY,
        town_id=TOWN,
        filed_at=None,
        dispatched_at=None,
        accepted_at=None,
        resolved_at=None,
        closed_at=None,
        voided_at=None,
        suspended_at=None,
        status_before_suspension=None,
        clock_started_at=None,
        deadline_at=None,
        yellow_at=None,
        remaining_work_seconds=None,
        next_check_at=None,
        escalation_level=0,
        reminded=False,
        extension_requested_until=None,
        extension_reason=None,
        rework_count=0,
        closed_on_time=None,
        handling_work_seconds=None,
        duplicate_of_id=None,
    )
    fields.update(values)
    return SimpleNamespace(**fields)


DISPATCHER = Actor(1, "调度员", Role.DISPATCHER, area_id=COMMUNITY)
MEMBER = Actor(2, "环卫一", Role.OFFICE_MEMBER, department_id=OFFICE)
REPORTER = Actor(7, "网格员", Role.GRID_WORKER)
OTHER_WORKER = Actor(8, "网格员二", Role.GRID_WORKER)
SUPERVISOR = Actor(9, "督办", Role.SUPERVISOR, area_id=TOWN)
