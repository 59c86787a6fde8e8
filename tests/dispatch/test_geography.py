"""A re-imported grid layer replaces the old one in one transaction, and a running server
takes it up without a restart."""

from shapely import box
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from dispatch.geography import import_layer
from geo.grids import GridFeature, GridLayerData
from gridgov.app import App
from gridgov.settings import Settings
from models import Area, Grid
from tests.dispatch.world import COMMUNITY_A, INSIDE_A1, TOWN, World


def moved_layer() -> GridLayerData:
    """Community A's first grid now covers what used to be two grids; a new community."""
    return GridLayerData(
        [
            GridFeature(
                COMMUNITY_A + "001",
                "合并网格",
                COMMUNITY_A,
                "英溪社区",
                TOWN,
                "武康街道",
                box(120.00, 30.50, 120.02, 30.51),
            ),
            GridFeature(
                TOWN + "003001",
                "新网格",
                TOWN + "003",
                "新社区",
                TOWN,
                "武康街道",
                box(120.00, 30.51, 120.02, 30.52),
            ),
        ],
        "EPSG:4326",
    )


async def test_a_running_server_picks_up_a_new_layer(world: World, engine: AsyncEngine) -> None:
    d = world.casework
    app = App(Settings(), engine, d.sessions, d)
    before = d.directory.layer_id
    assert d.directory.locate(120.015, 30.505).grid_code == COMMUNITY_A + "002"

    async with d.sessions() as session, session.begin():
        summary = await import_layer(session, moved_layer(), "v2")
    assert (summary.grids, summary.communities_created, summary.grids_removed) == (2, 1, 3)
    assert d.directory.layer_id == before  # not yet: the job has not run

    await app.refresh_configuration()  # the scheduler's job, every GRIDGOV_CONFIG_CHECK_INTERVAL_S
    assert d.directory.layer_id == summary.layer_id
    assert d.directory.locate(120.015, 30.505).grid_code == COMMUNITY_A + "001"
    assert d.directory.locate(120.015, 30.515).community_code == TOWN + "003"
    # the new community has its office, so 属地兜底 works there at once
    assert d.catalog.routing.area_offices[TOWN + "003"]
    async with d.sessions() as session:
        assert await session.scalar(select(func.count(Grid.id))) == 2
        assert await session.scalar(select(Area.name).where(Area.code == TOWN + "003")) == "新社区"


async def test_grids_with_cases_stay_on_record_after_they_leave_the_layer(world: World) -> None:
    d = world.casework
    case = (await d.intake.report(world.draft(at=INSIDE_A1))).case
    async with d.sessions() as session, session.begin():
        await import_layer(session, moved_layer(), "v2")
    async with d.sessions() as session:
        grid = await session.get(Grid, case.grid_id)
        assert grid is not None and grid.code == COMMUNITY_A + "001"
