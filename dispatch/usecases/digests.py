"""What supervisors read: the overdue cases of an area, and the daily digest (the overdue
list and yesterday's figures) queued once per area and day."""

from datetime import datetime, time, timedelta

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from dispatch.assessment import Dimension, figures
from dispatch.core.deadlines import RUNNING
from dispatch.usecases.runtime import Runtime
from models import Case, ChatBinding, Person
from models.enums import AreaLevel, ChatKind, Role


class Digests:
    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime

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

    async def queue(self, now: datetime | None = None) -> int:
        """The daily digest for each supervised area: the overdue list and yesterday's
        figures, queued through the outbox once per area and day."""
        now = now or self.rt.clock()
        today = now.astimezone(self.rt.settings.tz).date()
        start = datetime.combine(today - timedelta(days=1), time(), self.rt.settings.tz)
        end = datetime.combine(today, time(), self.rt.settings.tz)
        async with self.rt.unit_of_work() as work:
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
                area = self.rt.catalog.areas.get(area_id) if area_id else None
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
                    "overdue": [self.rt.snapshot(c, now) for c in overdue],
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
