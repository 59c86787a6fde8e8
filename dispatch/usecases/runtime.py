"""What every use case shares: the settings, the configuration in force, the unit of work (one
transaction: the case rows, their events and the outbox rows, or nothing) and the recording of
a step on a case."""

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from dispatch import notifications as notify
from dispatch.catalog import Catalog, load_catalog
from dispatch.core.actors import Actor
from dispatch.core.deadlines import DeadlinePlanner, EscalationPolicy
from dispatch.core.errors import N_, NotFound, PermissionDenied
from dispatch.core.lifecycle import Action, Step, StepArgument, Transition
from dispatch.core.routing import Place
from dispatch.core.workcalendar import WorkingHours
from dispatch.geography import GridDirectory
from dispatch.intake import PhotoRef
from dispatch.recipients import queue_step
from dispatch.snapshots import snapshot
from dispatch.supervision.followup import open_follow_up
from geo.index import Location
from models import Attachment, Case, CaseEvent, Person, utcnow
from models.enums import AreaLevel

# Photos that come with a step, by the step that brings them.
PHOTO_PURPOSE = {
    Action.RESOLVE: "result",
    Action.REWORK: "rework",
    Action.DUPLICATE_REPORT: "report",
}


@dataclass(frozen=True)
class CaseworkSettings:
    tz: ZoneInfo
    working_hours: WorkingHours
    policy: EscalationPolicy
    reopen_days: int = 7
    followup_days: int = 3  # working days after closure for the follow-up call (回访)
    duplicate_radius_m: float = 50.0
    duplicate_window: timedelta = timedelta(hours=72)
    max_extension: timedelta = timedelta(days=365)


@dataclass(frozen=True)
class UnitOfWork:
    session: AsyncSession
    notifier: notify.Notifier


class Runtime:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        directory: GridDirectory,
        settings: CaseworkSettings,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.sessions = sessions
        self.directory = directory
        self.settings = settings
        self.clock = clock
        self._catalog: Catalog | None = None

    async def refresh(self) -> None:
        """Reloads the catalog and the grid layer (after an admin change or an import)."""
        async with self.sessions() as session:
            self._catalog = await load_catalog(
                session, self.settings.working_hours, self.settings.tz
            )
            await self.directory.refresh(session)

    @property
    def catalog(self) -> Catalog:
        if self._catalog is None:
            raise RuntimeError("Casework.refresh() must run before the first use case")
        return self._catalog

    @property
    def planner(self) -> DeadlinePlanner:
        return DeadlinePlanner(
            self.catalog.calendar, self.settings.policy, self.catalog.categories_by_id
        )

    @property
    def transition(self) -> Transition:
        return Transition(self.planner, self.settings.reopen_days, self.settings.max_extension)

    @asynccontextmanager
    async def unit_of_work(
        self,
        recipients: dict[tuple[str, object], list[notify.Target]] | None = None,
        deliver_by: datetime | None = None,
    ) -> AsyncIterator[UnitOfWork]:
        """One transaction: the case rows, their events and the outbox rows, or nothing."""
        async with self.sessions() as session, session.begin():
            work = UnitOfWork(session, notify.Notifier(session, recipients, deliver_by))
            yield work
            await work.notifier.flush()

    # -- reading ----------------------------------------------------------------------

    async def actor(self, session: AsyncSession, person_id: int) -> Actor:
        """The acting person's role and scope (columns only: every use case asks)."""
        row = (
            await session.execute(
                select(Person.name, Person.role, Person.department_id, Person.area_id).where(
                    Person.id == person_id, Person.active.is_(True)
                )
            )
        ).first()
        if row is None:
            raise PermissionDenied(N_("Unknown or inactive user."))
        area_id = row.area_id
        if area_id is not None and self.catalog.areas[area_id].level is AreaLevel.COUNTY:
            area_id = None
        return Actor(person_id, row.name, row.role, row.department_id, area_id)

    async def case(self, session: AsyncSession, case_id: int, lock: bool = False) -> Case:
        case = await session.get(
            Case, case_id, options=[selectinload(Case.attachments)], with_for_update=lock
        )
        if case is None:
            raise NotFound(N_("Case %(id)s does not exist."), id=case_id)
        return case

    async def find_case(self, number_or_id: str) -> Case:
        async with self.sessions() as session:
            query = select(Case).options(selectinload(Case.attachments))
            text = number_or_id.strip().lstrip("#")
            case = await session.scalar(query.where(Case.number == text))
            if case is None and text.isdigit() and len(text) < 10:
                case = await session.scalar(query.where(Case.id == int(text)))
            if case is None:
                raise NotFound(N_("Case %(id)s does not exist."), id=text)
            return case

    def route(self, category_code: str, location: Location) -> int | None:
        """The office the routing rules name for a category at a place."""
        place = Place(
            location.grid_code,
            location.community_code,
            location.town_code,
            self.directory.county_code or "",
        )
        route = self.catalog.routing.route(category_code, place)
        return route.department_id if route else None

    def light(self, case: Case, now: datetime | None = None) -> str | None:
        return self.planner.light(case, now or self.clock())

    def snapshot(self, case: Case, now: datetime | None = None) -> dict[str, Any]:
        return snapshot(self.catalog, self.directory, case, self.light(case, now))

    # -- recording a step -------------------------------------------------------------

    async def apply(
        self,
        work: UnitOfWork,
        case: Case,
        action: Action,
        actor: Actor,
        now: datetime,
        note: str = "",
        photos: list[PhotoRef] | None = None,
        argument: StepArgument = None,
    ) -> CaseEvent:
        """Applies a step to the case, records it, attaches its photos and queues who hears.
        A verified citizen's or hotline case gets its follow-up (回访)."""
        step = self.advance(case, action, actor, now, note, argument)
        event = self.record(work.session, case, step, actor, now)
        if action is Action.VERIFY:
            open_follow_up(
                work.session, case, now, self.catalog.calendar, self.settings.followup_days
            )
        attach(case, event, photos or [], PHOTO_PURPOSE.get(action, "report"))
        await queue_step(work.notifier, case, step, actor, now, self.snapshot(case, now))
        return event

    def advance(
        self,
        case: Case,
        action: Action,
        actor: Actor,
        now: datetime,
        note: str = "",
        argument: StepArgument = None,
    ) -> Step:
        """What a step changes on the case (status, times, deadline, ladder), on a case loaded
        by the ORM (`apply`) or on one not yet written (the Core intake): the one place both
        go through."""
        step = self.transition.apply(case, action, actor, now, note, argument)
        case.updated_at = now
        return step

    def record(
        self, session: AsyncSession, case: Case, step: Step, actor: Actor, now: datetime
    ) -> CaseEvent:
        """Appends the step to the case's trail; written with the rest at the end of the work."""
        event = CaseEvent(**event_values(case, step, actor, now))
        session.add(event)
        return event


def event_values(case: Case, step: Step, actor: Actor, now: datetime) -> dict[str, Any]:
    return {
        "case_id": case.id,
        "action": step.action.value,
        "actor_id": actor.person_id,
        "actor_label": actor.label,
        "at": now,
        "from_status": step.from_status,
        "to_status": step.to_status,
        "department_id": case.department_id,
        "note": step.note,
        # The clock as it stood after the step, for the case file (案卷).
        "payload": {
            **step.payload,
            "deadline_at": case.deadline_at.isoformat() if case.deadline_at else None,
            "yellow_at": case.yellow_at.isoformat() if case.yellow_at else None,
        },
    }


def attach(case: Case, event: CaseEvent, photos: list[PhotoRef], purpose: str) -> None:
    """Photos join the case before anyone is told, so every message can show them."""
    for photo in photos:
        case.attachments.append(
            Attachment(
                event=event,
                purpose=purpose,
                storage=photo.storage,
                ref=photo.ref,
                content_type=photo.content_type,
                size_bytes=photo.size_bytes,
            )
        )
