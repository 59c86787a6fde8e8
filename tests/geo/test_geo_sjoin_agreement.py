"""`locate_csv` gives the answers of geopandas' sjoin(predicate="within"), by one documented rule
for what "within" leaves open.

The rule: a point inside a grid's interior is in that grid, as for sjoin. A point on a grid's
boundary is `within` no grid, so sjoin finds none; we give it to the lowest code among the grids
whose closed polygon holds it (those sjoin(predicate="intersects") finds), so that a report on a
shared boundary still has a grid and always the same one. A point in no closed polygon is
"tolerance" (nearest grid within the GPS tolerance) or "outside" (no grid), and sjoin finds none.
"""

import csv
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.bulk_csv import locate_csv
from geo.index import GridIndex
from geo.synthetic import synthetic_grid_layer


def sjoin_codes(grids: gpd.GeoDataFrame, lon: np.ndarray, lat: np.ndarray, predicate: str):
    """Per point, the codes sjoin matches (sorted; empty when none)."""
    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")
    joined = gpd.sjoin(points, grids, how="left", predicate=predicate)
    found = joined["code"].groupby(level=0).agg(lambda codes: sorted(codes.dropna()))
    return found.reindex(range(len(lon))).tolist()


def test_locate_csv_agrees_with_sjoin_within_and_resolves_boundaries_by_the_rule(tmp_path: Path):
    layer = synthetic_grid_layer(300, width_km=6, height_km=6, seed=7)
    grids = gpd.GeoDataFrame(
        {"code": [f.code for f in layer.features]},
        geometry=[f.polygon for f in layer.features],
        crs="EPSG:4326",
    )
    x0, y0, x1, y1 = grids.total_bounds
    rng = np.random.default_rng(7)
    # Random points over and around the layer, plus points exactly on boundaries: every
    # vertex of the first 60 grids (shared by two or three grids, or on the layer's edge).
    inside_lon = rng.uniform(x0 - 0.005, x1 + 0.005, 20_000)
    inside_lat = rng.uniform(y0 - 0.005, y1 + 0.005, 20_000)
    vertices = shapely.get_coordinates(grids.geometry.iloc[:60].to_numpy())
    lon = np.concatenate([inside_lon, vertices[:, 0]])
    lat = np.concatenate([inside_lat, vertices[:, 1]])
    source, out = tmp_path / "points.csv", tmp_path / "located.csv"
    with source.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "lon", "lat"])
        writer.writerows(
            [i, repr(x), repr(y)]
            for i, (x, y) in enumerate(zip(lon.tolist(), lat.tolist(), strict=True))
        )

    locate_csv(GridIndex(layer.features), source, out)

    located = pd.read_csv(out, dtype=str, keep_default_na=False)
    within = sjoin_codes(grids, lon, lat, "within")
    closed = sjoin_codes(grids, lon, lat, "intersects")
    boundary = 0
    for i, row in enumerate(located.itertuples()):
        if within[i]:
            assert within[i] == [row.grid_code] and row.status == "inside", i
        elif closed[i]:
            boundary += 1
            assert row.grid_code == min(closed[i]) and row.status == "inside", i
        else:
            assert row.status in ("tolerance", "outside"), i
    assert boundary >= len(vertices) // 2  # the boundary points really were tested
    assert sum(bool(codes) for codes in within) > 10_000  # most points fall in a grid


def test_bulk_location_imports_neither_pandas_nor_geopandas(tmp_path: Path) -> None:
    """Their import is a second of `gridgov locate --csv`; the bulk path needs neither."""
    source = tmp_path / "points.csv"
    source.write_text('note,lon,lat,crs\n"a, b",114.305,30.605,gcj02\nx,1,2,\n')
    script = f"""
import sys
import shapely
import gridgov.cli
from geo.bulk_csv import locate_csv
from geo.grids import GridFeature
from geo.index import GridIndex
grid = GridFeature("420102001001001", "g", "420102001001", "c", "420102001", "t",
                   shapely.box(114.29, 30.60, 114.31, 30.62))
locate_csv(GridIndex([grid]), {str(source)!r}, {str(tmp_path / "out.csv")!r})
print(sorted({{"pandas", "geopandas"}} & set(sys.modules)))
"""
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
    assert (tmp_path / "out.csv").read_text().splitlines()[1].endswith(",inside")
