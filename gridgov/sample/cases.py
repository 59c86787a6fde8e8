"""A few weeks of sample cases for the first run, made through the real use cases, so that
`make demo` opens on inboxes, lights and escalations rather than on an empty system."""

import random
from datetime import datetime, timedelta

import shapely
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from dispatch.casework import Casework
from dispatch.core.commands import Verify
from dispatch.core.lifecycle import Action
from dispatch.intake import ReportDraft
from models import Person
from models.enums import CaseSource, ConditionKind, Role

DESCRIPTIONS = {
    "01": ["路边垃圾堆放", "绿化带内有建筑垃圾", "河道漂浮物较多"],
    "02": ["电线杆上张贴小广告", "违规悬挂横幅"],
    "03": ["工地夜间施工扰民", "渣土车沿路遗撒"],
    "04": ["店外占道经营", "机动车占用人行道停放", "流动摊贩聚集"],
    "05": ["路面出现塌陷坑", "下水道井盖破损"],
    "06": ["餐馆油烟直排", "夜间噪声扰民"],
    "07": ["出租房消防通道堵塞", "邻里纠纷需调解"],
}


def _somewhere_in(polygon: shapely.Polygon, rng: random.Random) -> shapely.Point:
    """A random point of the grid, as a worker on patrol would stand."""
    x0, y0, x1, y1 = polygon.bounds
    while True:
        point = shapely.Point(rng.uniform(x0, x1), rng.uniform(y0, y1))
        if polygon.contains(point):
            return point


class _Clock:
    """The seeding's own clock, moved to each step's moment in the past."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


async def seed_cases(live: Casework, now: datetime, count: int = 60, seed: int = 7) -> int:
    """Reports spread over the last three weeks, at different stages of the loop."""
    rng = random.Random(seed)
    clock = _Clock(now)
    casework = Casework(live.sessions, live.directory, live.settings, clock)
    await casework.refresh()
    async with casework.sessions() as session:
        people = (await session.scalars(select(Person).options(selectinload(Person.grids)))).all()
    workers = [p for p in people if p.role is Role.GRID_WORKER and p.grids]
    members = {p.department_id: p for p in people if p.role is Role.OFFICE_MEMBER}
    categories = [c for c in casework.catalog.categories.values() if c.parent_code]
    created = 0
    for i in range(count):
        worker = rng.choice(workers)
        grid = rng.choice(worker.grids)
        point = _somewhere_in(shapely.from_wkb(grid.geometry_wkb), rng)
        category = rng.choice(categories)
        clock.at = reported = now - timedelta(hours=rng.uniform(2, 500))
        result = await casework.intake.report(
            ReportDraft(
                source=CaseSource.GRID_WORKER,
                lon=point.x,
                lat=point.y,
                category_code=category.code,
                reporter_id=worker.id,
                description=rng.choice(DESCRIPTIONS[category.parent_code or "01"]),
                external_ref=f"sample-{i}",
            )
        )
        created += result.created
        case = result.case
        member = members.get(case.department_id)
        if not result.created or member is None or i % 4 == 0:
            continue  # left waiting for acceptance
        clock.at = reported + timedelta(minutes=20)
        await casework.steps.act(Action.ACCEPT, case.id, member.id)
        if i % 3 == 0:
            continue  # being handled
        clock.at = min(now, reported + timedelta(hours=rng.uniform(1, 30)))
        await casework.steps.act(Action.RESOLVE, case.id, member.id, note="已处置完毕")
        if i % 2 == 0:
            closing = casework.catalog.conditions_for(category, ConditionKind.CLOSING)
            await casework.steps.act(Verify(tuple(c.id for c in closing)), case.id, worker.id)
    return created
