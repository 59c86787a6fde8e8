"""The dashboard counts by local (GRIDGOV_TZ) days on both databases: a report made in
Shanghai at 07:30 belongs to that day, not to the previous UTC day (issue 10)."""

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from dispatch.queries.statistics import daily_counts
from tests.dispatch.world import SHANGHAI, build_world


async def test_days_are_local_days(any_engine: AsyncEngine) -> None:
    world = await build_world(any_engine)
    d = world.casework
    world.clock.now = datetime(2026, 11, 23, 7, 30, tzinfo=SHANGHAI)  # 22 Nov, 23:30 UTC
    await d.intake.report(world.draft())
    world.clock.now = datetime(2026, 11, 23, 23, 30, tzinfo=SHANGHAI)  # 23 Nov, 15:30 UTC
    await d.intake.report(world.draft(at=(120.015, 30.515)))
    async with d.sessions() as s:
        actor = await d.actor(s, world.people["admin"])
        days = await daily_counts(
            s,
            actor,
            datetime(2026, 11, 22, tzinfo=SHANGHAI),
            datetime(2026, 11, 25, tzinfo=SHANGHAI),
            "Asia/Shanghai",
        )
    assert [(day.day, day.received) for day in days] == [("2026-11-23", 2)]
