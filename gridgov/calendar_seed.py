"""A year's public holidays and make-up working days (调休), as the State Council announced
them, taken from the `chinesecalendar` package into the working calendar, for an admin to
review on the console's calendar page."""

from datetime import date
from typing import NamedTuple

from chinese_calendar import constants
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import CalendarDay
from models.enums import CalendarDayKind


class OfficialDay(NamedTuple):
    day: date
    kind: CalendarDayKind
    name: str


def official_days(year: int, weekdays: frozenset[int]) -> list[OfficialDay]:
    """Holidays that fall on working weekdays and make-up days that fall on days off (a
    holiday on a weekend is off anyway); empty when the package does not know the year."""
    holidays = [
        OfficialDay(day, CalendarDayKind.HOLIDAY, _chinese(holiday))
        for day, holiday in constants.holidays.items()
        if day.year == year and day.weekday() in weekdays
    ]
    makeups = [
        OfficialDay(day, CalendarDayKind.WORKDAY, f"{_chinese(holiday)}调休")
        for day, holiday in constants.workdays.items()
        if day.year == year and day.weekday() not in weekdays
    ]
    return sorted(holidays + makeups)


def _chinese(holiday: str) -> str:
    """The package keys its days by the English name of the holiday."""
    return constants.Holiday(holiday).chinese


async def seed(session: AsyncSession, days: list[OfficialDay]) -> list[OfficialDay]:
    """Adds the days not entered yet and returns them; an entered day stays as it is."""
    entered = set(
        (
            await session.scalars(
                select(CalendarDay.day).where(CalendarDay.day.in_([d.day for d in days]))
            )
        ).all()
    )
    added = [d for d in days if d.day not in entered]
    session.add_all(CalendarDay(day=d.day, kind=d.kind, name=d.name) for d in added)
    return added
