"""Loading a county's configuration (departments, categories, routing rules, calendar,
people) from a JSON document, as an admin does on the first run. Idempotent: rows are
matched by their codes and updated."""

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dispatch.core.errors import N_, InvalidInput
from models import GRID_LEVEL, Area, CalendarDay, Category, Department, Grid, Person, RoutingRule
from models.enums import AreaLevel, CalendarDayKind, ClockStart, DepartmentKind, Role, TimeLimitUnit


def area_office_name(area: Area) -> str:
    if area.level is AreaLevel.TOWN:
        return f"{area.name}{'办事处' if area.name.endswith('街道') else '人民政府'}"
    return f"{area.name}{'居委会' if area.name.endswith('社区') else '村委会'}"


async def ensure_area_offices(session: AsyncSession) -> int:
    """Every community and town has an office that takes what no department owns (属地兜底)."""
    areas = (
        await session.scalars(
            select(Area).where(Area.level.in_([AreaLevel.TOWN, AreaLevel.COMMUNITY]))
        )
    ).all()
    have = set((await session.scalars(select(Department.area_id))).all())
    created = 0
    for area in areas:
        if area.id not in have:
            session.add(
                Department(
                    code=f"area-{area.code}",
                    name=area_office_name(area),
                    name_en=f"{area.code} office",
                    kind=DepartmentKind.AREA_OFFICE,
                    area_id=area.id,
                )
            )
            created += 1
    await session.flush()
    return created


async def apply_catalog(session: AsyncSession, data: dict[str, Any]) -> None:
    """Upserts the configuration in `data` inside the caller's transaction."""
    county = data.get("county")
    if county:
        area = await session.scalar(select(Area).where(Area.code == county["code"]))
        if area is None:
            session.add(Area(code=county["code"], name=county["name"], level=AreaLevel.COUNTY))
        else:
            area.name = county["name"]
    departments = {d.code: d for d in (await session.scalars(select(Department))).all()}
    for item in data.get("departments", []):
        dept = departments.get(item["code"]) or Department(code=item["code"])
        dept.name, dept.name_en = item["name"], item.get("name_en", "")
        dept.kind = DepartmentKind(item.get("kind", "functional"))
        departments[dept.code] = dept
        session.add(dept)
    await session.flush()
    await ensure_area_offices(session)
    departments = {d.code: d for d in (await session.scalars(select(Department))).all()}

    def department_id(code: str | None, where: str) -> int | None:
        if code is None:
            return None
        if code not in departments:
            raise InvalidInput(
                N_("Unknown department %(code)s in %(where)s."), code=code, where=where
            )
        return departments[code].id

    categories = {c.code: c for c in (await session.scalars(select(Category))).all()}
    for item in data.get("categories", []):
        cat = categories.get(item["code"]) or Category(code=item["code"])
        cat.parent_code = item.get("parent_code")
        cat.name_zh, cat.name_en = item["name_zh"], item["name_en"]
        cat.default_department_id = department_id(item.get("default_department"), item["code"])
        cat.time_limit_value = item.get("time_limit_value")
        unit = item.get("time_limit_unit")
        cat.time_limit_unit = TimeLimitUnit(unit) if unit else None
        cat.clock_start = ClockStart(item.get("clock_start", "dispatch"))
        cat.priority = item.get("priority", 2)
        cat.attributes = item.get("attributes")
        session.add(cat)
    await session.flush()

    grid_codes = set((await session.scalars(select(Grid.code))).all())
    areas = {a.code: a for a in (await session.scalars(select(Area))).all()}
    rules = {
        (r.category_code, r.area_code): r
        for r in (await session.scalars(select(RoutingRule))).all()
    }
    for item in data.get("routing_rules", []):
        code = item["area_code"]
        if code in grid_codes:
            level = GRID_LEVEL
        elif code in areas:
            level = areas[code].level.value
        else:
            raise InvalidInput(N_("Unknown area %(code)s in a routing rule."), code=code)
        key = (item["category_code"], code)
        rule = rules.get(key) or RoutingRule(category_code=key[0], area_code=code)
        rule.area_level = level
        rule.department_id = department_id(item["department"], f"rule {key}")
        session.add(rule)

    for item in data.get("calendar", []):
        day = date.fromisoformat(item["day"])
        row = await session.get(CalendarDay, day) or CalendarDay(day=day)
        row.kind, row.name = CalendarDayKind(item["kind"]), item.get("name", "")
        session.add(row)

    grids = {g.code: g for g in (await session.scalars(select(Grid))).all()}
    people = {p.username: p for p in (await session.scalars(select(Person))).all() if p.username}
    for item in data.get("people", []):
        person = people.get(item.get("username")) or Person(username=item.get("username"))
        person.name, person.role = item["name"], Role(item["role"])
        person.department_id = department_id(item.get("department"), item["name"])
        area_code = item.get("area_code")
        person.area_id = areas[area_code].id if area_code else None
        person.is_head = bool(item.get("is_head", False))
        person.phone = item.get("phone")
        session.add(person)
        await session.flush()
        await session.refresh(person, ["grids"])
        person.grids = [grids[c] for c in item.get("grids", []) if c in grids]
    await session.flush()
