"""A synthetic grid layer for benchmarks and tests, shaped like a real district's grids.

Grids are the Voronoi cells of random seeds, clipped to a rectangle and densified to about 40
vertices each, so they tile the area without gaps or overlaps and have realistic vertex counts.
Towns and communities are blocks of a coarse lattice over the seeds, and codes follow the
national scheme (county 6 digits, then 3 each for town, community and grid).
"""

import math

import numpy as np
import shapely

from geo.grids import GridFeature, GridLayerData

_METRES_PER_DEGREE_LAT = 110_574.0
_METRES_PER_DEGREE_LON_AT_EQUATOR = 111_320.0
_GRIDS_PER_COMMUNITY = 12
_COMMUNITIES_PER_TOWN_SIDE = 10


def synthetic_grid_layer(
    n_grids: int = 20_000,
    *,
    width_km: float = 50.0,
    height_km: float = 50.0,
    center: tuple[float, float] = (114.3, 30.6),
    vertices_per_grid: int = 40,
    county_code: str = "420102",
    seed: int = 0,
) -> GridLayerData:
    """n_grids grids tiling a width_km × height_km rectangle centred on center (lon, lat).

    Deterministic for a given seed.
    """
    rng = np.random.default_rng(seed)
    half_w, half_h = width_km * 500.0, height_km * 500.0
    seeds = np.column_stack(
        [rng.uniform(-half_w, half_w, n_grids), rng.uniform(-half_h, half_h, n_grids)]
    )
    frame = shapely.box(-half_w, -half_h, half_w, half_h)
    cells = shapely.get_parts(
        shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=frame, ordered=True)
    )
    cells = shapely.intersection(cells, frame)
    mean_perimeter = float(shapely.length(cells).mean())
    cells = shapely.segmentize(cells, mean_perimeter / (vertices_per_grid - 4))

    lon0, lat0 = center
    lon_scale = 1.0 / (_METRES_PER_DEGREE_LON_AT_EQUATOR * math.cos(math.radians(lat0)))
    polygons = shapely.transform(
        cells,
        lambda c: np.column_stack(
            [lon0 + c[:, 0] * lon_scale, lat0 + c[:, 1] / _METRES_PER_DEGREE_LAT]
        ),
    )
    codes = _hierarchy(seeds, (half_w, half_h), county_code)
    features = [
        GridFeature(
            code=grid,
            name=f"网格{grid[-6:]}",
            community_code=grid[:12],
            community_name=f"社区{grid[6:9]}-{grid[9:12]}",
            town_code=grid[:9],
            town_name=f"街道{grid[6:9]}",
            polygon=polygon,
        )
        for grid, polygon in zip(codes, polygons, strict=True)
    ]
    return GridLayerData(features=features, source_crs="EPSG:4326")


def _hierarchy(seeds: np.ndarray, half_size: tuple[float, float], county: str) -> list[str]:
    """The 15-digit code of each seed's grid; numbering runs row by row, south to north."""
    n = len(seeds)
    side = max(1, math.ceil(math.sqrt(n / _GRIDS_PER_COMMUNITY)))  # communities per lattice row
    town_side = max(1, math.ceil(side / _COMMUNITIES_PER_TOWN_SIDE))
    half_w, half_h = half_size
    col = np.minimum(((seeds[:, 0] + half_w) / (2 * half_w) * side).astype(int), side - 1)
    row = np.minimum(((seeds[:, 1] + half_h) / (2 * half_h) * side).astype(int), side - 1)
    per_town = math.ceil(side / town_side)
    town = (row // per_town) * town_side + col // per_town
    community = row * side + col
    order = np.lexsort((seeds[:, 0], seeds[:, 1], community, town))

    codes = [""] * n
    town_numbers: dict[int, int] = {}
    community_numbers: dict[int, int] = {}
    communities_per_town: dict[int, int] = {}
    grids_per_community: dict[int, int] = {}
    for i in order:
        t_key, c_key = int(town[i]), int(community[i])
        t = town_numbers.setdefault(t_key, len(town_numbers) + 1)
        if c_key not in community_numbers:
            communities_per_town[t_key] = communities_per_town.get(t_key, 0) + 1
            community_numbers[c_key] = communities_per_town[t_key]
        g = grids_per_community[c_key] = grids_per_community.get(c_key, 0) + 1
        if max(t, community_numbers[c_key], g) > 999:
            raise ValueError("too many grids for three-digit town, community and grid numbers")
        codes[i] = f"{county}{t:03d}{community_numbers[c_key]:03d}{g:03d}"
    return codes
