"""No English in the Chinese interface (issue 10): steps, statuses and the system acting on
its own are named in Chinese in errors and on cards."""

import pytest

from dispatch.core.errors import DomainError, explain
from dispatch.core.lifecycle import ACTION_NAMES, STATUS_NAMES, Action
from tests.dispatch.world import World

ASCII_WORDS = ("verify", "void", "dispatched", "system", "resolve")


async def test_errors_name_steps_and_statuses_in_chinese(world: World) -> None:
    d, p = world.casework, world.people
    case = (await d.intake.report(world.draft())).case
    with pytest.raises(DomainError) as role:
        await d.steps.act(Action.VOID, case.id, p["hw1"])
    assert explain(role.value, "zh_CN") == "您的角色不能对案件执行“作废”操作。"
    assert explain(role.value, "en") == "Your role may not void cases."
    with pytest.raises(DomainError) as status:
        await d.steps.act(Action.RESOLVE, case.id, p["hw1"], note="好了")
    assert "已派遣" in explain(status.value, "zh_CN")
    with pytest.raises(DomainError) as reason:
        await d.steps.act(Action.RETURN, case.id, p["hw1"])
    assert explain(reason.value, "zh_CN") == "“退回”需要填写理由。"
    for error in (role.value, status.value, reason.value):
        assert not any(word in explain(error, "zh_CN") for word in ASCII_WORDS)


def test_every_step_and_status_has_a_chinese_name() -> None:
    assert set(ACTION_NAMES) == set(Action)
    names = [*ACTION_NAMES.values(), *STATUS_NAMES.values()]
    untranslated = [m for m in names if explain(DomainError(m), "zh_CN") == m]
    assert untranslated == []
