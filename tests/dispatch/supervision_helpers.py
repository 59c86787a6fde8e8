"""Shared steps for the supervision tests: a closed case, the review checklist."""

from datetime import datetime

from dispatch.core.lifecycle import Action
from dispatch.supervision.review import ChecklistEntry, Verdict
from dispatch.supervision.service import Supervision, SupervisionSettings
from models import Case
from tests.dispatch.world import SHANGHAI, World

CHECKLIST = [
    ChecklistEntry("photos", "处置前后照片齐全", "Photos before and after", 30, 1),
    ChecklistEntry("in_time", "在时限内办结", "Handled within the limit", 30, 2),
    ChecklistEntry("reasons", "理由记录完整", "Reasons recorded", 20, 3),
    ChecklistEntry("category", "分类准确", "Correct category", 20, 4),
]


def at(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


def supervision(world: World) -> Supervision:
    return Supervision(world.casework.runtime, SupervisionSettings(rectification_days=5))


async def with_checklist(world: World, s: Supervision) -> None:
    for entry in CHECKLIST:
        await s.reviews.save_item(world.people["admin"], entry)


async def closed_case(world: World, day: int = 23, **draft: object) -> Case:
    """A grid worker's report handled by 环卫处 and verified the same morning."""
    d, p = world.casework, world.people
    world.clock.now = at(day, 9)
    case = (await d.intake.report(world.draft(**draft))).case
    world.clock.now = at(day, 9, 30)
    await d.steps.act(Action.ACCEPT, case.id, p["hw1"])
    world.clock.now = at(day, 10)
    await d.steps.act(Action.RESOLVE, case.id, p["hw1"], "清理完毕")
    world.clock.now = at(day, 11)
    return await d.steps.act(Action.VERIFY, case.id, p["worker"])


def all_pass(**failed: str) -> list[Verdict]:
    return [Verdict(e.code, e.code not in failed, failed.get(e.code, "")) for e in CHECKLIST]
