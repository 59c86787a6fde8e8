import json
import zipfile

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely

from geo.boundaries import read_grid_layer
from geo.errors import GeoError, GridLayerError
from geo.grids import GridFields

SHAPEFILE_FIELDS = GridFields(
    code="GRID_CODE",
    name="GRID_NAME",
    community_code="COMM_CODE",
    community_name="COMM_NAME",
    town_code="TOWN_CODE",
    town_name="TOWN_NAME",
)
SHAPEFILE_COLUMNS = {
    "code": "GRID_CODE",
    "name": "GRID_NAME",
    "community_code": "COMM_CODE",
    "community_name": "COMM_NAME",
    "town_code": "TOWN_CODE",
    "town_name": "TOWN_NAME",
}


def problems_of(path, **kwargs) -> list[str]:
    with pytest.raises(GridLayerError) as caught:
        read_grid_layer(path, **kwargs)
    error = caught.value
    lines = str(error).splitlines()
    count = len(error.problems)
    assert lines[0] == (
        f"cannot import grid layer {path.name}: {count} problem{'s' if count > 1 else ''}"
    )
    assert lines[1:] == error.problems
    assert isinstance(error, GeoError)
    return error.problems


def assert_same_layer(layer, block, tolerance=1e-12):
    assert [f.code for f in layer.features] == [f.code for f in block]
    for read, expected in zip(layer.features, block, strict=True):
        assert (read.name, read.community_code, read.community_name) == (
            expected.name,
            expected.community_code,
            expected.community_name,
        )
        assert (read.town_code, read.town_name, read.county_code) == (
            expected.town_code,
            expected.town_name,
            "420102",
        )
        # Shapefiles store rings clockwise; normalising makes vertex order comparable.
        assert shapely.equals_exact(
            shapely.normalize(read.polygon), shapely.normalize(expected.polygon), tolerance
        )


# --- good files -------------------------------------------------------------------------------


def test_reads_geojson(tmp_path, make_frame, block):
    path = tmp_path / "grids.geojson"
    make_frame().to_file(path)
    layer = read_grid_layer(path)
    assert layer.source_crs == "EPSG:4326"
    assert_same_layer(layer, block)


def test_numeric_codes_in_geojson_become_digit_strings(tmp_path, make_frame, block):
    frame = make_frame()
    for column in ("code", "community_code", "town_code"):
        frame[column] = frame[column].astype("int64")
    path = tmp_path / "numeric.geojson"
    frame.to_file(path)
    assert_same_layer(read_grid_layer(path), block)


def test_reads_shapefile_with_renamed_fields(tmp_path, make_frame, block):
    path = tmp_path / "grids.shp"
    make_frame(**SHAPEFILE_COLUMNS).to_file(path, encoding="utf-8")
    assert_same_layer(read_grid_layer(path, SHAPEFILE_FIELDS), block)


def test_reads_zipped_shapefile(tmp_path, make_frame, block):
    make_frame(**SHAPEFILE_COLUMNS).to_file(tmp_path / "grids.shp", encoding="utf-8")
    archive = tmp_path / "grids.zip"
    with zipfile.ZipFile(archive, "w") as out:
        for part in tmp_path.glob("grids.*"):
            if part != archive:
                out.write(part, part.name)
    assert_same_layer(read_grid_layer(archive, SHAPEFILE_FIELDS), block)


def test_reads_geopackage_in_cgcs2000_gauss_kruger_and_converts_to_wgs84(
    tmp_path, make_frame, block
):
    path = tmp_path / "grids.gpkg"
    projected = make_frame().to_crs("EPSG:4547")  # CGCS2000 / 3-degree GK CM 114E
    # Sanity: the file really holds metres (false easting 500 km), not degrees.
    assert projected.total_bounds[0] > 100_000
    projected.to_file(path)
    layer = read_grid_layer(path)
    assert layer.source_crs == "EPSG:4547"
    assert_same_layer(layer, block, tolerance=1e-8)  # 1e-8° ≈ 1 mm


def test_projected_point_converts_to_the_expected_lon_lat(tmp_path, make_frame):
    # A grid corner given in EPSG:4547 metres must come back at the lon/lat pyproj gives for it.
    to_gk = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:4547", always_xy=True)
    x, y = to_gk.transform(114.30, 30.60)
    # 0.3° east of the central meridian is ~28.7 km, plus the 500 km false easting.
    assert x == pytest.approx(528_750, abs=100) and y == pytest.approx(3_386_000, abs=1_000)
    path = tmp_path / "grids.gpkg"
    make_frame().to_crs("EPSG:4547").to_file(path)
    first = read_grid_layer(path).features[0].polygon
    assert min(shapely.get_coordinates(first)[:, 0]) == pytest.approx(114.30, abs=1e-8)
    assert min(shapely.get_coordinates(first)[:, 1]) == pytest.approx(30.60, abs=1e-8)


def test_reads_one_layer_of_a_multi_layer_geopackage(tmp_path, make_frame, block):
    path = tmp_path / "two.gpkg"
    make_frame().to_file(path, layer="grids")
    make_frame().iloc[:1].to_file(path, layer="other")
    assert_same_layer(read_grid_layer(path, layer="grids"), block)
    assert problems_of(path) == ["the file has 2 layers (grids, other): choose one"]
    assert problems_of(path, layer="nope") == ["no layer 'nope' in the file (it has: grids, other)"]


def test_multipolygons_are_accepted(tmp_path, make_frame):
    frame = make_frame()
    a, b = frame.geometry.iloc[0], frame.geometry.iloc[3]
    frame = frame.iloc[[0, 1, 2]].copy()
    frame.loc[0, "geometry"] = shapely.MultiPolygon([a, b])  # 001 owns two far corners
    path = tmp_path / "multi.gpkg"
    frame.to_file(path)
    layer = read_grid_layer(path)
    assert layer.features[0].polygon.geom_type == "MultiPolygon"
    assert layer.features[0].polygon.area == pytest.approx(2 * a.area)


def test_lon_lat_file_without_crs_is_taken_as_wgs84(tmp_path, make_frame, block):
    path = tmp_path / "nocrs.shp"
    make_frame(**SHAPEFILE_COLUMNS).to_file(path, encoding="utf-8")
    path.with_suffix(".prj").unlink()
    layer = read_grid_layer(path, SHAPEFILE_FIELDS)
    assert layer.source_crs == "EPSG:4326"
    assert_same_layer(layer, block)


def test_slivers_below_the_overlap_tolerance_pass(tmp_path, make_frame):
    frame = make_frame()
    # Grid 002 reaches 1e-6° (~0.1 m) into 001 along their 1.1 km shared edge: ~100 m².
    x0, y0, x1, y1 = frame.geometry.iloc[1].bounds
    frame.loc[1, "geometry"] = shapely.box(x0 - 1e-6, y0, x1, y1)
    path = tmp_path / "sliver.geojson"
    frame.to_file(path)
    assert "overlaps" in problems_of(path)[0]
    assert len(read_grid_layer(path, overlap_tolerance_m2=200).features) == 4


# --- bad files --------------------------------------------------------------------------------


def test_missing_file(tmp_path):
    assert problems_of(tmp_path / "nope.geojson") == [
        f"file not found: {tmp_path / 'nope.geojson'}"
    ]


def test_unsupported_file_type(tmp_path):
    path = tmp_path / "grids.csv"
    path.write_text("code,wkt\n")
    (problem,) = problems_of(path)
    assert problem.startswith("unsupported file type '.csv': expected GeoJSON (.geojson)")


@pytest.mark.parametrize(("name", "kind"), [("bad.geojson", "GeoJSON"), ("bad.gpkg", "GeoPackage")])
def test_unreadable_file(tmp_path, name, kind):
    path = tmp_path / name
    path.write_bytes(b"\x00\x01 this is not a map")
    (problem,) = problems_of(path)
    assert problem.startswith(f"not a readable {kind} file:")


def test_missing_property_columns(tmp_path, make_frame):
    path = tmp_path / "grids.geojson"
    make_frame().drop(columns=["community_code", "town_name"]).to_file(path)
    assert problems_of(path) == [
        "missing property column 'community_code' (GridFields.community_code)",
        "missing property column 'town_name' (GridFields.town_name)",
    ]


@pytest.mark.parametrize("prj", ["GEOGCS[nonsense", "garbage"])  # GDAL fails on one, not the other
def test_unknown_crs_in_prj(tmp_path, make_frame, prj):
    path = tmp_path / "grids.shp"
    make_frame(**SHAPEFILE_COLUMNS).to_file(path, encoding="utf-8")
    path.with_suffix(".prj").write_text(prj)
    assert problems_of(path, fields=SHAPEFILE_FIELDS) == [
        "unknown CRS: the .prj file cannot be understood"
    ]


def test_unsupported_crs(tmp_path, make_frame):
    local = pyproj.CRS.from_wkt(
        'LOCAL_CS["site grid",UNIT["metre",1],AXIS["Easting",EAST],AXIS["Northing",NORTH]]'
    )
    path = tmp_path / "local.gpkg"
    make_frame().set_crs(local, allow_override=True).to_file(path)
    (problem,) = problems_of(path)
    assert problem.startswith("unsupported CRS 'site grid': cannot convert it to WGS84")


def test_projected_file_without_crs(tmp_path, make_frame):
    path = tmp_path / "grids.shp"
    make_frame(**SHAPEFILE_COLUMNS).to_crs("EPSG:4547").to_file(path, encoding="utf-8")
    path.with_suffix(".prj").unlink()
    (problem,) = problems_of(path, fields=SHAPEFILE_FIELDS)
    assert problem.startswith("no CRS: the file does not name its coordinate system")
    assert "are not lon/lat" in problem


def test_metres_labelled_as_wgs84_are_out_of_range(tmp_path, make_frame):
    frame = make_frame().to_crs("EPSG:4547").set_crs("EPSG:4326", allow_override=True)
    path = tmp_path / "mislabelled.gpkg"
    frame.to_file(path)
    problems = problems_of(path)
    assert len(problems) == 4
    assert problems[0].startswith(
        "feature 0 (420102001001001): coordinates outside the lon/lat range in WGS84 (bounds"
    )


def test_empty_layer(tmp_path, make_frame):
    path = tmp_path / "empty.gpkg"
    make_frame().iloc[:0].to_file(path)
    assert problems_of(path) == ["the layer has no features"]


def write_geojson(path, frame, geometries):
    """A GeoJSON file whose geometries may be null or anything, written by hand."""
    collection = json.loads(frame.to_json())
    for feature, geometry in zip(collection["features"], geometries, strict=True):
        feature["geometry"] = geometry
    path.write_text(json.dumps(collection))


def test_every_geometry_problem_is_reported_at_once(tmp_path, make_frame):
    frame = make_frame()
    good = json.loads(frame.to_json())["features"]
    bow_tie = {
        "type": "Polygon",
        "coordinates": [
            [[114.31, 30.6], [114.32, 30.61], [114.32, 30.6], [114.31, 30.61], [114.31, 30.6]]
        ],
    }
    path = tmp_path / "bad.geojson"
    write_geojson(
        path,
        frame,
        [
            None,
            bow_tie,
            {"type": "LineString", "coordinates": [[114.3, 30.61], [114.31, 30.62]]},
            good[3]["geometry"],
        ],
    )
    problems = problems_of(path)
    assert problems == [
        "feature 0 (420102001001001): geometry is missing",
        "feature 1 (420102001001002): invalid polygon: Self-intersection[114.315 30.605]",
        "feature 2 (420102001002003): geometry is a LineString, expected Polygon or MultiPolygon",
    ]


def test_empty_geometry(tmp_path, make_frame):
    frame = make_frame()
    frame.loc[2, "geometry"] = shapely.Polygon()
    path = tmp_path / "empty-geom.gpkg"
    frame.to_file(path)
    assert problems_of(path) == ["feature 2 (420102001002003): geometry is empty"]


def test_every_property_problem_is_reported_at_once(tmp_path, make_frame):
    frame = make_frame()
    frame.loc[0, "code"] = "42010200100100"  # 14 digits
    frame.loc[1, "code"] = "420102001002002"  # not in its community 420102001001
    frame.loc[2, "community_code"] = "420102009002"  # not in its town 420102001
    frame.loc[2, "code"] = "420102009002003"
    frame.loc[3, "code"] = "420102001002002"  # duplicate of feature 1
    frame.loc[3, "community_name"] = ""
    frame.loc[3, "name"] = None
    path = tmp_path / "codes.geojson"
    frame.to_file(path)
    assert problems_of(path) == [
        "feature 0 (42010200100100): grid code '42010200100100' is not 15 digits",
        "feature 1 (420102001002002): grid code 420102001002002 does not start with its"
        " community code 420102001001",
        "feature 2 (420102009002003): community code 420102009002 does not start with its town"
        " code 420102001",
        "feature 3 (420102001002002): grid name is empty",
        "feature 3 (420102001002002): community name is empty",
        "feature 3 (420102001002002): duplicate grid code (also feature 1)",
    ]


def test_missing_community_code_and_inconsistent_names(tmp_path, make_frame):
    frame = make_frame()
    frame.loc[0, "community_code"] = None
    frame.loc[3, "community_name"] = "另一个社区"  # community 420102001002 is 社区2 in feature 2
    path = tmp_path / "names.geojson"
    frame.to_file(path)
    assert problems_of(path) == [
        "feature 0 (420102001001001): community code is empty",
        "feature 3 (420102001002004): community 420102001002 is named '另一个社区' here but"
        " '社区2' in feature 2",
    ]


def test_overlapping_grids(tmp_path, make_frame):
    frame = make_frame()
    # Grid 004 also covers the east half of 001: 0.005° × 0.01° ≈ 480 m × 1110 m.
    frame.loc[3, "geometry"] = shapely.union(
        frame.geometry.iloc[3], shapely.box(114.305, 30.60, 114.31, 30.61)
    )
    path = tmp_path / "overlap.geojson"
    frame.to_file(path)
    (problem,) = problems_of(path)
    expected_m2 = (
        shapely.box(114.305, 30.60, 114.31, 30.61).area
        * (111_320 * 110_574)
        * np.cos(np.radians(30.605))
    )
    assert problem.startswith(
        "feature 0 (420102001001001): overlaps feature 3 (420102001002004) by"
    )
    area = float(problem.split(" by ")[1].removesuffix(" m²"))
    assert area == pytest.approx(expected_m2, rel=0.01)


def test_grid_inside_another_is_an_overlap(tmp_path, make_frame):
    frame = make_frame()
    inner = shapely.box(114.301, 30.601, 114.302, 30.602)
    frame.loc[len(frame)] = [
        "420102001001005",
        "网格5",
        "420102001001",
        "社区1",
        "420102001",
        "街道1",
        inner,
    ]
    path = tmp_path / "inner.gpkg"
    frame.to_file(path)
    (problem,) = problems_of(path)
    assert problem.startswith("feature 0 (420102001001001): overlaps feature 4 (420102001001005)")


def test_problem_list_is_capped_in_the_message_but_complete_in_problems(tmp_path):
    boxes = [shapely.box(114 + i * 0.01, 30, 114.005 + i * 0.01, 30.005) for i in range(60)]
    frame = gpd.GeoDataFrame(
        {
            "code": ["123"] * 60,
            "name": ["g"] * 60,
            "community_code": ["420102001001"] * 60,
            "community_name": ["c"] * 60,
            "town_code": ["420102001"] * 60,
            "town_name": ["t"] * 60,
        },
        geometry=boxes,
        crs="EPSG:4326",
    )
    path = tmp_path / "many.geojson"
    frame.to_file(path)
    with pytest.raises(GridLayerError) as caught:
        read_grid_layer(path)
    problems = caught.value.problems
    assert len(problems) == 60 + 59  # 60 malformed codes, 59 duplicates
    assert (
        str(caught.value).splitlines()[0] == "cannot import grid layer many.geojson: 119 problems"
    )
    assert str(caught.value).splitlines()[-1] == "... and 69 more"
