"""An extension cannot reach past the configured limit (default 365 days): a far date is
refused with a clear error and changes nothing, instead of stalling or overflowing the
deadline arithmetic (issue 10)."""

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from dispatch.core.commands import RequestExtension
from dispatch.core.errors import InvalidInput, explain
from dispatch.core.lifecycle import Action
from models import CaseEvent
from tests.dispatch.world import SHANGHAI, World, build_world


@pytest.mark.parametrize("year", [2300, 9999])
async def test_a_far_extension_is_refused_and_changes_nothing(world: World, year: int) -> None:
    d, p = world.casework, world.people
    case = (await d.intake.report(world.draft())).case
    accepted = await d.steps.act(Action.ACCEPT, case.id, p["hw1"])
    far = datetime(year, 12, 31, 12, tzinfo=SHANGHAI)
    with pytest.raises(InvalidInput) as refused:
        await d.steps.act(RequestExtension(far), case.id, p["hw1"], note="太远")
    assert explain(refused.value, "zh_CN") == "新期限最多只能定在 365 天之内。"
    after = await d.find_case(case.number)
    assert (after.deadline_at, after.extension_requested_until) == (accepted.deadline_at, None)
    async with d.sessions() as s:
        steps = await s.scalar(select(func.count()).where(CaseEvent.case_id == case.id))
    assert steps == 4  # report, file, dispatch, accept


async def test_the_limit_is_a_setting(engine) -> None:
    world = await build_world(engine, max_extension=timedelta(days=30))
    d, p = world.casework, world.people
    case = (await d.intake.report(world.draft())).case
    await d.steps.act(Action.ACCEPT, case.id, p["hw1"])
    until = world.clock.now + timedelta(days=29)
    await d.steps.act(RequestExtension(until), case.id, p["hw1"], note="等材料")
    extended = await d.steps.act(Action.APPROVE_EXTENSION, case.id, p["dispatcher"])
    assert extended.deadline_at == until
    with pytest.raises(InvalidInput, match="at most 30 days"):
        await d.steps.act(
            RequestExtension(world.clock.now + timedelta(days=31)), case.id, p["hw1"], note="再等"
        )
