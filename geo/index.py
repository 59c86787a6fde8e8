"""GridIndex: which grid, community and town a WGS84 point belongs to.

A point covered by grids (inside or on the boundary) belongs to the one with the lowest grid
code, so a point on a shared boundary always gets the same answer. A point outside every grid
but within the GPS tolerance of one belongs to the nearest (status "tolerance"); farther away it
belongs to none (status "outside").

Lookups go through a CellLattice: about four in five points fall in a cell that lies wholly in
one grid and need no geometry test; the rest are tested exactly against the few grids whose
boundary crosses their cell. Distances are measured in a local metric projection.
"""

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Literal, Protocol

import numpy as np
import numpy.typing as npt
import shapely
from shapely import STRtree
from shapely.geometry.base import BaseGeometry

from geo.coords import check_lonlat
from geo.errors import GeoError
from geo.lattice import CellLattice
from geo.metric import LocalMetric

Status = Literal["inside", "tolerance", "outside"]
STATUSES: tuple[Status, ...] = ("inside", "tolerance", "outside")
_INSIDE, _TOLERANCE, _OUTSIDE = range(3)
STORED_FORMAT = 1  # of to_bytes; a stored index of another format is rebuilt
_WKB_BATCH = 1_000


class IndexedGrid(Protocol):
    """What the index needs of a grid; GridFeature has it."""

    @property
    def code(self) -> str: ...
    @property
    def community_code(self) -> str: ...
    @property
    def town_code(self) -> str: ...
    @property
    def polygon(self) -> BaseGeometry: ...


@dataclass(frozen=True, slots=True)
class Location:
    """Where one point is; codes are None when status is "outside"."""

    status: Status
    grid_code: str | None
    community_code: str | None
    town_code: str | None
    distance_m: float  # to the grid's boundary; 0 inside, to the nearest grid when outside
    lon: float
    lat: float


@dataclass(frozen=True)
class LocatedArrays:
    """Where many points are, as parallel arrays (codes are object arrays holding None)."""

    status: npt.NDArray[np.object_]
    grid_code: npt.NDArray[np.object_]
    community_code: npt.NDArray[np.object_]
    town_code: npt.NDArray[np.object_]
    distance_m: npt.NDArray[np.float64]

    def __len__(self) -> int:
        return len(self.status)


class GridIndex:
    """Locates WGS84 points in a set of grids."""

    def __init__(self, grids: Iterable[IndexedGrid], tolerance_m: float = 30.0) -> None:
        grids = sorted(grids, key=lambda grid: grid.code)
        if not grids:
            raise GeoError("cannot index an empty set of grids")
        codes = [grid.code for grid in grids]
        duplicates = sorted({a for a, b in pairwise(codes) if a == b})
        if duplicates:
            raise GeoError(f"duplicate grid codes: {', '.join(duplicates[:10])}")
        polygons = np.array([grid.polygon for grid in grids], dtype=object)
        metric = LocalMetric.around(polygons)
        self._assemble(
            codes,
            [grid.community_code for grid in grids],
            [grid.town_code for grid in grids],
            polygons,
            CellLattice.build(polygons),
            metric,
            metric.project(polygons),
            tolerance_m,
        )

    def _assemble(
        self,
        codes: Sequence[str],
        community_codes: Sequence[str],
        town_codes: Sequence[str],
        polygons: npt.NDArray[np.object_],
        lattice: CellLattice,
        metric: LocalMetric,
        metric_polygons: npt.NDArray[np.object_],
        tolerance_m: float,
    ) -> None:
        self.tolerance_m = tolerance_m
        # Index i is the i-th grid by code, so "lowest code" is "lowest index"; the extra None
        # at the end is what index -1 (no grid) picks.
        self.grid_codes = np.array([*codes, None], dtype=object)
        self.community_codes = np.array([*community_codes, None], dtype=object)
        self.town_codes = np.array([*town_codes, None], dtype=object)
        self._polygons = polygons
        self._lattice = lattice
        self._metric = metric
        self._metric_tree = STRtree(metric_polygons)
        # Memoryviews index faster than numpy arrays and give plain ints (single lookups).
        self._cells = memoryview(lattice.cells)
        self._candidate_start = memoryview(lattice.candidate_start)
        self._candidates = memoryview(lattice.candidates)

    def to_bytes(self) -> bytes:
        """Everything the index holds, for from_bytes: a rebuild costs seconds for a large
        layer, loading these bytes a small part of that (an uncompressed .npz, no pickles)."""
        lattice = self._lattice
        buffer = io.BytesIO()
        np.savez(
            buffer,
            format=np.array([STORED_FORMAT]),
            grid_codes=np.array(self.grid_codes[:-1].tolist(), dtype=str),
            community_codes=np.array(self.community_codes[:-1].tolist(), dtype=str),
            town_codes=np.array(self.town_codes[:-1].tolist(), dtype=str),
            metric_centre=np.array([self._metric.lon, self._metric.lat]),
            lattice_frame=np.array([lattice.x0, lattice.y0, lattice.kx, lattice.ky]),
            lattice_shape=np.array([lattice.nx, lattice.ny]),
            cells=lattice.cells,
            candidate_start=lattice.candidate_start,
            candidates=lattice.candidates,
            **_packed_wkb("polygons", self._polygons),
            **_packed_wkb("metric_polygons", self._metric_tree.geometries),
        )
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes, tolerance_m: float = 30.0) -> "GridIndex":
        """The index to_bytes wrote; GeoError when the bytes are of another format."""
        try:
            stored = np.load(io.BytesIO(data), allow_pickle=False)
            if int(stored["format"][0]) != STORED_FORMAT:
                raise GeoError(f"stored index format {stored['format'][0]}, not {STORED_FORMAT}")
            x0, y0, kx, ky = (float(v) for v in stored["lattice_frame"])
            nx, ny = (int(v) for v in stored["lattice_shape"])
            lattice = CellLattice(
                x0, y0, kx, ky, nx, ny,
                stored["cells"], stored["candidate_start"], stored["candidates"],
            )  # fmt: skip
            index = cls.__new__(cls)
            index._assemble(
                stored["grid_codes"].tolist(),
                stored["community_codes"].tolist(),
                stored["town_codes"].tolist(),
                _unpacked_wkb(stored, "polygons"),
                lattice,
                LocalMetric(*(float(v) for v in stored["metric_centre"])),
                _unpacked_wkb(stored, "metric_polygons"),
                tolerance_m,
            )
        except (ValueError, KeyError, OSError) as exc:  # not an .npz, or not ours
            raise GeoError(f"not a stored grid index: {exc}") from exc
        return index

    def __len__(self) -> int:
        return len(self._polygons)

    @property
    def nbytes(self) -> int:
        """Memory of the lookup tables (the polygons themselves not counted)."""
        return self._lattice.nbytes

    def locate(self, lon: float, lat: float) -> Location:
        """Locate one point; CoordinateError (a ValueError) for NaN or out-of-range input."""
        if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
            check_lonlat(lon, lat)  # raises with the reason
        lattice = self._lattice
        u = (lon - lattice.x0) * lattice.kx
        v = (lat - lattice.y0) * lattice.ky
        if 0.0 <= u < lattice.nx and 0.0 <= v < lattice.ny:
            cell = self._cells[int(v) * lattice.nx + int(u)]
            if cell >= 0:
                return self._location(_INSIDE, cell, 0.0, lon, lat)
            if cell < -1:
                mixed = -2 - cell
                for k in range(self._candidate_start[mixed], self._candidate_start[mixed + 1]):
                    grid = self._candidates[k]
                    if shapely.intersects_xy(self._polygons[grid], lon, lat):
                        return self._location(_INSIDE, grid, 0.0, lon, lat)
        status, grid, distance = self._nearest(np.array([lon]), np.array([lat]))
        return self._location(int(status[0]), int(grid[0]), float(distance[0]), lon, lat)

    def locate_many(self, lon: npt.ArrayLike, lat: npt.ArrayLike) -> LocatedArrays:
        """Locate many points at once; the same answers as locate, point by point."""
        status, grid, distance = self.locate_positions(lon, lat)
        return LocatedArrays(
            status=np.array(STATUSES, dtype=object)[status],
            grid_code=self.grid_codes[grid],
            community_code=self.community_codes[grid],
            town_code=self.town_codes[grid],
            distance_m=distance,
        )

    def locate_positions(
        self, lon: npt.ArrayLike, lat: npt.ArrayLike
    ) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.int64], npt.NDArray[np.float64]]:
        """Like locate_many, as positions: the index into STATUSES, the index into grid_codes
        (and community_codes, town_codes; -1 picks their final None) and the distance."""
        lon = np.asarray(lon, dtype=np.float64).ravel()
        lat = np.asarray(lat, dtype=np.float64).ravel()
        check_lonlat(lon, lat)
        grid = self._covering_grid(lon, lat)
        status = np.full(len(lon), _INSIDE, dtype=np.int8)
        distance = np.zeros(len(lon))
        uncovered = np.flatnonzero(grid < 0)
        if len(uncovered):
            status[uncovered], grid[uncovered], distance[uncovered] = self._nearest(
                lon[uncovered], lat[uncovered]
            )
        return status, grid, distance

    def _location(
        self, status: int, grid: int, distance: float, lon: float, lat: float
    ) -> Location:
        return Location(
            STATUSES[status],
            self.grid_codes[grid],
            self.community_codes[grid],
            self.town_codes[grid],
            distance,
            lon,
            lat,
        )

    def _covering_grid(
        self, lon: npt.NDArray[np.float64], lat: npt.NDArray[np.float64]
    ) -> npt.NDArray[np.int64]:
        """Index of the lowest-coded grid covering each point, or -1."""
        lattice = self._lattice
        cell_id = lattice.cell_ids(lon, lat)
        cell = np.where(cell_id >= 0, lattice.cells[cell_id], -1).astype(np.int64)
        grid = np.where(cell >= 0, cell, -1)
        # Mixed cells: test candidate 0 of every pending point, then candidate 1 of those
        # still pending, and so on; candidates are in code order, so the first hit wins.
        pending = np.flatnonzero(cell < -1)
        mixed = -2 - cell[pending]
        next_candidate = lattice.candidate_start[mixed].astype(np.int64)
        end = lattice.candidate_start[mixed + 1]
        while len(pending):
            candidate = lattice.candidates[next_candidate]
            # Testing the points of one polygon together keeps its vertices in the CPU cache.
            order = np.argsort(candidate, kind="stable")
            hit = np.empty(len(pending), dtype=bool)
            hit[order] = shapely.intersects_xy(
                self._polygons[candidate[order]], lon[pending[order]], lat[pending[order]]
            )
            grid[pending[hit]] = candidate[hit]
            next_candidate += 1
            keep = ~hit & (next_candidate < end)
            pending, next_candidate, end = pending[keep], next_candidate[keep], end[keep]
        return grid

    def _nearest(
        self, lon: npt.NDArray[np.float64], lat: npt.NDArray[np.float64]
    ) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.int64], npt.NDArray[np.float64]]:
        """Status, grid (-1 if outside) and distance for points that no grid covers."""
        points = shapely.points(*self._metric.xy(lon, lat))
        (point, grid), distance = self._metric_tree.query_nearest(
            points, return_distance=True, all_matches=True
        )
        # Equidistant grids all come back; keep the lowest code (index) for each point.
        order = np.lexsort((grid, point))
        first = order[np.concatenate([[True], point[order][1:] != point[order][:-1]])]
        nearest = np.empty(len(lon), dtype=np.int64)
        gap = np.empty(len(lon))
        nearest[point[first]], gap[point[first]] = grid[first], distance[first]
        within = gap <= self.tolerance_m
        status = np.where(within, _TOLERANCE, _OUTSIDE).astype(np.int8)
        return status, np.where(within, nearest, -1), gap


def _packed_wkb(name: str, geometries: npt.NDArray[np.object_]) -> dict[str, np.ndarray]:
    wkb = shapely.to_wkb(geometries)
    return {
        name: np.frombuffer(b"".join(wkb), dtype=np.uint8),
        f"{name}_ends": np.cumsum([len(item) for item in wkb]),
    }


def _unpacked_wkb(stored: "np.lib.npyio.NpzFile", name: str) -> npt.NDArray[np.object_]:
    data = stored[name].tobytes()
    ends = stored[f"{name}_ends"].tolist()
    starts = [0, *ends[:-1]]
    wkb = [data[start:end] for start, end in zip(starts, ends, strict=True)]
    # from_wkb holds the GIL while it creates geometries; in batches, a server's event loop
    # (index loads run in a worker thread) waits a few milliseconds at most, not the whole run.
    batches = [
        shapely.from_wkb(wkb[start : start + _WKB_BATCH])
        for start in range(0, len(wkb), _WKB_BATCH)
    ]
    return np.concatenate(batches) if batches else np.empty(0, dtype=object)
