"""A grid layer's index is built once, at import, stored with the layer, and loaded from there;
a reload runs beside the event loop and replaces the layer in force in one step."""

import asyncio
import json

import numpy as np
import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from dispatch.geography import GridDirectory, import_layer
from geo.index import STORED_FORMAT, GridIndex
from geo.synthetic import synthetic_grid_layer
from models import GridLayerIndex
from models.db import create_session_factory


def random_points(n: int, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.uniform(114.28, 114.32, n), rng.uniform(30.58, 30.62, n)


async def imported(engine: AsyncEngine, n_grids: int, seed: int) -> int:
    layer = synthetic_grid_layer(n_grids, width_km=4, height_km=4, seed=seed)
    sessions = create_session_factory(engine)
    async with sessions() as session, session.begin():
        return (await import_layer(session, layer, f"layer-{seed}.gpkg")).layer_id


async def stored_formats(engine: AsyncEngine) -> dict[int, int]:
    async with create_session_factory(engine)() as session:
        rows = await session.execute(select(GridLayerIndex.layer_id, GridLayerIndex.format))
        return {layer_id: format for layer_id, format in rows}


async def test_the_import_stores_the_index_a_directory_then_loads(any_engine: AsyncEngine):
    layer_id = await imported(any_engine, 150, seed=1)
    assert await stored_formats(any_engine) == {layer_id: STORED_FORMAT}

    directory = GridDirectory(tolerance_m=30.0)
    async with create_session_factory(any_engine)() as session:
        assert await directory.refresh(session)
    built = GridIndex(synthetic_grid_layer(150, width_km=4, height_km=4, seed=1).features)
    lon, lat = random_points(5_000)
    loaded = directory.index.locate_many(lon, lat)
    expected = built.locate_many(lon, lat)
    assert (loaded.grid_code == expected.grid_code).all()
    assert (loaded.status == expected.status).all()
    assert {"inside", "tolerance", "outside"} <= set(loaded.status)
    assert len(directory.info) == 150
    outlines = json.loads(directory.outlines)
    assert sorted(f["properties"]["code"] for f in outlines["features"]) == sorted(directory.info)


@pytest.mark.parametrize("damage", ["missing", "older format"])
async def test_a_layer_without_a_usable_stored_index_gets_one_on_load(
    engine: AsyncEngine, damage: str
) -> None:
    layer_id = await imported(engine, 120, seed=2)
    async with create_session_factory(engine)() as session, session.begin():
        if damage == "missing":  # a layer imported before indexes were stored
            await session.execute(delete(GridLayerIndex))
        else:
            await session.execute(update(GridLayerIndex).values(format=STORED_FORMAT - 1))

    directory = GridDirectory(tolerance_m=30.0)
    async with create_session_factory(engine)() as session:
        await directory.refresh(session)
        bulk_index = await directory.read_index(session)
    assert await stored_formats(engine) == {layer_id: STORED_FORMAT}
    lon, lat = random_points(2_000)
    expected = GridIndex(synthetic_grid_layer(120, width_km=4, height_km=4, seed=2).features)
    for index in (directory.index, bulk_index):
        assert (
            index.locate_many(lon, lat).grid_code == expected.locate_many(lon, lat).grid_code
        ).all()


async def test_lookups_during_a_reload_answer_from_the_old_layer_then_the_new(
    engine: AsyncEngine,
) -> None:
    old_id = await imported(engine, 400, seed=4)
    directory = GridDirectory(tolerance_m=30.0)
    sessions = create_session_factory(engine)
    async with sessions() as session:
        await directory.refresh(session)
    new_id = await imported(engine, 2_500, seed=5)
    # Without a stored index the reload also builds one: seconds of work in a worker thread.
    async with sessions() as session, session.begin():
        await session.execute(delete(GridLayerIndex).where(GridLayerIndex.layer_id == new_id))
    lon, lat = random_points(200, seed=9)
    old_codes = directory.index.locate_many(lon, lat).grid_code
    new_index = GridIndex(synthetic_grid_layer(2_500, width_km=4, height_km=4, seed=5).features)
    new_codes = new_index.locate_many(lon, lat).grid_code
    assert (old_codes != new_codes).sum() > 100

    async def reload() -> None:
        async with sessions() as session:
            await directory.refresh(session)

    reloading = asyncio.create_task(reload())
    seen_while_loading = []
    while not reloading.done():
        # What one handler sees between two awaits: the layer id, its grids and the answers
        # must all come from one layer.
        layer_id = directory.layer_id
        codes = np.array(
            [directory.locate(x, y).grid_code for x, y in zip(lon[:50], lat[:50], strict=True)]
        )
        known = all(code in directory.info for code in codes if code)
        seen_while_loading.append((layer_id, codes, known))
        await asyncio.sleep(0.002)
    await reloading

    print("OBSERVED", len(seen_while_loading))
    assert len(seen_while_loading) >= 10  # the event loop kept serving during the load
    for layer_id, codes, known in seen_while_loading:
        expected = old_codes[:50] if layer_id == old_id else new_codes[:50]
        assert layer_id in (old_id, new_id) and (codes == expected).all() and known
    assert seen_while_loading[0][0] == old_id
    assert directory.layer_id == new_id
    assert (directory.index.locate_many(lon, lat).grid_code == new_codes).all()
