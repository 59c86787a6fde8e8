"""Admin use cases that change the configuration: a category's time limit and office, routing
rules, the working calendar, group-chat invites and a new grid layer; and outbox messages sent
again. Each is one transaction. After a configuration change the dispatcher reloads its catalog
and grid index, so routing, deadlines and locating follow at once in this process."""

import asyncio
import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dispatch.casework import Casework
from dispatch.chat_admin import chat_target
from dispatch.core.errors import N_, InvalidInput, NotFound
from dispatch.geography import ImportSummary, import_layer, open_cases_in_removed_grids
from dispatch.registration import create_invite
from geo.boundaries import read_grid_layer
from geo.grids import GridFields
from models import GRID_LEVEL, CalendarDay, Category, OutboxMessage, RoutingRule
from models.enums import (
    CalendarDayKind,
    ChatKind,
    ClockStart,
    OutboxStatus,
    TimeLimitUnit,
)

MAX_TIME_LIMIT = 1000.0  # hours, working hours or working days: beyond that it is a typo
PRIORITIES = (1, 2, 3)  # urgent, normal, low
MAX_DAY_NAME = 100
RETRYABLE = (OutboxStatus.DEAD, OutboxStatus.UNDELIVERABLE)


@dataclass(frozen=True)
class CategoryChange:
    time_limit_value: float | None
    time_limit_unit: TimeLimitUnit | None
    clock_start: ClockStart
    priority: int
    default_department_id: int | None
    active: bool


@dataclass(frozen=True)
class LayerImport:
    summary: ImportSummary
    source_crs: str
    stranded_cases: int  # open cases in grids that left the layer: re-dispatch them
    stale_rules: int  # routing rules naming grids that left the layer


class Administration:
    def __init__(self, casework: Casework) -> None:
        self.casework = casework

    @asynccontextmanager
    async def _change(self) -> AsyncIterator[AsyncSession]:
        """One transaction; the dispatcher reloads its configuration once it is committed."""
        async with self.casework.sessions() as session, session.begin():
            yield session
        await self.casework.refresh()

    def _check_department(self, department_id: int | None) -> None:
        if department_id is not None and department_id not in self.casework.catalog.departments:
            raise InvalidInput(N_("Office %(id)s does not exist."), id=department_id)

    # -- categories -------------------------------------------------------------------

    async def update_category(self, code: str, change: CategoryChange) -> None:
        """New time limits apply to cases dispatched (or accepted) from now on."""
        value, unit = change.time_limit_value, change.time_limit_unit
        if (value is None) != (unit is None):
            raise InvalidInput(N_("Give both the time limit and its unit, or neither."))
        if value is not None and not (math.isfinite(value) and 0 < value <= MAX_TIME_LIMIT):
            raise InvalidInput(
                N_("The time limit must be more than 0 and at most %(max)d."),
                max=int(MAX_TIME_LIMIT),
            )
        if change.priority not in PRIORITIES:
            raise InvalidInput(N_("The priority must be 1 (urgent), 2 (normal) or 3 (low)."))
        self._check_department(change.default_department_id)
        async with self._change() as session:
            category = await session.scalar(select(Category).where(Category.code == code))
            if category is None:
                raise NotFound(N_("Unknown category %(code)s."), code=code)
            if category.parent_code is None and value is not None:
                raise InvalidInput(
                    N_("%(code)s is a main category; set time limits on its sub-categories."),
                    code=code,
                )
            category.time_limit_value, category.time_limit_unit = value, unit
            category.clock_start = change.clock_start
            category.priority = change.priority
            category.default_department_id = change.default_department_id
            category.active = change.active

    # -- routing rules ----------------------------------------------------------------

    async def add_routing_rule(
        self, category_code: str, area_code: str, department_id: int
    ) -> None:
        """Category (小类 or 大类) × grid, community, town or county → office."""
        catalog = self.casework.catalog
        category_code, area_code = category_code.strip(), area_code.strip()
        if category_code not in catalog.categories:
            raise InvalidInput(N_("Unknown category %(code)s."), code=category_code)
        if not area_code:
            raise InvalidInput(N_("Give the area code of the rule."))
        if area_code in self.casework.directory.info:
            level = GRID_LEVEL
        else:
            area = next((a for a in catalog.areas.values() if a.code == area_code), None)
            if area is None:
                raise InvalidInput(N_("Unknown area %(code)s in a routing rule."), code=area_code)
            level = area.level.value
        self._check_department(department_id)
        async with self._change() as session:
            taken = await session.scalar(
                select(RoutingRule.id).where(
                    RoutingRule.category_code == category_code, RoutingRule.area_code == area_code
                )
            )
            if taken is not None:
                raise InvalidInput(
                    N_("A rule for %(category)s in %(area)s exists already; delete it first."),
                    category=category_code,
                    area=area_code,
                )
            session.add(
                RoutingRule(
                    category_code=category_code,
                    area_code=area_code,
                    area_level=level,
                    department_id=department_id,
                )
            )

    async def delete_routing_rule(self, rule_id: int) -> None:
        async with self._change() as session:
            rule = await session.get(RoutingRule, rule_id)
            if rule is None:
                raise NotFound(N_("Routing rule %(id)s does not exist."), id=rule_id)
            await session.delete(rule)

    # -- the calendar -----------------------------------------------------------------

    async def set_calendar_day(self, day: date, kind: CalendarDayKind, name: str) -> None:
        """A public holiday, or a make-up working day (调休); an existing entry is replaced.
        Deadlines already set stay; cases dispatched from now on count with the new day."""
        name = name.strip()
        if len(name) > MAX_DAY_NAME:
            raise InvalidInput(N_("The name is longer than %(max)d characters."), max=MAX_DAY_NAME)
        weekdays = self.casework.settings.working_hours.weekdays
        if kind is CalendarDayKind.WORKDAY and day.weekday() in weekdays:
            raise InvalidInput(
                N_("%(day)s is a working day anyway; a make-up working day is a day off worked."),
                day=day.isoformat(),
            )
        async with self._change() as session:
            row = await session.get(CalendarDay, day) or CalendarDay(day=day)
            row.kind, row.name = kind, name
            session.add(row)

    async def remove_calendar_day(self, day: date) -> None:
        async with self._change() as session:
            row = await session.get(CalendarDay, day)
            if row is None:
                raise NotFound(N_("%(day)s is not in the calendar."), day=day.isoformat())
            await session.delete(row)

    # -- group chats ------------------------------------------------------------------

    async def create_chat_invite(
        self, kind: ChatKind, department_id: int | None = None, area_id: int | None = None
    ) -> str:
        """A one-time code that binds a group chat (sent there with /bind) to an office, or to
        the supervisors of an area (None: the county's)."""
        department_id, area_id = chat_target(self.casework, kind, department_id, area_id)
        async with self.casework.sessions() as session, session.begin():
            invite = await create_invite(
                session,
                self.casework.clock(),
                chat_kind=kind,
                department_id=department_id,
                area_id=area_id,
            )
            return invite.code

    # -- the grid layer ---------------------------------------------------------------

    async def import_grid_layer(
        self,
        path: Path,
        source_name: str,
        fields: GridFields = GridFields(),  # noqa: B008 - frozen dataclass, safe as a default
    ) -> LayerImport:
        """Reads and validates the file (geo.errors.GridLayerError lists every problem, and
        nothing is imported), then replaces the layer in one transaction."""
        layer = await asyncio.to_thread(read_grid_layer, path, fields)
        county = self.casework.directory.county_code
        found = sorted({f.county_code for f in layer.features})
        if county and found != [county]:
            raise InvalidInput(
                N_("The layer lies in county %(found)s, but this system serves %(county)s."),
                found=", ".join(found),
                county=county,
            )
        codes = {f.code for f in layer.features}
        async with self._change() as session:
            summary = await import_layer(session, layer, source_name)
            stranded = await open_cases_in_removed_grids(session, summary.layer_id)
            ruled = await session.scalars(
                select(RoutingRule.area_code).where(RoutingRule.area_level == GRID_LEVEL)
            )
            stale = sum(code not in codes for code in ruled.all())
        return LayerImport(summary, layer.source_crs, stranded, stale)

    # -- the outbox -------------------------------------------------------------------

    async def retry_message(self, message_id: int) -> None:
        """A dead-lettered or undeliverable message goes back to the delivery queue, as new."""
        async with self.casework.sessions() as session, session.begin():
            message = await session.get(OutboxMessage, message_id, with_for_update=True)
            if message is None:
                raise NotFound(N_("Message %(id)s does not exist."), id=message_id)
            if message.status not in RETRYABLE:
                raise InvalidInput(
                    N_("Message %(id)s is not undelivered; there is nothing to send again."),
                    id=message_id,
                )
            message.status = OutboxStatus.PENDING
            message.attempts = 0
            message.next_attempt_at = self.casework.clock()
            message.claimed_until = None
