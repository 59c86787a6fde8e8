"""The case file (案卷): everything on the record of one case, in one structure that the
printable page and the export share. Read-only; never the reporter's identity."""

from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dispatch.catalog import Catalog
from models import Attachment, Case, CaseEvent, CaseReview, RectificationNotice
from models.enums import CaseStatus

CLOCK_RUNNING = (CaseStatus.DISPATCHED, CaseStatus.ACCEPTED, CaseStatus.RESOLVED)
EXTENSION_STEPS = ("request_extension", "approve_extension", "deny_extension")


@dataclass(frozen=True)
class FileEvent:
    at: str
    action: str
    actor: str
    from_status: str
    to_status: str
    department: str
    note: str
    deadline: str  # the deadline in force after the step
    light: str  # the light at the moment of the step
    photos: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class CaseFile:
    number: str
    status: str
    category: str
    description: str
    address: str
    place: str
    lon: float
    lat: float
    department: str
    created: str
    filed: str
    closed: str
    deadline: str
    closed_on_time: bool | None
    rework_count: int
    events: list[FileEvent]
    photos: dict[str, list[str]]  # by purpose: report, result, rework, rectification
    extensions: list[FileEvent]
    reviews: list[dict[str, Any]]
    notices: list[dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _local(value: datetime | str | None, tz: ZoneInfo) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return f"{value.astimezone(tz):%Y-%m-%d %H:%M}"


def light_at(event: CaseEvent) -> str:
    """Red past the deadline in force, yellow past the yellow point, green before; none while
    no clock runs."""
    deadline = event.payload.get("deadline_at")
    if not deadline or event.to_status not in CLOCK_RUNNING:
        return ""
    if event.at > datetime.fromisoformat(deadline):
        return "red"
    yellow = event.payload.get("yellow_at")
    return "yellow" if yellow and event.at >= datetime.fromisoformat(yellow) else "green"


async def case_file(
    session: AsyncSession,
    case: Case,
    catalog: Catalog,
    tz: ZoneInfo,
    photo_url: Any,
    locale: str = "zh_CN",
) -> CaseFile:
    """`photo_url(storage, ref)` turns an attachment into a link, or None when it has none."""
    events = (
        await session.scalars(
            select(CaseEvent)
            .where(CaseEvent.case_id == case.id)
            .order_by(CaseEvent.at, CaseEvent.id)
        )
    ).all()
    attachments = (
        await session.scalars(
            select(Attachment).where(Attachment.case_id == case.id).order_by(Attachment.id)
        )
    ).all()
    by_event: dict[int | None, list[str]] = defaultdict(list)
    by_purpose: dict[str, list[str]] = defaultdict(list)
    for a in attachments:
        url = photo_url(a.storage, a.ref)
        if url:
            by_event[a.event_id].append(url)
            by_purpose[a.purpose].append(url)
    rows = [
        FileEvent(
            at=_local(e.at, tz),
            action=e.action,
            actor=e.actor_label,
            from_status=e.from_status.value if e.from_status else "",
            to_status=e.to_status.value if e.to_status else "",
            department=catalog.department_name(e.department_id, locale),
            note=e.note,
            deadline=_local(e.payload.get("deadline_at"), tz),
            light=light_at(e),
            photos=by_event.get(e.id, []),
        )
        for e in events
    ]
    reviews = (await session.scalars(select(CaseReview).where(CaseReview.case_id == case.id))).all()
    notices = (
        await session.scalars(
            select(RectificationNotice)
            .where(RectificationNotice.case_id == case.id)
            .order_by(RectificationNotice.id)
        )
    ).all()
    category = catalog.categories_by_id[case.category_id]
    return CaseFile(
        number=case.number or "",
        status=case.status.value,
        category=f"{category.code} {category.name_en if locale == 'en' else category.name_zh}",
        description=case.description,
        address=case.address,
        place=" ".join(
            x for x in (catalog.area_name(case.town_id), catalog.area_name(case.community_id)) if x
        ),
        lon=case.lon,
        lat=case.lat,
        department=catalog.department_name(case.department_id, locale),
        created=_local(case.created_at, tz),
        filed=_local(case.filed_at, tz),
        closed=_local(case.closed_at, tz),
        deadline=_local(case.deadline_at, tz),
        closed_on_time=case.closed_on_time,
        rework_count=case.rework_count,
        events=rows,
        photos=dict(by_purpose),
        extensions=[r for r in rows if r.action in EXTENSION_STEPS],
        reviews=[
            {
                "at": _local(r.reviewed_at, tz),
                "score": r.score,
                "passed": r.passed,
                "items": r.items,
                "note": r.note,
            }
            for r in reviews
        ],
        notices=[
            {
                "id": n.id,
                "status": n.status.value,
                "department": catalog.department_name(n.department_id, locale),
                "issued": _local(n.issued_at, tz),
                "deadline": _local(n.deadline_at, tz),
                "requirements": n.requirements,
                "answer": n.answer,
                "answered": _local(n.answered_at, tz),
                "on_time": n.on_time,
            }
            for n in notices
        ],
    )
