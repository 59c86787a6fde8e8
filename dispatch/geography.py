"""The grid layer as the dispatcher sees it: persisting an imported layer (all or nothing)
and keeping the in-memory index of the layer in force, reloaded when a newer one lands."""

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import shapely
from sqlalchemy import Row, Select, delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from dispatch.configuration import ensure_area_offices
from geo.grids import GridFeature, GridLayerData
from geo.index import STORED_FORMAT, GridIndex, Location
from geo.outlines import outlines_geojson
from models import OPEN_STATUSES, Area, Case, Grid, GridLayer, GridLayerIndex
from models.enums import AreaLevel
from models.organisation import person_grids

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GridInfo:
    grid_id: int
    grid_name: str
    community_id: int
    community_name: str
    town_id: int
    town_name: str


@dataclass(frozen=True)
class ImportSummary:
    layer_id: int
    grids: int
    towns_created: int
    communities_created: int
    grids_removed: int


def _upsert_area(
    session: AsyncSession,
    areas: dict[str, Area],
    code: str,
    name: str,
    level: AreaLevel,
    parent: Area | None,
) -> bool:
    """Creates the area or brings its name and place up to date; True when created."""
    area = areas.get(code)
    if area is None:
        areas[code] = Area(code=code, name=name, level=level, parent=parent)
        session.add(areas[code])
        return True
    area.name, area.level, area.parent = name, level, parent
    return False


async def import_layer(
    session: AsyncSession,
    layer: GridLayerData,
    source_name: str,
    on_step: Callable[[str], None] | None = None,
) -> ImportSummary:
    """Replaces the grid layer inside the caller's transaction; the area hierarchy (and each
    new area's office, 属地兜底) is created or updated from the features. Grids that
    disappear are deleted unless cases refer to them, in which case they stay on record but
    leave the index (the new layer is in force). The layer's index and map outlines are built
    (in a worker thread) and stored with it. on_step, when given, hears each step's name."""
    if on_step:
        on_step("storing the grids")
    areas = {a.code: a for a in (await session.scalars(select(Area))).all()}
    towns_created = communities_created = 0
    for f in layer.features:
        county = areas.get(f.county_code)
        if county is None:  # named by `gridgov config load`; the code will do until then
            _upsert_area(session, areas, f.county_code, f.county_code, AreaLevel.COUNTY, None)
        town, community = f.town_code, f.community_code
        towns_created += _upsert_area(
            session, areas, town, f.town_name, AreaLevel.TOWN, areas[f.county_code]
        )
        communities_created += _upsert_area(
            session, areas, community, f.community_name, AreaLevel.COMMUNITY, areas[town]
        )
    await session.flush()
    await ensure_area_offices(session)
    record = GridLayer(
        source_name=source_name, source_crs=layer.source_crs, grid_count=len(layer.features)
    )
    session.add(record)
    await session.flush()

    grids = {g.code: g for g in (await session.scalars(select(Grid))).all()}
    new_codes = {f.code for f in layer.features}
    for f in layer.features:
        minx, miny, maxx, maxy = f.polygon.bounds
        values = dict(
            name=f.name,
            community_id=areas[f.community_code].id,
            layer_id=record.id,
            geometry_wkb=shapely.to_wkb(f.polygon),
            min_lon=minx,
            min_lat=miny,
            max_lon=maxx,
            max_lat=maxy,
        )
        grid = grids.get(f.code)
        if grid is None:
            session.add(Grid(code=f.code, **values))
        else:
            for key, value in values.items():
                setattr(grid, key, value)
    gone = [g.id for code, g in grids.items() if code not in new_codes]
    removed = 0
    if gone:
        referenced = set(
            (
                await session.scalars(select(Case.grid_id).where(Case.grid_id.in_(gone)).distinct())
            ).all()
        )
        deletable = [gid for gid in gone if gid not in referenced]
        if deletable:
            await session.execute(delete(person_grids).where(person_grids.c.grid_id.in_(deletable)))
            await session.execute(delete(Grid).where(Grid.id.in_(deletable)))
        removed = len(gone)
    if on_step:
        on_step("building the index")
    prepared = await asyncio.to_thread(prepare_layer, layer.features)
    session.add(_index_row(record.id, prepared))
    await session.flush()
    return ImportSummary(
        record.id, len(layer.features), towns_created, communities_created, removed
    )


async def open_cases_in_removed_grids(session: AsyncSession, layer_id: int) -> int:
    """Open cases whose grid left the layer: they need re-dispatch (`gridgov locate --csv`)."""
    return (
        await session.scalar(
            select(func.count(Case.id))
            .join(Grid, Grid.id == Case.grid_id)
            .where(Grid.layer_id != layer_id, Case.status.in_(OPEN_STATUSES))
        )
        or 0
    )


@dataclass(frozen=True)
class PreparedLayer:
    """What is built once per layer and stored with it (models.GridLayerIndex)."""

    index_data: bytes
    outlines: bytes


def prepare_layer(features: Sequence[GridFeature]) -> PreparedLayer:
    """Builds the index and the map outlines: seconds of CPU for a large layer, so callers on
    an event loop run it in a worker thread."""
    return PreparedLayer(GridIndex(features).to_bytes(), outlines_geojson(features))


@dataclass(frozen=True)
class LoadedLayer:
    """The layer in force, as one value, so that a reload replaces all of it at once."""

    layer_id: int | None
    index: GridIndex | None
    info: dict[str, GridInfo]
    by_id: dict[int, GridInfo]
    outlines: bytes
    county_code: str | None


NO_LAYER = LoadedLayer(None, None, {}, {}, b'{"type":"FeatureCollection","features":[]}', None)
_INFO_ROWS_PER_STEP = 1_000  # the event loop serves others between steps
_BLOB_BYTES_PER_STEP = 4 << 20


class GridDirectory:
    """The grid index of the layer in force plus what the dispatcher needs about each grid.

    A reload reads the layer's stored index (built at import, or built now and stored when it is
    missing) and deserialises it in a worker thread, so a server keeps answering meanwhile;
    readers see the old layer until the new one replaces it in a single assignment.
    """

    def __init__(self, tolerance_m: float) -> None:
        self.tolerance_m = tolerance_m
        self.loaded = NO_LAYER
        self._reloading = asyncio.Lock()

    @property
    def layer_id(self) -> int | None:
        return self.loaded.layer_id

    @property
    def index(self) -> GridIndex | None:
        return self.loaded.index

    @property
    def info(self) -> dict[str, GridInfo]:
        return self.loaded.info

    @property
    def by_id(self) -> dict[int, GridInfo]:
        return self.loaded.by_id

    @property
    def outlines(self) -> bytes:
        return self.loaded.outlines

    @property
    def county_code(self) -> str | None:
        return self.loaded.county_code

    async def latest_layer_id(self, session: AsyncSession) -> int | None:
        return await session.scalar(select(func.max(GridLayer.id)))

    async def refresh(self, session: AsyncSession) -> bool:
        """Loads the newest layer if it is not the one in memory; True when it changed."""
        async with self._reloading:
            latest = await self.latest_layer_id(session)
            if latest == self.layer_id:
                return False
            await self.load(session, latest)
            return True

    async def load(self, session: AsyncSession, layer_id: int | None) -> None:
        if layer_id is None:
            self.loaded = NO_LAYER
            return
        started = time.perf_counter()
        self.loaded = await self._read(session, layer_id)
        log.info(
            "grid layer %s in force: %d grids, loaded in %.2f s",
            layer_id,
            len(self.loaded.info),
            time.perf_counter() - started,
        )

    async def _read(self, session: AsyncSession, layer_id: int) -> LoadedLayer:
        """The layer, built and stored first if it has no stored index of this format."""
        rows = await _info_rows(session, layer_id)
        if not rows:
            return LoadedLayer(layer_id, None, {}, {}, NO_LAYER.outlines, None)
        if await _stored_format(session, layer_id) == STORED_FORMAT:
            prepared = PreparedLayer(
                await _stored_bytes(session, GridLayerIndex.index_data, layer_id),
                await _stored_bytes(session, GridLayerIndex.outlines, layer_id),
            )
        else:
            prepared = await _prepare_and_store(session, layer_id)
        return await asyncio.to_thread(_loaded, layer_id, rows, prepared, self.tolerance_m)

    async def read_index(self, session: AsyncSession) -> GridIndex | None:
        """The index of the newest layer alone (bulk location needs no names nor outlines);
        None when no layer has been imported."""
        layer_id = await self.latest_layer_id(session)
        if layer_id is None:
            return None
        if await _stored_format(session, layer_id) == STORED_FORMAT:
            data = await _stored_bytes(session, GridLayerIndex.index_data, layer_id)
        else:
            data = (await _prepare_and_store(session, layer_id)).index_data
        return await asyncio.to_thread(GridIndex.from_bytes, data, self.tolerance_m)

    def locate(self, lon: float, lat: float) -> Location | None:
        """None when no layer has been imported yet."""
        index = self.index
        return index.locate(lon, lat) if index else None


def _info_query(layer_id: int) -> Select[Any]:
    community = Area.__table__.alias("community")
    town = Area.__table__.alias("town")
    return (
        select(
            Grid.id,
            Grid.code,
            Grid.name,
            community.c.id,
            community.c.code,
            community.c.name,
            town.c.id,
            town.c.code,
            town.c.name,
        )
        .join(community, community.c.id == Grid.community_id)
        .join(town, town.c.id == community.c.parent_id)
        .where(Grid.layer_id == layer_id)
    )


async def _info_rows(session: AsyncSession, layer_id: int) -> list[Row[Any]]:
    """The layer's grids with their community and town, a few thousand rows per step."""
    rows: list[Row[Any]] = []
    last_id = 0
    while True:
        page = (
            await session.execute(
                _info_query(layer_id)
                .where(Grid.id > last_id)
                .order_by(Grid.id)
                .limit(_INFO_ROWS_PER_STEP)
            )
        ).all()
        rows += page
        if len(page) < _INFO_ROWS_PER_STEP:
            return rows
        last_id = page[-1][0]


async def _features(session: AsyncSession, layer_id: int) -> list[GridFeature]:
    query = _info_query(layer_id).add_columns(Grid.geometry_wkb)
    rows = (await session.execute(query)).all()
    polygons = shapely.from_wkb([r.geometry_wkb for r in rows])
    return [
        GridFeature(r[1], r[2], r[4], r[5], r[7], r[8], polygon)
        for r, polygon in zip(rows, polygons, strict=True)
    ]


async def _stored_format(session: AsyncSession, layer_id: int) -> int | None:
    return await session.scalar(
        select(GridLayerIndex.format).where(GridLayerIndex.layer_id == layer_id)
    )


async def _stored_bytes(
    session: AsyncSession, column: InstrumentedAttribute[bytes], layer_id: int
) -> bytes:
    """A stored blob read a few megabytes per query: tens of megabytes in one result would
    hold the event loop while the driver decodes them."""
    chunks = []
    while True:
        start = sum(len(chunk) for chunk in chunks) + 1  # substr counts from 1
        chunk = await session.scalar(
            select(func.substr(column, start, _BLOB_BYTES_PER_STEP)).where(
                GridLayerIndex.layer_id == layer_id
            )
        )
        chunks.append(bytes(chunk or b""))
        if len(chunks[-1]) < _BLOB_BYTES_PER_STEP:
            return b"".join(chunks)


async def _prepare_and_store(session: AsyncSession, layer_id: int) -> PreparedLayer:
    """Builds a layer's index and outlines (a worker thread) when none of this format is stored
    (a layer imported before they were), and stores them in a transaction of their own; another
    instance may have stored them meanwhile, and then its copy stays."""
    prepared = await asyncio.to_thread(prepare_layer, await _features(session, layer_id))
    async with AsyncSession(session.bind) as writer:
        try:
            async with writer.begin():
                await writer.execute(
                    delete(GridLayerIndex).where(GridLayerIndex.layer_id == layer_id)
                )
                writer.add(_index_row(layer_id, prepared))
        except IntegrityError:
            log.info("grid layer %s: another instance stored its index first", layer_id)
    return prepared


def _index_row(layer_id: int, prepared: PreparedLayer) -> GridLayerIndex:
    return GridLayerIndex(
        layer_id=layer_id,
        format=STORED_FORMAT,
        index_data=prepared.index_data,
        outlines=prepared.outlines,
    )


def _loaded(
    layer_id: int, rows: Sequence[Row[Any]], prepared: PreparedLayer, tolerance_m: float
) -> LoadedLayer:
    info = {r[1]: GridInfo(r[0], r[2], r[3], r[5], r[6], r[8]) for r in rows}
    return LoadedLayer(
        layer_id=layer_id,
        index=GridIndex.from_bytes(prepared.index_data, tolerance_m),
        info=info,
        by_id={grid.grid_id: grid for grid in info.values()},
        outlines=prepared.outlines,
        county_code=rows[0][7][:6],
    )
