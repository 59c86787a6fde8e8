import dataclasses

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geo.boundaries import read_grid_layer
from geo.synthetic import synthetic_grid_layer


def test_same_seed_same_layer_other_seed_other_layer():
    a = synthetic_grid_layer(300, width_km=5, height_km=4, seed=11)
    b = synthetic_grid_layer(300, width_km=5, height_km=4, seed=11)
    c = synthetic_grid_layer(300, width_km=5, height_km=4, seed=12)
    assert [f.code for f in a.features] == [f.code for f in b.features]
    assert all(
        shapely.equals_exact(fa.polygon, fb.polygon)
        for fa, fb in zip(a.features, b.features, strict=True)
    )
    assert not all(
        shapely.equals_exact(fa.polygon, fc.polygon)
        for fa, fc in zip(a.features, c.features, strict=True)
    )


def test_layer_tiles_the_area_and_passes_import_validation(tmp_path):
    layer = synthetic_grid_layer(1500, width_km=10, height_km=8, center=(114.3, 30.6), seed=5)
    polygons = [f.polygon for f in layer.features]
    assert len(polygons) == 1500
    assert 35 <= np.mean(shapely.get_num_coordinates(polygons)) <= 45
    # Gapless: the union is the whole rectangle (area in degrees² → km² near 30.6°N).
    km2 = shapely.union_all(polygons).area * 111.32 * 110.574 * np.cos(np.radians(30.6))
    assert km2 == pytest.approx(80.0, rel=0.005)
    # A round trip through a GeoPackage runs every check of a real import: valid polygons, no
    # overlaps, well-formed nested codes, consistent names, no duplicates.
    rows = [dataclasses.asdict(f) | {"geometry": f.polygon} for f in layer.features]
    frame = gpd.GeoDataFrame(rows, crs="EPSG:4326").drop(columns="polygon")
    frame.to_file(tmp_path / "synthetic.gpkg")
    imported = read_grid_layer(tmp_path / "synthetic.gpkg")
    assert [f.code for f in imported.features] == [f.code for f in layer.features]
    assert all(f.code.startswith("420102") for f in imported.features)
    assert len({f.town_code for f in imported.features}) > 1
    assert len({f.community_code for f in imported.features}) > 50
