"""The files `gridgov locate --csv` is measured on: a grid layer as a county would send it (a
GeoPackage in CGCS2000 / 3-degree Gauss-Kruger CM 114E, EPSG:4547) and a CSV of WGS84 points.

    python -m bench.locate_data DIR [--grids 20000] [--points 1000000]
"""

import argparse
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import shapely

from geo.synthetic import synthetic_grid_layer

SOURCE_CRS = "EPSG:4547"
WIDTH_KM = HEIGHT_KM = 50.0


@dataclass(frozen=True)
class LocateFiles:
    grids: Path  # GeoPackage, EPSG:4547
    points: Path  # CSV: id, lon, lat (WGS84)


def write_grid_layer(path: Path, n_grids: int, seed: int) -> Path:
    """A synthetic layer of n_grids grids (about 40 vertices each) as an EPSG:4547 GeoPackage."""
    layer = synthetic_grid_layer(n_grids, width_km=WIDTH_KM, height_km=HEIGHT_KM, seed=seed)
    columns = ("code", "name", "community_code", "community_name", "town_code", "town_name")
    frame = gpd.GeoDataFrame(
        {key: [getattr(f, key) for f in layer.features] for key in columns},
        geometry=[f.polygon for f in layer.features],
        crs="EPSG:4326",
    )
    path.unlink(missing_ok=True)
    frame.to_crs(SOURCE_CRS).to_file(path, driver="GPKG", layer="grids")
    return path


def write_points(path: Path, grids: Path, n_points: int, seed: int) -> Path:
    """n_points uniform random WGS84 points over the layer's bounding box, 7 decimals."""
    x0, y0, x1, y1 = gpd.read_file(grids).to_crs("EPSG:4326").total_bounds
    rng = np.random.default_rng(seed)
    lon = np.round(rng.uniform(x0, x1, n_points), 7)
    lat = np.round(rng.uniform(y0, y1, n_points), 7)
    table = pa.table({"id": np.arange(1, n_points + 1), "lon": lon, "lat": lat})
    pacsv.write_csv(table, path, pacsv.WriteOptions(quoting_style="none"))
    return path


def make_files(directory: Path, n_grids: int, n_points: int, seed: int = 1) -> LocateFiles:
    directory.mkdir(parents=True, exist_ok=True)
    grids = write_grid_layer(directory / f"grids_{n_grids}.gpkg", n_grids, seed)
    points = write_points(directory / f"points_{n_points}.csv", grids, n_points, seed)
    return LocateFiles(grids, points)


def polygons_of(path: Path) -> np.ndarray:
    return shapely.force_2d(gpd.read_file(path).to_crs("EPSG:4326").geometry.to_numpy())


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.locate_data", description=__doc__)
    parser.add_argument("directory", type=Path)
    parser.add_argument("--grids", type=int, default=20_000)
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    files = make_files(args.directory, args.grids, args.points, args.seed)
    print(files.grids, files.points)


if __name__ == "__main__":
    main()
