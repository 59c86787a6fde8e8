"""Cases as Open311 service requests (GeoReport v2): the list with its filter, and one by number."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from dispatch.queries.cases import CLOSED_STATUSES
from models import OPEN_STATUSES, Attachment, Case
from models.enums import CaseStatus


@dataclass(frozen=True)
class RequestFilter:
    numbers: Sequence[str] = ()
    category_ids: Sequence[int] = ()
    start: datetime | None = None
    end: datetime | None = None
    statuses: Sequence[str] = ()  # "open", "closed"
    limit: int = 1000


@dataclass(frozen=True, slots=True)
class Photo:
    storage: str
    ref: str


@dataclass(frozen=True, slots=True)
class ServiceRequestView:
    """What an Open311 answer shows of a case, read as plain columns: a 1,000-item answer
    builds no ORM objects."""

    number: str
    status: CaseStatus
    category_id: int
    department_id: int | None
    description: str
    address: str
    lon: float
    lat: float
    created_at: datetime
    updated_at: datetime
    deadline_at: datetime | None
    closed_at: datetime | None
    voided_at: datetime | None
    attachments: list[Photo]


# The id, then the view's columns in the view's own order.
_REQUEST_COLUMNS = [
    Case.id,
    *(getattr(Case, f) for f in ServiceRequestView.__dataclass_fields__ if f != "attachments"),
]


async def _request_views(
    session: AsyncSession, query: Select[tuple[object, ...]]
) -> list[ServiceRequestView]:
    rows = (await session.execute(query)).all()
    photos: dict[int, list[Photo]] = {row.id: [] for row in rows}
    if photos:
        found = await session.execute(
            select(Attachment.case_id, Attachment.storage, Attachment.ref)
            .where(Attachment.case_id.in_(list(photos)))
            .order_by(Attachment.id)
        )
        for case_id, storage, ref in found:
            photos[case_id].append(Photo(storage, ref))
    return [ServiceRequestView(*row[1:], attachments=photos[row.id]) for row in rows]


async def service_requests(session: AsyncSession, f: RequestFilter) -> list[ServiceRequestView]:
    """Cases as Open311 service requests, newest first. A list of numbers overrides the rest."""
    query = select(*_REQUEST_COLUMNS).where(Case.number.is_not(None))
    if f.numbers:
        query = query.where(Case.number.in_(list(f.numbers)))
    else:
        if f.category_ids:
            query = query.where(Case.category_id.in_(list(f.category_ids)))
        if f.start is not None:
            query = query.where(Case.created_at >= f.start)
        if f.end is not None:
            query = query.where(Case.created_at <= f.end)
        wanted = set(f.statuses)
        if wanted == {"open"}:
            query = query.where(Case.status.in_(OPEN_STATUSES))
        elif wanted == {"closed"}:
            query = query.where(Case.status.in_(CLOSED_STATUSES))
    query = query.order_by(Case.created_at.desc(), Case.id.desc()).limit(f.limit)
    return await _request_views(session, query)


async def service_request(session: AsyncSession, number: str) -> ServiceRequestView | None:
    views = await _request_views(session, select(*_REQUEST_COLUMNS).where(Case.number == number))
    return views[0] if views else None
