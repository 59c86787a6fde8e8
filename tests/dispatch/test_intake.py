"""Report intake as written by SQLAlchemy Core, on both databases: the number, the row as the
lifecycle left it, the photos, and the same report sent again."""

from datetime import datetime, timedelta

from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from dispatch.intake import PhotoRef
from models import Attachment, Case, CaseEvent, OutboxMessage
from models.enums import CaseSource, CaseStatus
from tests.dispatch.world import SHANGHAI, build_world

PHOTOS = [PhotoRef("telegram", "file-1"), PhotoRef("local", "2026/11/a.jpg", "image/png", 2048)]


async def test_the_number_is_the_office_date_then_the_id(any_engine: AsyncEngine) -> None:
    """Asia/Shanghai is UTC+8: a report at 23:59 there is numbered for that day, one a
    second later for the next, although both are on the same UTC day."""
    world = await build_world(any_engine)
    world.clock.now = datetime(2026, 11, 23, 23, 59, 59, tzinfo=SHANGHAI)
    late = (await world.casework.intake.report(world.draft())).case
    world.clock.now += timedelta(seconds=1)
    early = (await world.casework.intake.report(world.draft())).case
    assert late.number == f"20261123{late.id:06d}"
    assert early.number == f"20261124{early.id:06d}"
    async with world.casework.sessions() as s:
        stored = dict((await s.execute(select(Case.id, Case.number))).all())
    assert stored == {late.id: late.number, early.id: early.number}


async def test_an_id_past_six_digits_is_kept_whole(engine: AsyncEngine) -> None:
    world = await build_world(engine)
    async with engine.begin() as conn:
        await conn.execute(text("ALTER SEQUENCE cases_id_seq RESTART WITH 1234567"))
    case = (await world.casework.intake.report(world.draft())).case
    assert (case.id, case.number) == (1234567, "202611231234567")


async def test_the_written_case_is_the_case_returned(any_engine: AsyncEngine) -> None:
    """The lifecycle runs on the case before it is written: every column stored is what the
    report and the auto file + dispatch made of it, and the caller sees the same."""
    world = await build_world(any_engine)
    result = await world.casework.intake.report(world.draft(description=" 井盖缺失 "))
    case = result.case
    assert case.status is CaseStatus.DISPATCHED and case.version == 1
    async with world.casework.sessions() as s:
        stored = await s.get(Case, case.id)
        assert stored is not None
        columns = [a.key for a in sa_inspect(Case).column_attrs]
        assert {k: getattr(stored, k) for k in columns} == {k: getattr(case, k) for k in columns}
        trail = (
            await s.execute(
                select(CaseEvent.action, CaseEvent.to_status, CaseEvent.department_id)
                .where(CaseEvent.case_id == case.id)
                .order_by(CaseEvent.id)
            )
        ).all()
    assert stored.description == "井盖缺失"
    assert stored.filed_at == stored.dispatched_at == world.clock.now
    assert stored.deadline_at is not None and stored.next_check_at is not None
    assert [tuple(r) for r in trail] == [
        ("report", CaseStatus.REPORTED, None),
        ("file", CaseStatus.FILED, None),
        ("dispatch", CaseStatus.DISPATCHED, case.department_id),
    ]


async def test_a_citizen_report_keeps_its_photos_once_when_sent_again(
    any_engine: AsyncEngine,
) -> None:
    world = await build_world(any_engine)
    draft = world.draft("", source=CaseSource.CITIZEN, photos=PHOTOS, external_ref="open311:abc")
    first = await world.casework.intake.report(draft)
    again = await world.casework.intake.report(draft)
    assert first.created and not again.created
    assert again.case.id == first.case.id and again.case.number == first.case.number
    assert [a.ref for a in first.case.attachments] == ["file-1", "2026/11/a.jpg"]
    async with world.casework.sessions() as s:
        report_event = await s.scalar(select(CaseEvent.id).where(CaseEvent.action == "report"))
        photos = (
            await s.execute(
                select(Attachment.event_id, Attachment.ref, Attachment.content_type)
                .where(Attachment.case_id == first.case.id)
                .order_by(Attachment.id)
            )
        ).all()
        messages = (await s.scalars(select(OutboxMessage))).all()
        cases = (await s.scalars(select(Case.id))).all()
    assert cases == [first.case.id]
    assert [tuple(p) for p in photos] == [
        (report_event, "file-1", "image/jpeg"),
        (report_event, "2026/11/a.jpg", "image/png"),
    ]
    assert messages and {m.kind for m in messages} == {"case.new_report"}
    assert all(m.payload["number"] == first.case.number for m in messages)
    assert all(len(m.payload["photos"]) == 2 for m in messages)
