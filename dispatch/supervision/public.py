"""What the public transparency page (政务公开) shows: case counts and on-time rates by office
and town for recent months, and cases on a map with rounded coordinates. Built from columns
that hold nothing personal: never the reporter, the contact, the address, a photo or a name of
a person; a description only where its category allows publication."""

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dispatch.assessment import Dimension, figures
from dispatch.catalog import Catalog
from dispatch.supervision.scoring import month_range, previous_month
from models import Case
from models.enums import CaseStatus

MONTHS = 3
COORDINATE_DECIMALS = 3  # about 100 m: the street, not the door
MAP_LIMIT = 3000
HIDDEN = (CaseStatus.VOIDED, CaseStatus.MERGED)
OPEN = (
    CaseStatus.REPORTED,
    CaseStatus.FILED,
    CaseStatus.DISPATCHED,
    CaseStatus.ACCEPTED,
    CaseStatus.RETURNED,
    CaseStatus.RESOLVED,
    CaseStatus.SUSPENDED,
)


@dataclass(frozen=True)
class PublicRow:
    name: str
    received: int
    closed: int
    due: int
    on_time_rate: float | None


@dataclass(frozen=True)
class PublicMonth:
    month: date
    offices: list[PublicRow]
    towns: list[PublicRow]


@dataclass(frozen=True)
class PublicCase:
    lon: float
    lat: float
    category: str
    state: str  # open, closed
    month: str
    description: str


async def public_figures(
    session: AsyncSession, catalog: Catalog, tz: ZoneInfo, now: datetime
) -> list[PublicMonth]:
    """The last few months, the current one first."""
    month = now.astimezone(tz).date().replace(day=1)
    found = []
    for _ in range(MONTHS):
        start, end = month_range(month, tz)
        offices = await figures(session, Dimension.DEPARTMENT, start, end, now)
        towns = await figures(session, Dimension.TOWN, start, end, now)
        found.append(
            PublicMonth(
                month,
                [
                    PublicRow(
                        catalog.department_name(f.key), f.received, f.closed, f.due, f.on_time_rate
                    )
                    for f in offices
                    if f.key is not None
                ],
                [
                    PublicRow(catalog.area_name(f.key), f.received, f.closed, f.due, f.on_time_rate)
                    for f in towns
                    if f.key is not None
                ],
            )
        )
        month = previous_month(month)
    return found


async def public_cases(
    session: AsyncSession, catalog: Catalog, tz: ZoneInfo, now: datetime
) -> list[PublicCase]:
    first = now.astimezone(tz).date().replace(day=1)
    for _ in range(MONTHS - 1):
        first = previous_month(first)
    start, _end = month_range(first, tz)
    rows = (
        await session.execute(
            select(
                Case.lon, Case.lat, Case.category_id, Case.status, Case.created_at, Case.description
            )
            .where(Case.created_at >= start, Case.status.notin_(HIDDEN))
            .order_by(Case.created_at.desc())
            .limit(MAP_LIMIT)
        )
    ).all()
    found = []
    for lon, lat, category_id, status, created, description in rows:
        category = catalog.categories_by_id[category_id]
        found.append(
            PublicCase(
                round(lon, COORDINATE_DECIMALS),
                round(lat, COORDINATE_DECIMALS),
                category.name_zh,
                "open" if status in OPEN else "closed",
                f"{created.astimezone(tz):%Y-%m}",
                description if category.public_description else "",
            )
        )
    return found
