"""The configuration a use case needs, loaded once and refreshed when an admin changes it:
categories, departments, areas, routing rules and the working calendar."""

from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dispatch.core.routing import RoutingTable
from dispatch.core.workcalendar import WorkCalendar, WorkingHours
from models import Area, CalendarDay, Category, CategoryCondition, Department, RoutingRule
from models.enums import CalendarDayKind, ConditionKind


@dataclass(frozen=True)
class Catalog:
    categories: dict[str, Category]  # by code; detached rows, read-only
    categories_by_id: dict[int, Category]
    departments: dict[int, Department]
    departments_by_code: dict[str, Department]
    areas: dict[int, Area]
    routing: RoutingTable
    calendar: WorkCalendar
    # Filing and closing conditions (立案/结案条件) by (category code, kind), in order.
    conditions: dict[tuple[str, ConditionKind], list[CategoryCondition]] = field(
        default_factory=dict
    )

    def conditions_for(self, category: Category, kind: ConditionKind) -> list[CategoryCondition]:
        """The 大类's conditions, then the 小类's own."""
        codes = (category.parent_code, category.code) if category.parent_code else (category.code,)
        return [c for code in codes for c in self.conditions.get((code, kind), [])]

    def department_name(self, department_id: int | None, locale: str = "zh_CN") -> str:
        department = self.departments.get(department_id) if department_id else None
        if department is None:
            return ""
        return (
            department.name_en
            if locale.startswith("en") and department.name_en
            else department.name
        )

    def area_name(self, area_id: int | None) -> str:
        area = self.areas.get(area_id) if area_id else None
        return area.name if area else ""


async def load_catalog(session: AsyncSession, working_hours: WorkingHours, tz: ZoneInfo) -> Catalog:
    categories = list((await session.scalars(select(Category))).all())
    departments = list((await session.scalars(select(Department))).all())
    areas = list((await session.scalars(select(Area))).all())
    rules = (await session.scalars(select(RoutingRule))).all()
    days = (await session.scalars(select(CalendarDay))).all()
    conditions: dict[tuple[str, ConditionKind], list[CategoryCondition]] = {}
    for condition in (
        await session.scalars(
            select(CategoryCondition).order_by(CategoryCondition.position, CategoryCondition.id)
        )
    ).all():
        conditions.setdefault((condition.category_code, condition.kind), []).append(condition)
    area_code = {a.id: a.code for a in areas}
    routing = RoutingTable(
        rules={(r.category_code, r.area_code): r.department_id for r in rules},
        category_defaults={
            c.code: c.default_department_id for c in categories if c.default_department_id
        },
        area_offices={area_code[d.area_id]: d.id for d in departments if d.area_id in area_code},
    )
    calendar = WorkCalendar(
        working_hours,
        holidays={d.day for d in days if d.kind is CalendarDayKind.HOLIDAY},
        workdays={d.day for d in days if d.kind is CalendarDayKind.WORKDAY},
        tz=tz,
    )
    return Catalog(
        categories={c.code: c for c in categories},
        categories_by_id={c.id: c for c in categories},
        departments={d.id: d for d in departments},
        departments_by_code={d.code: d for d in departments},
        areas={a.id: a for a in areas},
        routing=routing,
        calendar=calendar,
        conditions=conditions,
    )
