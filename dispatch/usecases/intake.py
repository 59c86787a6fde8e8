"""Intake: where a report would go (preview), the report itself (a new case, dispatched at
once when a registered grid worker sends it), the open cases it may duplicate, and a report
linked to an earlier case."""

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from dispatch.core.actors import AUTO_DISPATCH, Actor
from dispatch.core.errors import N_, InvalidInput, NotFound, OutsideJurisdiction, PermissionDenied
from dispatch.core.lifecycle import Action, Step
from dispatch.intake import DuplicateCandidate, ReportDraft, ReportPreview
from dispatch.usecases.runtime import Runtime, UnitOfWork, attach
from geo.coords import to_wgs84
from geo.index import Location
from models import OPEN_STATUSES, Case, CaseEvent
from models.enums import CaseSource, CaseStatus, LocationStatus, Role

EARTH_RADIUS_M = 6_371_008.8


@dataclass
class ReportResult:
    case: Case
    created: bool  # False: linked to an earlier case, or the same report sent again


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(h))


class Intake:
    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime

    def _locate(self, draft: ReportDraft) -> tuple[float, float, Location]:
        draft.validate()
        try:
            lon, lat = to_wgs84(draft.lon, draft.lat, draft.crs.value)
        except ValueError as exc:
            raise InvalidInput(N_("Invalid coordinates: %(reason)s"), reason=str(exc)) from exc
        location = self.rt.directory.locate(float(lon), float(lat))
        if location is None or location.status == LocationStatus.OUTSIDE:
            raise OutsideJurisdiction(lon=float(lon), lat=float(lat))
        return float(lon), float(lat), location

    def _category(self, code: str) -> Any:
        category = self.rt.catalog.categories.get(code)
        if category is None or not category.active:
            raise NotFound(N_("Unknown category %(code)s."), code=code)
        if category.parent_code is None:
            raise InvalidInput(N_("Choose a sub-category (小类) of %(code)s."), code=code)
        return category

    async def duplicates(
        self, session: AsyncSession, category_id: int, lon: float, lat: float, now: datetime
    ) -> list[DuplicateCandidate]:
        """Open cases of the same category nearby and recent, nearest first."""
        radius = self.rt.settings.duplicate_radius_m
        dlat = math.degrees(radius / EARTH_RADIUS_M)
        dlon = dlat / max(math.cos(math.radians(lat)), 1e-6)
        rows = (
            await session.execute(
                select(
                    Case.id, Case.number, Case.lon, Case.lat, Case.created_at, Case.description
                ).where(
                    Case.category_id == category_id,
                    Case.status.in_(OPEN_STATUSES),
                    Case.created_at >= now - self.rt.settings.duplicate_window,
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
        grid = self.rt.directory.info.get(location.grid_code or "")
        department_id = self.rt.route(category.code, location)
        now = self.rt.clock()
        deadline = None
        if category.time_limit_value and category.time_limit_unit:
            deadline = self.rt.catalog.calendar.deadline(
                now, category.time_limit_value, category.time_limit_unit.value
            )
        async with self.rt.sessions() as session:
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
            self.rt.catalog.department_name(department_id),
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
            async with self.rt.sessions() as session:
                earlier = await self._sent_before(session, draft)
            if earlier is None:
                raise
            return ReportResult(earlier, created=False)

    async def _report(self, draft: ReportDraft) -> ReportResult:
        category = self._category(draft.category_code)
        lon, lat, location = self._locate(draft)
        grid = self.rt.directory.info[location.grid_code] if location.grid_code else None
        now = self.rt.clock()
        async with self.rt.unit_of_work() as work:
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
            case.number = f"{now.astimezone(self.rt.settings.tz):%Y%m%d}{case.id:06d}"
            step = Step(
                Action.REPORT,
                None,
                CaseStatus.REPORTED,
                case.description,
                {"location_status": location.status, "source": draft.source.value},
            )
            event = self.rt.record(session, case, step, reporter, now)
            attach(case, event, draft.photos, "report")
            if reporter.role is Role.GRID_WORKER and draft.source is CaseSource.GRID_WORKER:
                await self._auto_dispatch(work, case, location, now)
            else:
                work.notifier.queue(
                    await work.notifier.dispatchers((case.community_id, case.town_id)),
                    "case.new_report",
                    step.key,
                    self.rt.snapshot(case, now),
                    case.id,
                    now,
                )
            return ReportResult(case, created=True)

    async def _reporter(self, session: AsyncSession, draft: ReportDraft) -> Actor:
        if draft.reporter_id is None:
            return Actor(None, (draft.reporter_contact or {}).get("name") or N_("citizen"), None)
        actor = await self.rt.actor(session, draft.reporter_id)
        if draft.source is CaseSource.GRID_WORKER and actor.role is not Role.GRID_WORKER:
            raise PermissionDenied(N_("Only grid workers report from the field."))
        return actor

    async def _auto_dispatch(
        self, work: UnitOfWork, case: Case, location: Location, now: datetime
    ) -> None:
        """Reports of registered grid workers are filed and dispatched by the routing rules."""
        department_id = self.rt.route(
            self.rt.catalog.categories_by_id[case.category_id].code, location
        )
        await self.rt.apply(work, case, Action.FILE, AUTO_DISPATCH, now)
        if department_id is not None:
            await self.rt.apply(
                work, case, Action.DISPATCH, AUTO_DISPATCH, now, argument=department_id
            )

    async def _link_duplicate(
        self, work: UnitOfWork, draft: ReportDraft, reporter: Actor, now: datetime
    ) -> Case:
        """Adds the report to an earlier open case. The case row is locked, so the same link
        sent twice from two instances is recorded once; the case's state does not change."""
        assert draft.duplicate_of is not None
        session = work.session
        case = await self.rt.case(session, draft.duplicate_of, lock=True)
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
        event = self.rt.record(session, case, step, reporter, now)
        attach(case, event, draft.photos, "report")
        work.notifier.queue(
            await work.notifier.person(reporter.person_id),
            "case.duplicate_linked",
            step.key,
            self.rt.snapshot(case, now),
            case.id,
            now,
        )
        return case
