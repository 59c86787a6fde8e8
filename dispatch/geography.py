"""The grid layer as the dispatcher sees it: persisting an imported layer (all or nothing)
and keeping the in-memory index of the layer in force, reloaded when a newer one lands."""

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from sqlalchemy import Row, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from dispatch.configuration import ensure_area_offices
from geo.grids import GridFeature, GridLayerData
from geo.index import GridIndex, Location
from models import OPEN_STATUSES, Area, Case, Grid, GridLayer
from models.enums import AreaLevel
from models.organisation import person_grids


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
    session: AsyncSession, layer: GridLayerData, source_name: str
) -> ImportSummary:
    """Replaces the grid layer inside the caller's transaction; the area hierarchy (and each
    new area's office, 属地兜底) is created or updated from the features. Grids that
    disappear are deleted unless cases refer to them, in which case they stay on record but
    leave the index (the new layer is in force)."""
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


class GridDirectory:
    """The grid index of the layer in force plus what the dispatcher needs about each grid."""

    def __init__(self, tolerance_m: float) -> None:
        self.tolerance_m = tolerance_m
        self.layer_id: int | None = None
        self.index: GridIndex | None = None
        self.info: dict[str, GridInfo] = {}
        self.by_id: dict[int, GridInfo] = {}
        self.outlines = b'{"type":"FeatureCollection","features":[]}'
        self.county_code: str | None = None

    async def latest_layer_id(self, session: AsyncSession) -> int | None:
        return await session.scalar(select(func.max(GridLayer.id)))

    async def refresh(self, session: AsyncSession) -> bool:
        """Loads the newest layer if it is not the one in memory; True when it changed."""
        latest = await self.latest_layer_id(session)
        if latest == self.layer_id:
            return False
        await self.load(session, latest)
        return True

    async def load(self, session: AsyncSession, layer_id: int | None) -> None:
        if layer_id is None:
            self.layer_id, self.index, self.info, self.by_id = None, None, {}, {}
            return
        community = Area.__table__.alias("community")
        town = Area.__table__.alias("town")
        rows = (
            await session.execute(
                select(
                    Grid.id,
                    Grid.code,
                    Grid.name,
                    Grid.geometry_wkb,
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
        ).all()
        polygons = shapely.from_wkb([r[3] for r in rows])
        features = [
            GridFeature(r[1], r[2], r[5], r[6], r[8], r[9], polygon)
            for r, polygon in zip(rows, polygons, strict=True)
        ]
        index = GridIndex(features, tolerance_m=self.tolerance_m) if features else None
        self.info = {r[1]: GridInfo(r[0], r[2], r[4], r[6], r[7], r[9]) for r in rows}
        self.by_id = {info.grid_id: info for info in self.info.values()}
        self.outlines = _outlines(rows, polygons)
        self.county_code = rows[0][8][:6] if rows else None
        self.index, self.layer_id = index, layer_id

    def locate(self, lon: float, lat: float) -> Location | None:
        """None when no layer has been imported yet."""
        return self.index.locate(lon, lat) if self.index else None


def _outlines(rows: Sequence[Row[Any]], polygons: np.ndarray) -> bytes:
    """The layer as GeoJSON for maps (offline there are no tiles: the grids are the base
    map), the outlines simplified to about a metre; built once per layer."""
    shapes = shapely.to_geojson(shapely.simplify(polygons, 1e-5, preserve_topology=True))
    features = [
        {
            "type": "Feature",
            "properties": {"code": r[1], "name": r[2], "community": r[6]},
            "geometry": json.loads(shape),
        }
        for r, shape in zip(rows, shapes, strict=True)
    ]
    collection = {"type": "FeatureCollection", "features": features}
    return json.dumps(collection, ensure_ascii=False, separators=(",", ":")).encode()
