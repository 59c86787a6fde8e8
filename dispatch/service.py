"""The use cases of the dispatch domain. Each public method is one transaction that writes
the case, its event and its outbox messages together, or nothing at all."""

import math
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, insert, or_, select, update
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from dispatch import notifications as notify
from dispatch.actors import SYSTEM, Actor
from dispatch.assessment import Dimension, figures
from dispatch.catalog import Catalog, load_catalog
from dispatch.deadlines import RUNNING, DeadlinePlanner, EscalationPolicy, Rung
from dispatch.errors import (
    N_,
    ConcurrentUpdate,
    IllegalTransition,
    InvalidInput,
    NotFound,
    OutsideJurisdiction,
    PermissionDenied,
)
from dispatch.geography import GridDirectory
from dispatch.intake import DuplicateCandidate, PhotoRef, ReportDraft, ReportPreview
from dispatch.lifecycle import Action, Step, Transition, check
from dispatch.routing import Place
from dispatch.workcalendar import WorkingHours
from geo.coords import to_wgs84
from geo.index import Location
from models import OPEN_STATUSES, Attachment, Case, CaseEvent, ChatBinding, Person, utcnow
from models.enums import AreaLevel, CaseSource, CaseStatus, ChatKind, LocationStatus, Role

EARTH_RADIUS_M = 6_371_008.8
AUTO_DISPATCH = Actor(person_id=None, name="system", role=Role.DISPATCHER)
# Photos that come with a step, by the step that brings them.
PHOTO_PURPOSE = {
    Action.RESOLVE: "result",
    Action.REWORK: "rework",
    Action.DUPLICATE_REPORT: "report",
}


@dataclass(frozen=True)
class DispatchSettings:
    tz: ZoneInfo
    working_hours: WorkingHours
    policy: EscalationPolicy
    reopen_days: int = 7
    duplicate_radius_m: float = 50.0
    duplicate_window: timedelta = timedelta(hours=72)


@dataclass(frozen=True)
class Escalation:
    case_number: str
    rung: Rung
    department: str


@dataclass(frozen=True)
class UnitOfWork:
    session: AsyncSession
    notifier: notify.Notifier


@dataclass
class ReportResult:
    case: Case
    created: bool  # False: linked to an earlier case, or the same report sent again


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(h))


class Dispatch:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        directory: GridDirectory,
        settings: DispatchSettings,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.sessions = sessions
        self.directory = directory
        self.settings = settings
        self.clock = clock
        self._catalog: Catalog | None = None

    # -- configuration ----------------------------------------------------------------

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
            raise RuntimeError("Dispatch.refresh() must run before the first use case")
        return self._catalog

    @property
    def planner(self) -> DeadlinePlanner:
        return DeadlinePlanner(
            self.catalog.calendar, self.settings.policy, self.catalog.categories_by_id
        )

    @property
    def transition(self) -> Transition:
        return Transition(self.planner, self.settings.reopen_days)

    @asynccontextmanager
    async def _unit_of_work(
        self, recipients: dict[tuple[str, object], list[notify.Target]] | None = None
    ) -> AsyncIterator[UnitOfWork]:
        """One transaction: the case rows, their events and the outbox rows, or nothing."""
        async with self.sessions() as session, session.begin():
            work = UnitOfWork(session, notify.Notifier(session, recipients))
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

    async def _case(self, session: AsyncSession, case_id: int, lock: bool = False) -> Case:
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

    def light(self, case: Case, now: datetime | None = None) -> str | None:
        return self.planner.light(case, now or self.clock())

    def snapshot(self, case: Case, now: datetime | None = None) -> dict[str, Any]:
        """What a message about the case shows; the reporter's identity is not part of it."""
        category = self.catalog.categories_by_id[case.category_id]
        parent = self.catalog.categories.get(category.parent_code or "")
        grid = self.directory.by_id.get(case.grid_id) if case.grid_id else None
        return {
            "case_id": case.id,
            "number": case.number,
            # The version the case will have once this unit of work is written.
            "version": case.version + (1 if sa_inspect(case).modified else 0),
            "status": case.status.value,
            "category_code": category.code,
            "category_zh": f"{parent.name_zh if parent else ''} / {category.name_zh}",
            "category_en": f"{parent.name_en if parent else ''} / {category.name_en}",
            "description": case.description,
            "address": case.address,
            "lon": case.lon,
            "lat": case.lat,
            "grid": grid.grid_name if grid else "",
            "community": self.catalog.area_name(case.community_id),
            "town": self.catalog.area_name(case.town_id),
            "department_id": case.department_id,
            "department": self.catalog.department_name(case.department_id),
            "department_en": self.catalog.department_name(case.department_id, "en"),
            "deadline": case.deadline_at.isoformat() if case.deadline_at else None,
            "light": self.light(case, now),
            "escalation_level": case.escalation_level,
            "rework_count": case.rework_count,
            "extension_requested_until": (
                case.extension_requested_until.isoformat()
                if case.extension_requested_until
                else None
            ),
            "photos": [
                {"storage": a.storage, "ref": a.ref, "purpose": a.purpose} for a in case.attachments
            ],
        }

    # -- intake -----------------------------------------------------------------------

    def _locate(self, draft: ReportDraft) -> tuple[float, float, Location]:
        draft.validate()
        try:
            lon, lat = to_wgs84(draft.lon, draft.lat, draft.crs.value)
        except ValueError as exc:
            raise InvalidInput(N_("Invalid coordinates: %(reason)s"), reason=str(exc)) from exc
        location = self.directory.locate(float(lon), float(lat))
        if location is None or location.status == LocationStatus.OUTSIDE:
            raise OutsideJurisdiction(lon=float(lon), lat=float(lat))
        return float(lon), float(lat), location

    def _category(self, code: str) -> Any:
        category = self.catalog.categories.get(code)
        if category is None or not category.active:
            raise NotFound(N_("Unknown category %(code)s."), code=code)
        if category.parent_code is None:
            raise InvalidInput(N_("Choose a sub-category (小类) of %(code)s."), code=code)
        return category

    def _route(self, category_code: str, location: Location) -> int | None:
        place = Place(
            location.grid_code,
            location.community_code,
            location.town_code,
            self.directory.county_code or "",
        )
        route = self.catalog.routing.route(category_code, place)
        return route.department_id if route else None

    async def duplicates(
        self, session: AsyncSession, category_id: int, lon: float, lat: float, now: datetime
    ) -> list[DuplicateCandidate]:
        """Open cases of the same category nearby and recent, nearest first."""
        radius = self.settings.duplicate_radius_m
        dlat = math.degrees(radius / EARTH_RADIUS_M)
        dlon = dlat / max(math.cos(math.radians(lat)), 1e-6)
        rows = (
            await session.execute(
                select(
                    Case.id, Case.number, Case.lon, Case.lat, Case.created_at, Case.description
                ).where(
                    Case.category_id == category_id,
                    Case.status.in_(OPEN_STATUSES),
                    Case.created_at >= now - self.settings.duplicate_window,
                    Case.lat.between(lat - dlat, lat + dlat),
                    Case.lon.between(lon - dlon, lon + dlon),
                )
            )
        ).all()
        found = [
            DuplicateCandidate(
                r.id, r.number, distance_m(lon, lat, r.lon, r.lat), r.created_at, r.description
            )
            for r in rows
        ]
        return sorted((d for d in found if d.distance_m <= radius), key=lambda d: d.distance_m)

    async def preview(self, draft: ReportDraft) -> ReportPreview:
        """Where the report would go, by when, and what it might duplicate; writes nothing."""
        category = self._category(draft.category_code)
        lon, lat, location = self._locate(draft)
        grid = self.directory.info.get(location.grid_code or "")
        department_id = self._route(category.code, location)
        now = self.clock()
        deadline = None
        if category.time_limit_value and category.time_limit_unit:
            deadline = self.catalog.calendar.deadline(
                now, category.time_limit_value, category.time_limit_unit.value
            )
        async with self.sessions() as session:
            candidates = await self.duplicates(session, category.id, lon, lat, now)
        return ReportPreview(
            lon,
            lat,
            location.status,
            location.grid_code,
            grid.grid_name if grid else "",
            grid.community_name if grid else "",
            grid.town_name if grid else "",
            department_id,
            self.catalog.department_name(department_id),
            deadline,
            candidates,
        )

    async def _sent_before(self, session: AsyncSession, draft: ReportDraft) -> Case | None:
        if not draft.external_ref:
            return None
        return await session.scalar(
            select(Case)
            .options(selectinload(Case.attachments))
            .where(Case.source == draft.source, Case.external_ref == draft.external_ref)
        )

    async def report(self, draft: ReportDraft) -> ReportResult:
        """A new case, or the earlier one when the same report (external_ref) comes again,
        even from another instance at the same moment (the unique key decides)."""
        try:
            return await self._report(draft)
        except IntegrityError:
            async with self.sessions() as session:
                earlier = await self._sent_before(session, draft)
            if earlier is None:
                raise
            return ReportResult(earlier, created=False)

    async def _report(self, draft: ReportDraft) -> ReportResult:
        category = self._category(draft.category_code)
        lon, lat, location = self._locate(draft)
        grid = self.directory.info[location.grid_code] if location.grid_code else None
        now = self.clock()
        async with self._unit_of_work() as work:
            session = work.session
            reporter = await self._reporter(session, draft)
            if draft.duplicate_of is not None:
                return ReportResult(await self._link_duplicate(work, draft, reporter, now), False)
            case = Case(
                source=draft.source,
                reporter_id=draft.reporter_id,
                reporter_contact=draft.reporter_contact,
                external_ref=draft.external_ref,
                lon=lon,
                lat=lat,
                raw_lon=draft.lon,
                raw_lat=draft.lat,
                raw_crs=draft.crs,
                accuracy_m=draft.accuracy_m,
                location_status=location.status,
                address=draft.address.strip(),
                description=draft.description.strip(),
                category_id=category.id,
                grid_id=grid.grid_id if grid else None,
                community_id=grid.community_id if grid else None,
                town_id=grid.town_id if grid else None,
                priority=category.priority,
                status=CaseStatus.REPORTED,
                created_at=now,
                updated_at=now,
                attachments=[],
            )
            session.add(case)
            await session.flush()  # the id, for the number; a resent report stops here
            case.number = f"{now.astimezone(self.settings.tz):%Y%m%d}{case.id:06d}"
            step = Step(
                Action.REPORT,
                None,
                CaseStatus.REPORTED,
                case.description,
                {"location_status": location.status, "source": draft.source.value},
            )
            event = self._record(session, case, step, reporter, now)
            self._attach(case, event, draft.photos, "report")
            if reporter.role is Role.GRID_WORKER and draft.source is CaseSource.GRID_WORKER:
                await self._auto_dispatch(work, case, location, now)
            else:
                work.notifier.queue(
                    await work.notifier.dispatchers((case.community_id, case.town_id)),
                    "case.new_report",
                    step.key,
                    self.snapshot(case, now),
                    case.id,
                    now,
                )
            return ReportResult(case, created=True)

    async def _reporter(self, session: AsyncSession, draft: ReportDraft) -> Actor:
        if draft.reporter_id is None:
            return Actor(None, (draft.reporter_contact or {}).get("name") or "citizen", None)
        actor = await self.actor(session, draft.reporter_id)
        if draft.source is CaseSource.GRID_WORKER and actor.role is not Role.GRID_WORKER:
            raise PermissionDenied(N_("Only grid workers report from the field."))
        return actor

    async def _auto_dispatch(
        self, work: UnitOfWork, case: Case, location: Location, now: datetime
    ) -> None:
        """Reports of registered grid workers are filed and dispatched by the routing rules."""
        department_id = self._route(self.catalog.categories_by_id[case.category_id].code, location)
        await self._apply(work, case, Action.FILE, AUTO_DISPATCH, now)
        if department_id is not None:
            await self._apply(
                work, case, Action.DISPATCH, AUTO_DISPATCH, now, department_id=department_id
            )

    async def _link_duplicate(
        self, work: UnitOfWork, draft: ReportDraft, reporter: Actor, now: datetime
    ) -> Case:
        """Adds the report to an earlier open case. The case row is locked, so the same link
        sent twice from two instances is recorded once; the case's state does not change."""
        assert draft.duplicate_of is not None
        session = work.session
        case = await self._case(session, draft.duplicate_of, lock=True)
        if case.status not in OPEN_STATUSES:
            raise InvalidInput(N_("Case %(number)s is no longer open."), number=case.number)
        if draft.external_ref and await session.scalar(
            select(CaseEvent.id).where(
                CaseEvent.case_id == case.id,
                CaseEvent.action == Action.DUPLICATE_REPORT.value,
                CaseEvent.payload["external_ref"].as_string() == draft.external_ref,
            )
        ):
            return case
        step = Step(
            Action.DUPLICATE_REPORT,
            case.status,
            case.status,
            draft.description.strip(),
            {"reporter_id": reporter.person_id, "external_ref": draft.external_ref},
        )
        event = self._record(session, case, step, reporter, now)
        self._attach(case, event, draft.photos, "report")
        work.notifier.queue(
            await work.notifier.person(reporter.person_id),
            "case.duplicate_linked",
            step.key,
            self.snapshot(case, now),
            case.id,
            now,
        )
        return case

    def _attach(self, case: Case, event: CaseEvent, photos: list[PhotoRef], purpose: str) -> None:
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

    # -- the lifecycle ----------------------------------------------------------------

    async def act(
        self,
        action: Action,
        case_id: int,
        person_id: int,
        note: str = "",
        expected_version: int | None = None,
        photos: list[PhotoRef] | None = None,
        **params: Any,
    ) -> Case:
        """One step of the closed loop by a person: checks, changes, records and notifies."""
        now = self.clock()
        try:
            async with self._unit_of_work() as work:
                session = work.session
                actor = await self.actor(session, person_id)
                case = await self._case(session, case_id)
                if expected_version is not None and case.version != expected_version:
                    raise ConcurrentUpdate(number=case.number)
                try:
                    check(action, actor, case, note)  # who and when, before what with
                    await self._resolve_params(session, case, action, params)
                    await self._apply(
                        work, case, action, actor, now, note, photos=photos or [], **params
                    )
                except IllegalTransition:
                    raise await self._explain(session, case, action) from None
            return case
        except StaleDataError:
            async with self.sessions() as session:
                case = await self._case(session, case_id)
                raise await self._explain(session, case, action) from None

    async def _resolve_params(
        self, session: AsyncSession, case: Case, action: Action, params: dict[str, Any]
    ) -> None:
        if action in (Action.DISPATCH, Action.TRANSFER):
            department_id = params.get("department_id")
            if department_id is None and action is Action.DISPATCH:
                location = self.directory.locate(case.lon, case.lat)
                department_id = (
                    self._route(self.catalog.categories_by_id[case.category_id].code, location)
                    if location
                    else None
                )
            if department_id not in self.catalog.departments:
                raise InvalidInput(N_("Choose the office that should handle the case."))
            params["department_id"] = department_id
        if action is Action.MERGE:
            into = params.pop("into_case_id", None)
            params["into"] = await self._case(session, into) if into else None
            if params["into"] is None:
                raise InvalidInput(N_("Choose the earlier case to merge into."))
        if action is Action.REQUEST_EXTENSION:
            until = params.get("until")
            if not isinstance(until, datetime) or until.tzinfo is None:
                raise InvalidInput(N_("Give the new deadline you ask for."))

    async def _explain(self, session: AsyncSession, case: Case, action: Action) -> Exception:
        """The message for a step that lost a race or came too late: who did what first."""
        last = await session.scalar(
            select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id.desc())
        )
        if action is Action.ACCEPT and case.status is CaseStatus.ACCEPTED and last is not None:
            return IllegalTransition(
                N_("Case %(number)s was already accepted by %(name)s."),
                number=case.number,
                name=last.actor_label,
            )
        if last is not None and last.from_status != last.to_status:
            return IllegalTransition(
                N_("Case %(number)s is now %(status)s (%(action)s by %(name)s)."),
                number=case.number,
                status=case.status.value,
                action=last.action,
                name=last.actor_label,
            )
        return IllegalTransition(number=case.number, status=case.status.value)

    async def _apply(
        self,
        work: UnitOfWork,
        case: Case,
        action: Action,
        actor: Actor,
        now: datetime,
        note: str = "",
        photos: list[PhotoRef] | None = None,
        **params: Any,
    ) -> CaseEvent:
        step = self.transition.apply(case, action, actor, now, note, **params)
        case.updated_at = now
        event = self._record(work.session, case, step, actor, now)
        self._attach(case, event, photos or [], PHOTO_PURPOSE.get(action, "report"))
        await self._notify(work.notifier, case, step, actor, now)
        return event

    def _record(
        self, session: AsyncSession, case: Case, step: Step, actor: Actor, now: datetime
    ) -> CaseEvent:
        """Appends the step to the case's trail; written with the rest at the end of the work."""
        event = CaseEvent(**self._event_values(case, step, actor, now))
        session.add(event)
        return event

    @staticmethod
    def _event_values(case: Case, step: Step, actor: Actor, now: datetime) -> dict[str, Any]:
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
            "payload": step.payload,
        }

    async def _notify(
        self,
        notifier: notify.Notifier,
        case: Case,
        step: Step,
        actor: Actor,
        now: datetime,
    ) -> None:
        """Who hears of each step. The office's card is re-sent (edited in place) on every
        step while the case is with an office."""
        r = notifier
        payload = {
            **self.snapshot(case, now),
            "action": step.action.value,
            "note": step.note,
            "actor": actor.label,
            **step.payload,
        }
        office = case.department_id
        areas = (case.community_id, case.town_id)
        sends: list[tuple[str, list[notify.Target]]] = []
        if step.action is Action.TRANSFER:
            sends.append(("case.card", await r.office(step.payload["from_department_id"])))
        if step.action not in (Action.FILE, Action.REMIND, Action.ESCALATE) and office:
            sends.append(("case.card", await r.office(office)))
        match step.action:
            case Action.RESOLVE:
                verifiers = await r.person(case.reporter_id) or await r.dispatchers(areas)
                sends.append(("case.to_verify", verifiers))
            case Action.RETURN | Action.REQUEST_EXTENSION:
                sends.append((f"case.{step.action.value}", await r.dispatchers(areas)))
            case Action.VERIFY | Action.MERGE | Action.VOID:
                sends.append((f"case.{step.action.value}", await r.person(case.reporter_id)))
            case Action.URGE | Action.REMIND:
                sends.append((f"case.{step.action.value}", await r.office(office)))
            case Action.ESCALATE:
                level = step.payload["level"]
                area = {1: case.community_id, 2: case.town_id, 3: None}[level]
                targets = await r.supervisors(area)
                if level == 1:
                    targets = targets + await r.office_heads(office)
                sends.append(("case.escalate", targets))
        for kind, targets in sends:
            notifier.queue(targets, kind, step.key, payload, case.id, now)

    # -- the sweep --------------------------------------------------------------------

    async def sweep(self, now: datetime | None = None, batch: int = 50) -> list[Escalation]:
        """Fires the escalation rungs that are due, a batch per transaction. Cases are claimed
        with SELECT … FOR UPDATE SKIP LOCKED, so several instances never fire a rung twice."""
        now = now or self.clock()
        fired: list[Escalation] = []
        if not await self._anything_due(now):
            return fired
        recipients: dict[tuple[str, object], list[notify.Target]] = {}
        while True:
            async with self._unit_of_work(recipients) as work:
                query = (
                    select(Case)
                    .options(selectinload(Case.attachments))
                    .where(Case.next_check_at <= now)
                    .order_by(Case.next_check_at)
                    .limit(batch)
                )
                if work.session.bind.dialect.name == "postgresql":
                    query = query.with_for_update(skip_locked=True, of=Case)
                cases = (await work.session.scalars(query)).all()
                events: list[dict[str, Any]] = []
                with work.session.no_autoflush:  # the batch is written in three statements
                    for case in cases:
                        fired += await self._escalate(work, case, now, events)
                    await self._save_batch(work.session, cases, events)
            if len(cases) < batch:
                return fired

    async def _anything_due(self, now: datetime) -> bool:
        """One autocommitted probe of the indexed `next_check_at`: the idle sweep (the usual
        case) opens no transaction and locks nothing."""
        async with self.sessions() as session:
            await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
            due = await session.scalar(select(Case.id).where(Case.next_check_at <= now).limit(1))
        return due is not None

    async def _escalate(
        self, work: UnitOfWork, case: Case, now: datetime, events: list[dict[str, Any]]
    ) -> list[Escalation]:
        fired = []
        for rung in self.planner.climb(case, now):
            action = Action.REMIND if rung is Rung.REMINDER else Action.ESCALATE
            step = Step(action, case.status, case.status, payload={"level": int(rung)})
            events.append(self._event_values(case, step, SYSTEM, now))
            await self._notify(work.notifier, case, step, SYSTEM, now)
            department = self.catalog.department_name(case.department_id)
            fired.append(Escalation(case.number or "", rung, department))
        return fired

    async def _save_batch(
        self, session: AsyncSession, cases: Sequence[Case], events: list[dict[str, Any]]
    ) -> None:
        """Writes the batch's ladder positions and events with one statement each. The rows
        are locked by the claim, so the version is bumped without the ORM's row-by-row check."""
        if not cases:
            return
        ladders = [
            {
                "case_id": c.id,
                "reminded": c.reminded,
                "level": c.escalation_level,
                "next_check": c.next_check_at,
            }
            for c in cases
        ]
        session.expunge_all()
        table = Case.__table__
        await session.execute(
            update(table)
            .where(table.c.id == bindparam("case_id"))
            .values(
                reminded=bindparam("reminded"),
                escalation_level=bindparam("level"),
                next_check_at=bindparam("next_check"),
                version=table.c.version + 1,
            ),
            ladders,
        )
        if events:
            await session.execute(insert(CaseEvent.__table__), events)

    # -- supervisors ------------------------------------------------------------------

    async def overdue(
        self, session: AsyncSession, area_id: int | None, now: datetime, limit: int = 50
    ) -> list[Case]:
        """Running cases past their deadline in an area (None: the county), oldest first."""
        query = (
            select(Case)
            .options(selectinload(Case.attachments))
            .where(Case.status.in_(RUNNING), Case.deadline_at < now)
            .order_by(Case.deadline_at)
            .limit(limit)
        )
        if area_id is not None:
            query = query.where(or_(Case.community_id == area_id, Case.town_id == area_id))
        return list((await session.scalars(query)).all())

    async def queue_digests(self, now: datetime | None = None) -> int:
        """The daily digest for each supervised area: the overdue list and yesterday's
        figures, queued through the outbox once per area and day."""
        now = now or self.clock()
        today = now.astimezone(self.settings.tz).date()
        start = datetime.combine(today - timedelta(days=1), time(), self.settings.tz)
        end = datetime.combine(today, time(), self.settings.tz)
        async with self._unit_of_work() as work:
            session = work.session
            areas = set(
                (
                    await session.scalars(
                        select(Person.area_id).where(
                            Person.role == Role.SUPERVISOR, Person.active.is_(True)
                        )
                    )
                ).all()
            ) | set(
                (
                    await session.scalars(
                        select(ChatBinding.area_id).where(ChatBinding.kind == ChatKind.SUPERVISORS)
                    )
                ).all()
            )
            for area_id in sorted(areas, key=lambda a: a or 0):
                area = self.catalog.areas.get(area_id) if area_id else None
                scoped = area_id if area and area.level is not AreaLevel.COUNTY else None
                overdue = await self.overdue(session, scoped, now, limit=20)
                dimension = (
                    Dimension.TOWN
                    if scoped is None or area.level is AreaLevel.TOWN
                    else Dimension.COMMUNITY
                )
                numbers = await figures(
                    session, dimension, start, end, now, keys=None if scoped is None else [scoped]
                )
                payload = {
                    "date": (today - timedelta(days=1)).isoformat(),
                    "area": area.name if area else "",
                    "overdue": [self.snapshot(c, now) for c in overdue],
                    "received": sum(f.received for f in numbers),
                    "closed": sum(f.closed for f in numbers),
                    "due": sum(f.due for f in numbers),
                    "closed_on_time": sum(f.closed_on_time for f in numbers),
                }
                work.notifier.queue(
                    await work.notifier.supervisors(area_id),
                    "digest",
                    f"digest:{today}:{area_id or 'county'}",
                    payload,
                    None,
                    now,
                )
            return await work.notifier.flush()
