"""The /metrics figures kept as running totals: each fact counted once, old or new."""

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from dispatch.metrics_figures import SETTLE, MetricsSnapshot, RunningTotals
from models.enums import CaseSource
from tests.dispatch.world import INSIDE_B2, World, build_world


async def scrape(world: World, totals: RunningTotals) -> MetricsSnapshot:
    async with world.casework.sessions() as session:
        return await totals.snapshot(session, world.clock.now)


async def test_running_totals_count_each_case_and_dispatch_once(any_engine: AsyncEngine) -> None:
    world = await build_world(any_engine)
    d = world.casework
    totals = RunningTotals()
    await d.intake.report(world.draft())  # a grid worker's report: filed and dispatched at once
    await d.intake.report(world.draft(who="", source=CaseSource.CITIZEN, category="0103"))
    first = await scrape(world, totals)  # both are younger than SETTLE: counted afresh
    assert first.cases_by_source == {"grid_worker": 1, "citizen": 1}
    assert first.latency.count == 1 and first.latency.total == 0.0
    assert first.cases_by_status["dispatched"] == 1 and first.cases_by_status["reported"] == 1

    world.clock.now += SETTLE + timedelta(minutes=1)  # now they are folded into the totals
    await d.intake.report(world.draft(at=INSIDE_B2))
    for _ in range(3):  # scraping again counts nothing twice
        again = await scrape(world, totals)
        assert again.cases_by_source == {"grid_worker": 2, "citizen": 1}
        assert again.latency.count == 2
        assert sum(again.cases_by_status.values()) == 3
    assert totals.cases_upto > 0 and totals.cases_by_source == {"grid_worker": 1, "citizen": 1}

    fresh = await scrape(world, RunningTotals())  # a new process reads the history once
    assert fresh == again
