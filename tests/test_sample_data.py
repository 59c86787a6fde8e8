"""The committed sample county (gridgov/sample) is consistent and reproducible."""

from __future__ import annotations

import itertools
import json
import re
from collections import Counter, defaultdict
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from pyproj import Transformer
from shapely.geometry import Polygon, shape

from gridgov.sample import CATALOG_PATH, GRIDS_PATH, generate
from tests.china_2026 import DAYS_OFF_2026, MAKEUP_WORKDAYS_2026

COUNTY = "330521"
PROPERTY_KEYS = {"code", "name", "community_code", "community_name", "town_code", "town_name"}
UNITS = {"work_hours", "work_days", "hours"}
ROLES = {"grid_worker", "office_member", "dispatcher", "supervisor", "admin"}


@pytest.fixture(scope="module")
def features() -> list[dict[str, Any]]:
    return json.loads(GRIDS_PATH.read_text(encoding="utf-8"))["features"]


@pytest.fixture(scope="module")
def props(features: list[dict[str, Any]]) -> list[dict[str, str]]:
    return [f["properties"] for f in features]


@pytest.fixture(scope="module")
def geoms(features: list[dict[str, Any]]) -> list[Polygon]:
    return [shape(f["geometry"]) for f in features]


@pytest.fixture(scope="module")
def metric(geoms: list[Polygon]) -> list[Polygon]:
    """The grids in UTM zone 50N (metres)."""
    to_utm = Transformer.from_crs("EPSG:4326", "EPSG:32650", always_xy=True)

    def project(xy: np.ndarray) -> np.ndarray:
        x, y = to_utm.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    return list(shapely.transform(geoms, project))


@pytest.fixture(scope="module")
def catalog() -> dict[str, Any]:
    return json.loads(CATALOG_PATH.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def area_codes(props: list[dict[str, str]]) -> dict[str, set[str]]:
    return {
        "county": {COUNTY},
        "town": {p["town_code"] for p in props},
        "community": {p["community_code"] for p in props},
        "grid": {p["code"] for p in props},
    }


# --- grids ------------------------------------------------------------------------------------


def test_geojson_shape(features: list[dict[str, Any]]) -> None:
    data = json.loads(GRIDS_PATH.read_text(encoding="utf-8"))
    assert data["type"] == "FeatureCollection"
    assert GRIDS_PATH.stat().st_size < 1_500_000
    for feature in features:
        assert feature["type"] == "Feature"
        assert set(feature["properties"]) == PROPERTY_KEYS
        assert feature["geometry"]["type"] == "Polygon"
        ring = np.array(feature["geometry"]["coordinates"][0])
        assert len(feature["geometry"]["coordinates"]) == 1  # no holes
        assert np.array_equal(ring, np.round(ring, 7))
        # WGS84 lon/lat around 武康, 德清县.
        assert np.all((ring[:, 0] > 119.85) & (ring[:, 0] < 120.10))
        assert np.all((ring[:, 1] > 30.45) & (ring[:, 1] < 30.63))


def test_polygons_valid(geoms: list[Polygon], metric: list[Polygon]) -> None:
    for g in geoms:
        assert g.geom_type == "Polygon" and g.is_valid, g
        assert g.exterior.is_ccw  # RFC 7946 winding
    for g in metric:
        assert g.is_valid
        assert 20_000 < g.area < 3_000_000  # 0.02 to 3 km²


def test_no_overlaps(metric: list[Polygon]) -> None:
    tree = shapely.STRtree(metric)
    left, right = tree.query(metric, predicate="intersects")
    pairs = [(i, j) for i, j in zip(left.tolist(), right.tolist(), strict=True) if i < j]
    assert pairs, "neighbouring grids must touch"
    for i, j in pairs:
        assert metric[i].intersection(metric[j]).area < 1.0, (i, j)


def test_shared_edges_match_exactly(geoms: list[Polygon]) -> None:
    """Every inner edge appears in exactly two grids, so only the outer boundary is single."""
    seen: Counter[tuple[tuple[float, float], tuple[float, float]]] = Counter()
    for g in geoms:
        coords = [tuple(c) for c in shapely.get_coordinates(g.exterior).tolist()]
        for a, b in itertools.pairwise(coords):
            seen[(a, b) if a <= b else (b, a)] += 1
    assert max(seen.values()) == 2
    single = shapely.multilinestrings([[a, b] for (a, b), n in seen.items() if n == 1])
    union = shapely.union_all(geoms)
    assert single.length == pytest.approx(union.exterior.length, rel=1e-9)


def test_union_is_one_piece_filling_the_county(geoms: list[Polygon], metric: list[Polygon]) -> None:
    union = shapely.union_all(metric)
    assert union.geom_type == "Polygon"
    assert len(union.interiors) == 0
    assert union.area == pytest.approx(sum(g.area for g in metric), abs=10.0)
    assert 80e6 < union.area < 250e6  # a territory of roughly 15 × 12 km

    outline = generate.build_layer().outline
    assert outline.is_valid
    gap_or_spill = shapely.union_all(geoms).symmetric_difference(outline).area
    assert gap_or_spill < 1e-4 * outline.area
    # Not a rectangle: the outline fills clearly less than its bounding box.
    assert outline.area < 0.85 * outline.envelope.area


def test_codes_are_hierarchical_and_unique(props: list[dict[str, str]]) -> None:
    codes = [p["code"] for p in props]
    assert len(codes) == len(set(codes))
    town_names: dict[str, set[str]] = defaultdict(set)
    community_names: dict[str, set[str]] = defaultdict(set)
    community_town: dict[str, set[str]] = defaultdict(set)
    numbers: dict[str, list[int]] = defaultdict(list)
    for p in props:
        assert re.fullmatch(r"\d{15}", p["code"])
        assert re.fullmatch(r"\d{12}", p["community_code"])
        assert re.fullmatch(r"\d{9}", p["town_code"])
        assert p["code"].startswith(p["community_code"])
        assert p["community_code"].startswith(p["town_code"])
        assert p["town_code"].startswith(COUNTY)
        assert p["town_name"].endswith(("街道", "镇", "乡"))
        assert p["community_name"].endswith(("社区", "村"))
        n = int(p["code"][-3:])
        assert p["name"] == f"{p['community_name']}第{n}网格"
        numbers[p["community_code"]].append(n)
        town_names[p["town_code"]].add(p["town_name"])
        community_names[p["community_code"]].add(p["community_name"])
        community_town[p["community_code"]].add(p["town_code"])
    assert all(len(v) == 1 for v in town_names.values())
    assert all(len(v) == 1 for v in community_names.values())
    assert all(len(v) == 1 for v in community_town.values())
    assert len({next(iter(v)) for v in community_names.values()}) == len(community_names)
    for nums in numbers.values():
        assert sorted(nums) == list(range(1, len(nums) + 1))


def test_counts(props: list[dict[str, str]]) -> None:
    assert 250 <= len(props) <= 350
    communities = Counter(p["community_code"] for p in props)
    assert 12 <= len(communities) <= 18
    assert min(communities.values()) >= 5
    towns = {p["town_code"] for p in props}
    assert len(towns) == 3
    for town in towns:
        assert len({c for c in communities if c.startswith(town)}) >= 3


@pytest.mark.parametrize("key", ["community_code", "town_code"])
def test_areas_are_contiguous(props: list[dict[str, str]], metric: list[Polygon], key: str) -> None:
    groups: dict[str, list[Polygon]] = defaultdict(list)
    for p, g in zip(props, metric, strict=True):
        groups[p[key]].append(g)
    for code, members in groups.items():
        assert shapely.union_all(members).geom_type == "Polygon", code


# --- catalog ----------------------------------------------------------------------------------


def test_county_and_departments(catalog: dict[str, Any]) -> None:
    assert catalog["county"] == {"code": COUNTY, "name": "德清县"}
    codes = [d["code"] for d in catalog["departments"]]
    assert len(codes) == len(set(codes))
    assert {"cgzf", "hw", "yl", "zj", "sthj", "ga", "scjg"} <= set(codes)
    for d in catalog["departments"]:
        assert d["kind"] == "functional"
        assert d["name"] and d["name_en"].isascii()
        assert not d["name"].endswith(("社区", "村", "街道", "镇"))  # area offices are implicit


def test_categories(catalog: dict[str, Any]) -> None:
    departments = {d["code"] for d in catalog["departments"]}
    categories = catalog["categories"]
    codes = [c["code"] for c in categories]
    assert len(codes) == len(set(codes))
    majors = {c["code"]: c for c in categories if "parent_code" not in c}
    minors = [c for c in categories if "parent_code" in c]
    assert set(majors) == {"01", "02", "03", "04", "05", "06", "07"}
    assert all(re.fullmatch(r"\d{2}", code) for code in majors)
    fallback = 0
    for c in minors:
        assert re.fullmatch(r"\d{4}", c["code"])
        assert c["parent_code"] in majors and c["code"].startswith(c["parent_code"])
        assert c["name_zh"] and c["name_en"].isascii()
        if c["default_department"] is None:
            fallback += 1  # 属地兜底: the community office handles it
        else:
            assert c["default_department"] in departments
        assert c["time_limit_unit"] in UNITS
        assert c["time_limit_value"] > 0
        assert c["clock_start"] in {"dispatch", "accept"}
        assert c["priority"] in {1, 2, 3}
        if c["parent_code"] == "05":  # emergencies: plain hours, urgent
            assert c["time_limit_unit"] == "hours" and c["time_limit_value"] <= 2
            assert c["priority"] == 1
    assert fallback >= 1
    assert {c["clock_start"] for c in minors} == {"dispatch", "accept"}
    assert {c["time_limit_unit"] for c in minors} == UNITS
    per_major = Counter(c["parent_code"] for c in minors)
    assert all(per_major[m] >= 3 for m in majors)
    by_name = {c["name_zh"]: c for c in minors}
    assert by_name["暴露垃圾"]["time_limit_value"] == 4
    assert by_name["暴露垃圾"]["time_limit_unit"] == "work_hours"
    assert by_name["道路不洁"]["time_limit_value"] == 2


def test_open311_attributes(catalog: dict[str, Any]) -> None:
    with_attributes = [c for c in catalog["categories"] if "attributes" in c]
    assert with_attributes
    datatypes = {"string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"}
    for c in with_attributes:
        orders = [a["order"] for a in c["attributes"]]
        assert len(orders) == len(set(orders)) and min(orders) >= 1
        for a in c["attributes"]:
            assert set(a) >= {
                "variable",
                "code",
                "datatype",
                "required",
                "datatype_description",
                "order",
                "description",
            }
            assert a["datatype"] in datatypes
            assert isinstance(a["variable"], bool) and isinstance(a["required"], bool)
            if a["datatype"].endswith("valuelist"):
                keys = [v["key"] for v in a["values"]]
                assert keys and len(keys) == len(set(keys))
                assert all(v["name"] for v in a["values"])


def test_routing_rules(catalog: dict[str, Any], area_codes: dict[str, set[str]]) -> None:
    categories = {c["code"] for c in catalog["categories"]}
    departments = {d["code"] for d in catalog["departments"]}
    levels = set()
    for rule in catalog["routing_rules"]:
        assert set(rule) == {"category_code", "area_code", "department"}
        assert rule["category_code"] in categories
        assert rule["department"] in departments
        level = next(k for k, codes in area_codes.items() if rule["area_code"] in codes)
        levels.add(level)
    pairs = [(r["category_code"], r["area_code"]) for r in catalog["routing_rules"]]
    assert len(pairs) == len(set(pairs))
    assert {"grid", "community", "town"} <= levels
    assert any(len(r["category_code"]) == 2 for r in catalog["routing_rules"])  # a 大类 rule


def test_people(catalog: dict[str, Any], area_codes: dict[str, set[str]]) -> None:
    people = catalog["people"]
    departments = {d["code"] for d in catalog["departments"]}
    assert 15 <= len(people) <= 30
    usernames = [p["username"] for p in people]
    assert len(usernames) == len(set(usernames))
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", u) for u in usernames)
    roles = Counter(p["role"] for p in people)
    assert set(roles) == ROLES
    assert roles["dispatcher"] == 2 and roles["admin"] == 1
    heads: Counter[str] = Counter()
    staffed = set()
    covered = set()
    supervisor_levels = set()
    for p in people:
        assert p["name"]
        if p["role"] == "grid_worker":
            assert 1 <= len(p["grids"]) <= 3
            assert set(p["grids"]) <= area_codes["grid"]
            covered |= {g[:12] for g in p["grids"]}
        elif p["role"] == "office_member":
            assert p["department"] in departments
            staffed.add(p["department"])
            heads[p["department"]] += bool(p["is_head"])
        elif p["role"] == "supervisor":
            code = p.get("area_code")
            if code is None:
                supervisor_levels.add("county")
            else:
                level = next(k for k, codes in area_codes.items() if code in codes)
                assert level in {"town", "community"}
                supervisor_levels.add(level)
    assert staffed == departments
    assert all(heads[d] == 1 for d in departments)
    assert len(covered) >= 3
    assert supervisor_levels == {"county", "town", "community"}


def test_calendar_matches_the_2026_notice(catalog: dict[str, Any]) -> None:
    rows = catalog["calendar"]
    days = [date.fromisoformat(r["day"]) for r in rows]
    assert len(days) == len(set(days))
    assert all(d.year == 2026 for d in days)
    assert all(r["kind"] in {"holiday", "workday"} and r["name"] for r in rows)
    holidays = {date.fromisoformat(r["day"]) for r in rows if r["kind"] == "holiday"}
    workdays = {date.fromisoformat(r["day"]) for r in rows if r["kind"] == "workday"}
    assert workdays == MAKEUP_WORKDAYS_2026
    assert all(d.weekday() >= 5 for d in workdays)
    weekday_holidays = {d for d in DAYS_OFF_2026 if d.weekday() < 5}
    assert weekday_holidays <= holidays <= DAYS_OFF_2026
    assert date(2026, 10, 10) in workdays
    assert date(2026, 9, 20) in workdays
    assert date(2026, 2, 16) in holidays
    assert date(2026, 10, 8) not in holidays


def test_calendar_agrees_with_chinese_calendar(catalog: dict[str, Any]) -> None:
    chinese_calendar = pytest.importorskip("chinese_calendar")
    kinds = {date.fromisoformat(r["day"]): r["kind"] for r in catalog["calendar"]}
    day = date(2026, 1, 1)
    while day.year == 2026:
        ours = kinds.get(day)
        off = ours == "holiday" or (day.weekday() >= 5 and ours != "workday")
        assert off == chinese_calendar.is_holiday(day), day
        day += timedelta(days=1)


# --- determinism ------------------------------------------------------------------------------


def test_generator_reproduces_the_committed_files(tmp_path: Path) -> None:
    generate.main(tmp_path)
    for committed in (GRIDS_PATH, CATALOG_PATH):
        assert (tmp_path / committed.name).read_bytes() == committed.read_bytes(), committed.name
