"""A small hand-made grid layer: four 0.01° squares in a 2 × 2 block near Wuhan.

  +--------+--------+
  | ...003 | ...004 |     town 420102001, community 420102001002 (003, 004)
  +--------+--------+
  | ...001 | ...002 |     town 420102001, community 420102001001 (001, 002)
  +--------+--------+
(114.30, 30.60)      (114.32, 30.60)
"""

from collections.abc import Callable

import geopandas as gpd
import pytest
import shapely

from geo.grids import GridFeature

LON0, LAT0, SIDE = 114.30, 30.60, 0.01


def square(col: int, row: int) -> shapely.Polygon:
    x, y = LON0 + col * SIDE, LAT0 + row * SIDE
    return shapely.box(x, y, x + SIDE, y + SIDE)


def block_features() -> list[GridFeature]:
    features = []
    for n, (col, row) in enumerate([(0, 0), (1, 0), (0, 1), (1, 1)], start=1):
        community = f"42010200100{1 + row}"
        features.append(
            GridFeature(
                code=f"{community}{n:03d}",
                name=f"网格{n}",
                community_code=community,
                community_name=f"社区{1 + row}",
                town_code="420102001",
                town_name="街道1",
                polygon=square(col, row),
            )
        )
    return features


def block_frame(**column_names: str) -> gpd.GeoDataFrame:
    """The block as a GeoDataFrame in WGS84; keyword arguments rename the property columns."""
    features = block_features()
    columns = ("code", "name", "community_code", "community_name", "town_code", "town_name")
    data = {column_names.get(key, key): [getattr(f, key) for f in features] for key in columns}
    return gpd.GeoDataFrame(data, geometry=[f.polygon for f in features], crs="EPSG:4326")


@pytest.fixture
def block() -> list[GridFeature]:
    return block_features()


@pytest.fixture
def make_frame() -> Callable[..., gpd.GeoDataFrame]:
    return block_frame
