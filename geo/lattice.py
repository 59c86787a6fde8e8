"""A uniform lattice of cells over a set of polygons that answers most point lookups by itself.

Each cell is classified once, exactly:

* a *pure* cell meets no polygon boundary, so every point in it lies in the same polygons as the
  cell's centre; the cell stores the lowest-numbered of them (or -1 for none) and a lookup
  needs no geometry test at all;
* a *mixed* cell meets at least one boundary; it stores a short, sorted list of candidate
  polygons, and a lookup tests the point against them in order.

Boundaries are found by sampling every edge at most half a cell apart and marking all cells
within a quarter cell (plus a small margin) of each sample; every point of an edge lies within a
quarter cell of a sample, so no cell that an edge touches is missed. Extra marked cells only cost
speed, never exactness. Centres are classified by scanline (even-odd crossings of each row).

Coordinates are in "cell units" u = (x - x0) * kx, v = (y - y0) * ky, so cell (i, j) is the
unit square [i, i + 1) × [j, j + 1).
"""

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import shapely

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

NO_POLYGON = -1
_MARGIN = 1e-6  # cell units; absorbs floating-point rounding in the cell arithmetic
_SAMPLE_RADIUS = 0.25 + _MARGIN
_EDGES_PER_CHUNK = 500_000  # bounds the temporary memory of marking


@dataclass(frozen=True)
class CellLattice:
    """The classified cells; cells[j * nx + i] >= 0 is a pure polygon, -1 a pure empty cell and
    -2 - m mixed cell m, whose candidates are candidates[candidate_start[m]:candidate_start[m+1]].
    """

    x0: float
    y0: float
    kx: float
    ky: float
    nx: int
    ny: int
    cells: npt.NDArray[np.int32]
    candidate_start: npt.NDArray[np.int32]
    candidates: npt.NDArray[np.int32]

    @classmethod
    def build(
        cls,
        polygons: npt.NDArray[np.object_],
        cells_per_polygon: int = 256,
        max_cells: int = 1 << 23,
    ) -> "CellLattice":
        """Cover polygons (lon/lat) with about cells_per_polygon square cells per polygon.

        Smaller cells mean fewer lookups fall in mixed cells, at the price of memory; max_cells
        caps the lattice for sparse layers whose bounding box is mostly empty.
        """
        minx, miny, maxx, maxy = shapely.total_bounds(polygons)
        cos_lat = math.cos(math.radians((miny + maxy) / 2))
        mean_area = float(np.mean(shapely.area(polygons))) * cos_lat  # in (lat degree)²
        cell_h = math.sqrt(mean_area / cells_per_polygon)
        cell_w = cell_h / cos_lat
        span_w, span_h = maxx - minx + 2 * cell_w, maxy - miny + 2 * cell_h
        if (span_w / cell_w) * (span_h / cell_h) > max_cells:
            grow = math.sqrt((span_w / cell_w) * (span_h / cell_h) / max_cells)
            cell_w, cell_h = cell_w * grow, cell_h * grow
        # One spare cell on every side keeps all marked cells inside the lattice.
        x0, y0 = minx - cell_w, miny - cell_h
        nx = math.ceil((maxx - x0) / cell_w) + 1
        ny = math.ceil((maxy - y0) / cell_h) + 1
        kx, ky = 1.0 / cell_w, 1.0 / cell_h

        u1, v1, u2, v2, owner = _edges(polygons, x0, y0, kx, ky)
        n_polygons = len(polygons)
        marked_keys = _marked_keys(u1, v1, u2, v2, owner, nx, n_polygons)
        centre_keys = _centre_keys(u1, v1, u2, v2, owner, nx, n_polygons)

        marked_cells = _sorted_unique(marked_keys // n_polygons)
        at_marked = np.isin(centre_keys // n_polygons, marked_cells)
        cells = np.full(nx * ny, NO_POLYGON, dtype=np.int32)
        # Keys are sorted, so the first key of each pure cell holds its lowest polygon.
        pure_cells, pure_polygons = np.divmod(centre_keys[~at_marked], n_polygons)
        first = np.concatenate([[True], pure_cells[1:] != pure_cells[:-1]])
        cells[pure_cells[first]] = pure_polygons[first]

        candidate_keys = _sorted_unique(np.concatenate([marked_keys, centre_keys[at_marked]]))
        candidate_cells = candidate_keys // n_polygons
        cells[marked_cells] = -2 - np.arange(len(marked_cells), dtype=np.int32)
        candidate_start = np.append(
            np.searchsorted(candidate_cells, marked_cells), len(candidate_keys)
        ).astype(np.int32)
        return cls(
            x0=float(x0),
            y0=float(y0),
            kx=kx,
            ky=ky,
            nx=nx,
            ny=ny,
            cells=cells,
            candidate_start=candidate_start,
            candidates=(candidate_keys % n_polygons).astype(np.int32),
        )

    @property
    def nbytes(self) -> int:
        return self.cells.nbytes + self.candidate_start.nbytes + self.candidates.nbytes

    def cell_ids(self, lon: FloatArray, lat: FloatArray) -> IntArray:
        """The cell of each point, or -1 for points outside the lattice."""
        u = (lon - self.x0) * self.kx
        v = (lat - self.y0) * self.ky
        inside = (u >= 0) & (u < self.nx) & (v >= 0) & (v < self.ny)
        ids = np.full(len(u), -1, dtype=np.int64)
        ids[inside] = v[inside].astype(np.int64) * self.nx + u[inside].astype(np.int64)
        return ids


def _edges(
    polygons: npt.NDArray[np.object_], x0: float, y0: float, kx: float, ky: float
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, IntArray]:
    """Every ring edge in cell units, with the index of the polygon it bounds."""
    parts, part_owner = shapely.get_parts(polygons, return_index=True)
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    coords, coord_ring = shapely.get_coordinates(rings, return_index=True)
    u = (coords[:, 0] - x0) * kx
    v = (coords[:, 1] - y0) * ky
    same_ring = coord_ring[:-1] == coord_ring[1:]
    start = np.flatnonzero(same_ring)
    owner = part_owner[ring_part[coord_ring[start]]]
    return u[start], v[start], u[start + 1], v[start + 1], owner


def _marked_keys(
    u1: FloatArray,
    v1: FloatArray,
    u2: FloatArray,
    v2: FloatArray,
    owner: IntArray,
    nx: int,
    n_polygons: int,
) -> IntArray:
    """Sorted unique keys cell * n_polygons + polygon for each cell near polygon's boundary."""
    keys = []
    for lo in range(0, len(u1), _EDGES_PER_CHUNK):
        part = slice(lo, lo + _EDGES_PER_CHUNK)
        du, dv = u2[part] - u1[part], v2[part] - v1[part]
        steps = np.maximum(1, np.ceil(2 * np.maximum(np.abs(du), np.abs(dv)))).astype(np.int64)
        edge, step = _expand(steps + 1)
        t = step / steps[edge]
        su = u1[part][edge] + t * du[edge]
        sv = v1[part][edge] + t * dv[edge]
        polygon = owner[part][edge]
        u_lo, u_hi = np.floor(su - _SAMPLE_RADIUS), np.floor(su + _SAMPLE_RADIUS)
        v_lo, v_hi = np.floor(sv - _SAMPLE_RADIUS), np.floor(sv + _SAMPLE_RADIUS)
        # Near a cell side a sample also marks the neighbour; elsewhere the four corners of its
        # square share one cell, so only the differing ones are emitted.
        u_two, v_two = u_hi != u_lo, v_hi != v_lo
        chunk = [
            _keys(u_lo, v_lo, polygon, nx, n_polygons),
            _keys(u_hi[u_two], v_lo[u_two], polygon[u_two], nx, n_polygons),
            _keys(u_lo[v_two], v_hi[v_two], polygon[v_two], nx, n_polygons),
            _keys(u_hi[u_two & v_two], v_hi[u_two & v_two], polygon[u_two & v_two], nx, n_polygons),
        ]
        keys.append(_sorted_unique(np.concatenate(chunk)))
    return _sorted_unique(np.concatenate(keys))


def _centre_keys(
    u1: FloatArray,
    v1: FloatArray,
    u2: FloatArray,
    v2: FloatArray,
    owner: IntArray,
    nx: int,
    n_polygons: int,
) -> IntArray:
    """Sorted unique keys cell * n_polygons + polygon for each polygon containing a cell centre.

    Centres of row j lie on v = j + 0.5. An edge crosses that line when exactly one end is at or
    below it; the crossings of one polygon on one row, sorted, pair up into the spans inside it.
    """
    low, high = np.minimum(v1, v2), np.maximum(v1, v2)
    first_row = np.ceil(low - 0.5).astype(np.int64)
    rows_crossed = np.maximum(0, np.ceil(high - 0.5).astype(np.int64) - first_row)
    edge, nth_row = _expand(rows_crossed)
    row = first_row[edge] + nth_row
    y = row + 0.5
    x = u1[edge] + (y - v1[edge]) * (u2[edge] - u1[edge]) / (v2[edge] - v1[edge])
    polygon = owner[edge]
    order = np.lexsort((x, row, polygon))
    x, row, polygon = x[order], row[order], polygon[order]
    # Every (polygon, row) group has an even count, so global pairs are pairs within groups.
    span_first = np.ceil(x[0::2] - 0.5).astype(np.int64)
    span_end = np.ceil(x[1::2] - 0.5).astype(np.int64)
    span_row, span_polygon = row[0::2], polygon[0::2]
    span, nth_cell = _expand(np.maximum(0, span_end - span_first))
    cell = span_row[span] * nx + span_first[span] + nth_cell
    return _sorted_unique(cell * n_polygons + span_polygon[span])


def _keys(u: FloatArray, v: FloatArray, polygon: IntArray, nx: int, n_polygons: int) -> IntArray:
    return (v.astype(np.int64) * nx + u.astype(np.int64)) * n_polygons + polygon


def _sorted_unique(values: IntArray) -> IntArray:
    """np.unique without its hash table, which is slow for tens of millions of int64 keys."""
    values = np.sort(values, kind="stable")
    return values[np.concatenate([[True], values[1:] != values[:-1]])]


def _expand(counts: IntArray) -> tuple[IntArray, IntArray]:
    """For groups of the given sizes, each member's group and its rank within the group."""
    group = np.repeat(np.arange(len(counts)), counts)
    rank = np.arange(len(group)) - np.repeat(np.cumsum(counts) - counts, counts)
    return group, rank
