import dataclasses

import numpy as np
import pyproj
import pytest
import shapely

from geo.errors import GeoError
from geo.index import GridIndex, Location
from geo.synthetic import synthetic_grid_layer

GEOD = pyproj.Geod(ellps="WGS84")
# Independent of the index's own projection: UTM zone 49N covers 108°E-114°E.
TO_UTM = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:32649", always_xy=True)


def east_of(lon: float, lat: float, metres: float) -> tuple[float, float]:
    lon2, lat2, _ = GEOD.fwd(lon, lat, 90 if metres >= 0 else 270, abs(metres))
    return lon2, lat2


def south_of(lon: float, lat: float, metres: float) -> tuple[float, float]:
    lon2, lat2, _ = GEOD.fwd(lon, lat, 180, metres)
    return lon2, lat2


# --- the 2 × 2 block (see conftest) -----------------------------------------------------------


def test_point_inside_a_grid(block):
    index = GridIndex(block)
    location = index.locate(114.305, 30.605)
    assert location == Location(
        status="inside",
        grid_code="420102001001001",
        community_code="420102001001",
        town_code="420102001",
        distance_m=0.0,
        lon=114.305,
        lat=30.605,
    )
    assert index.locate(114.315, 30.615).grid_code == "420102001002004"


def test_location_is_immutable(block):
    location = GridIndex(block).locate(114.305, 30.605)
    with pytest.raises(dataclasses.FrozenInstanceError):
        location.grid_code = "x"  # type: ignore[misc]


def test_point_on_a_shared_edge_always_gets_the_lowest_code(block):
    index = GridIndex(block)
    # The edge between 001 (west) and 002 (east) at lon 114.31.
    answers = {index.locate(114.31, 30.605).grid_code for _ in range(5)}
    assert answers == {"420102001001001"}
    # The edge between 002 (south) and 004 (north) at lat 30.61.
    assert index.locate(114.315, 30.61).grid_code == "420102001001002"
    # The corner all four grids share.
    assert index.locate(114.31, 30.61).grid_code == "420102001001001"
    many = index.locate_many([114.31, 114.315, 114.31], [30.605, 30.61, 30.61])
    assert list(many.grid_code) == ["420102001001001", "420102001001002", "420102001001001"]


def test_point_on_the_outer_boundary_is_inside(block):
    location = GridIndex(block).locate(114.32, 30.605)
    assert (location.status, location.grid_code, location.distance_m) == (
        "inside",
        "420102001001002",
        0.0,
    )


def test_point_in_the_tolerance_band_goes_to_the_nearest_grid(block):
    index = GridIndex(block)
    lon, lat = east_of(114.32, 30.615, 10.0)  # 10 m east of grid 004's east edge
    location = index.locate(lon, lat)
    assert location.status == "tolerance"
    assert location.grid_code == "420102001002004"
    assert location.community_code == "420102001002"
    assert location.distance_m == pytest.approx(10.0, abs=0.1)


def test_tolerance_is_a_constructor_parameter(block):
    lon, lat = east_of(114.32, 30.615, 10.0)
    location = GridIndex(block, tolerance_m=5.0).locate(lon, lat)
    assert location.status == "outside"
    assert location.distance_m == pytest.approx(10.0, abs=0.1)


def test_equidistant_grids_resolve_to_the_lowest_code(block):
    # 20 m south of the corner shared by 001 and 002: both are exactly as near.
    lon, lat = south_of(114.31, 30.60, 20.0)
    index = GridIndex(block)
    location = index.locate(lon, lat)
    assert (location.status, location.grid_code) == ("tolerance", "420102001001001")
    assert location.distance_m == pytest.approx(20.0, abs=0.1)
    assert index.locate_many([lon], [lat]).grid_code[0] == "420102001001001"


def test_point_far_away_is_outside_with_no_codes(block):
    lon, lat = east_of(114.32, 30.605, 100.0)
    location = GridIndex(block).locate(lon, lat)
    assert location.status == "outside"
    assert (location.grid_code, location.community_code, location.town_code) == (None, None, None)
    assert location.distance_m == pytest.approx(100.0, abs=0.2)
    beijing = GridIndex(block).locate(116.4, 39.9)
    assert beijing.status == "outside" and beijing.distance_m > 1_000_000


@pytest.mark.parametrize(
    ("lon", "lat", "message"),
    [(float("nan"), 30.6, "lon is NaN"), (114.3, 95.0, r"lat 95.0 is outside \[-90, 90\]")],
)
def test_invalid_points_are_value_errors(block, lon, lat, message):
    index = GridIndex(block)
    with pytest.raises(ValueError, match=message):
        index.locate(lon, lat)
    with pytest.raises(ValueError, match=message):
        index.locate_many([114.3, lon], [30.6, lat])


def test_an_index_needs_distinct_codes_and_at_least_one_grid(block):
    with pytest.raises(GeoError, match="empty"):
        GridIndex([])
    with pytest.raises(GeoError, match="duplicate grid codes: 420102001001001"):
        GridIndex([*block, block[0]])


# --- the synthetic layer: agreement with a brute-force answer ---------------------------------


@pytest.fixture(scope="module")
def synthetic():
    layer = synthetic_grid_layer(600, width_km=8, height_km=6, seed=7)
    features = sorted(layer.features, key=lambda f: f.code)
    return features, GridIndex(features)


def brute_force(features, lon, lat, tolerance_m=30.0):
    """The answer from first principles: every polygon tested, distances in UTM."""
    polygons = np.array([f.polygon for f in features])
    codes = [f.code for f in features]
    utm = shapely.transform(polygons, lambda c: np.column_stack(TO_UTM.transform(*c.T)))
    answers, distances = [], []
    for x, y in zip(lon, lat, strict=True):
        covering = np.flatnonzero(shapely.covers(polygons, shapely.Point(x, y)))
        if len(covering):
            answers.append(("inside", codes[covering.min()]))
            distances.append(0.0)
            continue
        gaps = shapely.distance(utm, shapely.Point(*TO_UTM.transform(x, y)))
        nearest = int(np.argmin(gaps))
        status = "tolerance" if gaps[nearest] <= tolerance_m else "outside"
        answers.append((status, codes[nearest] if status == "tolerance" else None))
        distances.append(gaps[nearest])
    return answers, np.array(distances)


def test_random_points_agree_with_brute_force_and_between_single_and_bulk(synthetic):
    features, index = synthetic
    rng = np.random.default_rng(3)
    x0, y0, x1, y1 = shapely.total_bounds([f.polygon for f in features])
    # Mostly inside, plus a margin of ~500 m around the layer for tolerance and outside.
    lon = rng.uniform(x0 - 0.005, x1 + 0.005, 3000)
    lat = rng.uniform(y0 - 0.005, y1 + 0.005, 3000)
    expected, expected_distance = brute_force(features, lon, lat)
    bulk = index.locate_many(lon, lat)
    single = [index.locate(x, y) for x, y in zip(lon, lat, strict=True)]

    assert [(s.status, s.grid_code) for s in single] == expected
    assert list(zip(bulk.status, bulk.grid_code, strict=True)) == expected
    assert [s.distance_m for s in single] == pytest.approx(expected_distance, abs=0.05, rel=1e-3)
    assert bulk.distance_m == pytest.approx(expected_distance, abs=0.05, rel=1e-3)
    statuses = {status for status, _ in expected}
    assert statuses == {"inside", "tolerance", "outside"}
    by_code = {f.code: f for f in features}
    for located in single:
        if located.grid_code:
            grid = by_code[located.grid_code]
            assert (located.community_code, located.town_code) == (
                grid.community_code,
                grid.town_code,
            )


def test_points_on_vertices_and_edges_agree_with_brute_force(synthetic):
    """Boundary points are where a fast path would go wrong; every shared vertex is one."""
    features, index = synthetic
    vertices = shapely.get_coordinates([f.polygon for f in features[:150]])
    midpoints = (vertices[:-1] + vertices[1:]) / 2  # on edges (or across a ring seam)
    points = np.vstack([vertices, midpoints])
    expected, _ = brute_force(features, points[:, 0], points[:, 1])
    bulk = index.locate_many(points[:, 0], points[:, 1])
    assert list(zip(bulk.status, bulk.grid_code, strict=True)) == expected
    single = [index.locate(x, y) for x, y in points]
    assert [(s.status, s.grid_code) for s in single] == expected


def test_locate_many_accepts_lists_and_returns_parallel_arrays(synthetic):
    _, index = synthetic
    result = index.locate_many([114.3, 0.0], [30.6, 0.0])
    assert len(result) == 2
    assert list(result.status) == ["inside", "outside"]
    assert result.grid_code[1] is None and result.community_code[1] is None
    assert result.distance_m.dtype == np.float64
