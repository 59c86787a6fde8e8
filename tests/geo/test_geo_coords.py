import math

import numpy as np
import pytest

from geo import coords
from geo.errors import CoordinateError, GeoError

# Published WGS84 → GCJ-02 pairs (lon, lat), from the test suites of the eviltransform and
# coordtransform libraries.
WGS84_GCJ02_PAIRS = [
    ((121.5272106, 31.1774276), (121.531541859215, 31.17530398364597)),  # Shanghai
    ((113.912316, 22.543847), (113.9171764808363, 22.540796131694766)),  # Shenzhen
    ((116.377817, 39.911954), (116.38404722455657, 39.91334545536069)),  # Beijing, Xidan
    ((116.404, 39.915), (116.41024449916938, 39.91640428150164)),  # Beijing, Tiananmen
]
# Published GCJ-02 → BD-09 pair (coordtransform's example, Tiananmen).
GCJ02_BD09_PAIR = ((116.404, 39.915), (116.41036949371029, 39.92133699351021))


def metres(lon1, lat1, lon2, lat2):
    """Haversine distance, independent of the code under test."""
    lon1, lat1, lon2, lat2 = map(np.radians, (lon1, lat1, lon2, lat2))
    a = (
        np.sin((lat2 - lat1) / 2) ** 2
        + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6_371_008.8 * np.arcsin(np.sqrt(a))


def china_lattice():
    lon, lat = np.meshgrid(np.linspace(74, 134, 241), np.linspace(19, 53, 137))
    return lon.ravel(), lat.ravel()


@pytest.mark.parametrize(("wgs", "gcj"), WGS84_GCJ02_PAIRS)
def test_wgs84_to_gcj02_matches_published_pairs(wgs, gcj):
    assert coords.wgs84_to_gcj02(*wgs) == pytest.approx(gcj, abs=1e-9)


@pytest.mark.parametrize(("wgs", "gcj"), WGS84_GCJ02_PAIRS)
def test_gcj02_to_wgs84_recovers_published_wgs84_within_a_decimetre(wgs, gcj):
    lon, lat = coords.gcj02_to_wgs84(*gcj)
    assert metres(lon, lat, *wgs) < 0.1
    assert coords.to_wgs84(*gcj, "gcj02") == (lon, lat)


def test_gcj02_to_bd09_matches_published_pair():
    gcj, bd = GCJ02_BD09_PAIR
    assert coords.gcj02_to_bd09(*gcj) == pytest.approx(bd, abs=1e-9)
    back = coords.bd09_to_gcj02(*bd)
    assert metres(*back, *gcj) < 0.1


def test_offsets_are_the_few_hundred_metres_that_matter():
    wgs, gcj = WGS84_GCJ02_PAIRS[3]
    assert 300 < metres(*wgs, *gcj) < 700
    bd = coords.wgs84_to_bd09(*wgs)
    assert 700 < metres(*wgs, *bd) < 1500


def test_round_trips_over_china_are_within_a_decimetre():
    lon, lat = china_lattice()
    gcj_lon, gcj_lat = coords.wgs84_to_gcj02(lon, lat)
    assert np.max(metres(*coords.gcj02_to_wgs84(gcj_lon, gcj_lat), lon, lat)) < 0.1
    bd_lon, bd_lat = coords.wgs84_to_bd09(lon, lat)
    assert np.max(metres(*coords.bd09_to_wgs84(bd_lon, bd_lat), lon, lat)) < 0.1
    assert np.max(metres(*coords.to_wgs84(bd_lon, bd_lat, "bd09"), lon, lat)) < 0.1


def test_one_step_inverse_would_be_metres_off_so_iteration_matters():
    lon, lat = china_lattice()
    inside = ~coords.out_of_china(lon, lat)
    lon, lat = lon[inside], lat[inside]
    gcj_lon, gcj_lat = coords.wgs84_to_gcj02(lon, lat)
    # The usual shortcut: subtract the offset computed at the GCJ-02 point itself.
    shifted_lon, shifted_lat = coords.wgs84_to_gcj02(gcj_lon, gcj_lat)
    one_step = metres(2 * gcj_lon - shifted_lon, 2 * gcj_lat - shifted_lat, lon, lat)
    iterated = metres(*coords.gcj02_to_wgs84(gcj_lon, gcj_lat), lon, lat)
    assert one_step.max() > 1.0
    assert iterated.max() < 0.01


def test_gcj02_is_the_identity_outside_china():
    london, tokyo = (-0.1276, 51.5072), (139.6917, 35.6895)
    for point in (london, tokyo):
        assert coords.wgs84_to_gcj02(*point) == point
        assert coords.to_wgs84(*point, "gcj02") == point


def test_scalars_give_floats_and_arrays_keep_their_shape():
    lon, lat = coords.to_wgs84(116.404, 39.915, "gcj02")
    assert type(lon) is float and type(lat) is float
    grid_lon, grid_lat = np.full((2, 3), 116.404), np.full((2, 3), 39.915)
    out_lon, out_lat = coords.to_wgs84(grid_lon, grid_lat, "bd09")
    assert out_lon.shape == out_lat.shape == (2, 3)
    same_lon, same_lat = coords.to_wgs84(grid_lon, grid_lat, "wgs84")
    assert np.array_equal(same_lon, grid_lon) and np.array_equal(same_lat, grid_lat)


@pytest.mark.parametrize("name", ["wgs84", "GCJ02", " bd09 "])
def test_crs_names_are_case_and_space_insensitive(name):
    lon, lat = coords.to_wgs84(116.404, 39.915, name)
    assert math.isfinite(lon) and math.isfinite(lat)


def test_unknown_crs_is_a_clear_value_error():
    with pytest.raises(ValueError, match=r"unknown crs 'utm': expected one of wgs84, gcj02, bd09"):
        coords.to_wgs84(116.4, 39.9, "utm")


@pytest.mark.parametrize(
    ("lon", "lat", "message"),
    [
        (float("nan"), 30.0, "lon is NaN"),
        (114.0, float("nan"), "lat is NaN"),
        (200.0, 30.0, r"lon 200.0 is outside \[-180, 180\]"),
        (114.0, -91.0, r"lat -91.0 is outside \[-90, 90\]"),
        (float("inf"), 30.0, r"lon inf is outside \[-180, 180\]"),
    ],
)
def test_invalid_coordinates_are_rejected_naming_the_problem(lon, lat, message):
    for convert in (coords.wgs84_to_gcj02, coords.gcj02_to_wgs84, coords.bd09_to_wgs84):
        with pytest.raises(CoordinateError, match=message) as caught:
            convert(lon, lat)
        assert isinstance(caught.value, ValueError) and isinstance(caught.value, GeoError)


def test_invalid_array_coordinates_name_the_point():
    lon = np.array([114.0, 114.0, 300.0])
    lat = np.array([30.0, np.nan, 30.0])
    with pytest.raises(ValueError, match=r"2 invalid coordinates: point 1: lat is NaN; point 2"):
        coords.gcj02_to_wgs84(lon, lat)


def test_swapped_lon_lat_is_named() -> None:
    with pytest.raises(CoordinateError, match=r"lat 119.97 is outside .* are lon and lat swapped"):
        coords.check_lonlat(30.54, 119.97)
