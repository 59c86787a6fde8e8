"""Filing and closing conditions (立案/结案条件): verification fails naming what is not ticked,
a void names the filing condition the report fails, the 大类's conditions apply to its 小类."""

import pytest
from sqlalchemy import select

from dispatch.core.commands import Verify, Void
from dispatch.core.errors import InvalidInput, NotFound, PermissionDenied
from dispatch.core.lifecycle import Action
from dispatch.supervision.conditions import ConditionText
from dispatch.supervision.service import Supervision, SupervisionSettings
from models import Case, CaseEvent
from models.enums import CaseSource, CaseStatus, ConditionKind
from tests.dispatch.world import World

CLEARED = ConditionText("现场已清理，无残留", "Cleared, nothing left")
PHOTO = ConditionText("处置后照片与上报位置一致", "The result photo matches the place")
PUBLIC = ConditionText("位于公共区域", "In a public place")
SIZE = ConditionText("面积超过 0.5 平方米", "Over 0.5 m²")


async def configured(world: World) -> Supervision:
    s = Supervision(world.casework.runtime, SupervisionSettings())
    admin = world.people["admin"]
    await s.conditions.replace(admin, "01", ConditionKind.CLOSING, [CLEARED])
    await s.conditions.replace(admin, "0102", ConditionKind.CLOSING, [PHOTO])
    await s.conditions.replace(admin, "01", ConditionKind.FILING, [PUBLIC, SIZE])
    return s


async def resolved(world: World) -> Case:
    d, p = world.casework, world.people
    case = (await d.intake.report(world.draft())).case
    await d.steps.act(Action.ACCEPT, case.id, p["hw1"])
    return await d.steps.act(Action.RESOLVE, case.id, p["hw1"], "已清理")


async def last_event(world: World, case_id: int) -> CaseEvent:
    async with world.casework.sessions() as session:
        event = await session.scalar(
            select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id.desc())
        )
    assert event is not None
    return event


async def test_verification_needs_every_closing_condition(world: World) -> None:
    await configured(world)
    d, p = world.casework, world.people
    category = d.catalog.categories["0102"]
    closing = d.catalog.conditions_for(category, ConditionKind.CLOSING)
    assert [c.text_zh for c in closing] == [CLEARED.text_zh, PHOTO.text_zh]  # 大类 first
    case = await resolved(world)
    with pytest.raises(InvalidInput) as refused:
        await d.steps.act(Verify((closing[0].id,)), case.id, p["worker"])
    assert "处置后照片与上报位置一致" in str(refused.value)
    assert "现场已清理" not in str(refused.value)
    assert (await d.find_case(case.number or "")).status is CaseStatus.RESOLVED
    with pytest.raises(InvalidInput, match="现场已清理，无残留；处置后照片"):
        await d.steps.act(Action.VERIFY, case.id, p["worker"])
    closed = await d.steps.act(Verify(tuple(c.id for c in closing)), case.id, p["worker"])
    assert closed.status is CaseStatus.CLOSED
    event = await last_event(world, case.id)
    assert event.payload["conditions"] == [CLEARED.text_zh, PHOTO.text_zh]


async def test_a_void_names_the_filing_condition_not_met(world: World) -> None:
    await configured(world)
    d, p = world.casework, world.people
    draft = world.draft(who="", source=CaseSource.CITIZEN, reporter_contact={"name": "市民"})
    case = (await d.intake.report(draft)).case
    category = d.catalog.categories_by_id[case.category_id]
    filing = d.catalog.conditions_for(category, ConditionKind.FILING)
    with pytest.raises(InvalidInput, match="Pick the filing condition"):
        await d.steps.act(Action.VOID, case.id, p["dispatcher"], "不是问题")
    with pytest.raises(InvalidInput, match="Pick the filing condition"):
        await d.steps.act(Void(99999), case.id, p["dispatcher"], "不是问题")
    assert (await d.find_case(case.number or "")).status is CaseStatus.REPORTED
    voided = await d.steps.act(Void(filing[0].id), case.id, p["dispatcher"], "私人院内")
    assert voided.status is CaseStatus.VOIDED
    assert (await last_event(world, case.id)).payload["condition"] == PUBLIC.text_zh


async def test_categories_without_conditions_close_as_before(world: World) -> None:
    await configured(world)
    d, p = world.casework, world.people
    case = (await d.intake.report(world.draft(category="0701"))).case  # 社会治安: none configured
    await d.steps.act(Action.VOID, case.id, p["dispatcher"], "重复上报")


async def test_conditions_bad_input_and_permissions(world: World) -> None:
    s = await configured(world)
    admin = world.people["admin"]
    with pytest.raises(NotFound):
        await s.conditions.replace(admin, "9999", ConditionKind.FILING, [PUBLIC])
    with pytest.raises(InvalidInput, match="given twice"):
        await s.conditions.replace(admin, "01", ConditionKind.FILING, [PUBLIC, PUBLIC])
    with pytest.raises(InvalidInput, match="Chinese text"):
        await s.conditions.replace(admin, "01", ConditionKind.FILING, [ConditionText("", "x")])
    with pytest.raises(PermissionDenied):
        await s.conditions.replace(world.people["dispatcher"], "01", ConditionKind.FILING, [])
    filing = world.casework.catalog.conditions.get(("01", ConditionKind.FILING), [])
    assert [c.text_zh for c in filing] == [PUBLIC.text_zh, SIZE.text_zh]  # unchanged
    await s.conditions.replace(admin, "01", ConditionKind.FILING, [])
    assert world.casework.catalog.conditions.get(("01", ConditionKind.FILING), []) == []
