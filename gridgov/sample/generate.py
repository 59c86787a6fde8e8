"""Generate the sample county: `grids.geojson` and `catalog.json` next to this file.

Run as ``python -m gridgov.sample.generate``. The output is deterministic (fixed RNG seed, no
clock, no environment), so the committed files can be checked by regenerating them.

Geometry recipe, in a local transverse Mercator plane (metres) around 德清县 武康:

1. an irregular county outline (an ellipse with a few harmonic wobbles);
2. about 300 random grid seeds, denser in the urban core, relaxed once (Lloyd);
3. the Voronoi edges and the outline are noded together, densified and polygonized, so that
   every edge exists exactly once and neighbouring grids share identical vertices;
4. grids are grouped into communities (k-means on grid centroids, then made contiguous) and
   communities into three subdistricts;
5. every distinct vertex goes once through a smooth displacement field (a warp whose
   Lipschitz constant is below 1, hence one-to-one) and then to WGS84, rounded to 7 decimals.
   Because each distinct vertex is transformed exactly once, shared edges still match
   bit for bit and the grids neither overlap nor leave gaps.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry import Point, Polygon

from geo.grids import GridFeature, GridFields
from gridgov.sample import SAMPLE_DIR

FIELDS = asdict(GridFields())  # attribute → property name in the file

RNG_SEED = 20260521
COUNTY_CODE = "330521"
COUNTY_NAME = "德清县"  # Deqing County, Huzhou, Zhejiang
ORIGIN_LON, ORIGIN_LAT = 119.97, 30.54
LOCAL_CRS = (
    f"+proj=tmerc +lat_0={ORIGIN_LAT} +lon_0={ORIGIN_LON} +k=1 +x_0=0 +y_0=0 "
    "+ellps=GRS80 +units=m +no_defs"
)
# The old town of 武康 lies a little north-west of the origin; grids are smallest there.
# 舞阳 (hills, reservoirs) lies to its west and 下渚湖 (wetland, villages) to its east.
URBAN_CENTRE = np.array([-1200.0, 400.0])
N_GRIDS = 300
N_COMMUNITIES = 15
N_CORE_COMMUNITIES = 5
SEGMENT_M = 60.0  # densify edges so that the warp can bend them
DECIMALS = 7

GRIDS_FILE = "grids.geojson"
CATALOG_FILE = "catalog.json"


# --------------------------------------------------------------------------------------------
# Names


@dataclass(frozen=True)
class TownSpec:
    """A subdistrict: its 3-digit suffix, names, and community names in order of use.

    Communities are named in order of distance from the urban core, so the urban 社区 names
    come first and the village (村) names last.
    """

    suffix: str
    name: str
    name_en: str
    communities: tuple[tuple[str, str], ...]


CORE_TOWN = TownSpec(
    "101",
    "武康街道",
    "Wukang Subdistrict",
    (
        ("英溪社区", "Yingxi Community"),
        ("余英坊社区", "Yuyingfang Community"),
        ("千秋社区", "Qianqiu Community"),
        ("永安社区", "Yong'an Community"),
        ("城北社区", "Chengbei Community"),
        ("秋山社区", "Qiushan Community"),
        ("中兴社区", "Zhongxing Community"),
        ("沈长圩社区", "Shenchangwei Community"),
    ),
)
WEST_TOWN = TownSpec(
    "102",
    "舞阳街道",
    "Wuyang Subdistrict",
    (
        ("塔山社区", "Tashan Community"),
        ("城西社区", "Chengxi Community"),
        ("山民村", "Shanmin Village"),
        ("对河口村", "Duihekou Village"),
        ("上柏村", "Shangbai Village"),
        ("灯塔村", "Dengta Village"),
        ("杨坟村", "Yangfen Village"),
        ("云岫村", "Yunxiu Village"),
    ),
)
EAST_TOWN = TownSpec(
    "103",
    "下渚湖街道",
    "Xiazhuhu Subdistrict",
    (
        ("下渚湖社区", "Xiazhuhu Community"),
        ("二都村", "Erdu Village"),
        ("双桥村", "Shuangqiao Village"),
        ("东沈村", "Dongshen Village"),
        ("塘泾村", "Tangjing Village"),
        ("和睦村", "Hemu Village"),
        ("沿河村", "Yanhe Village"),
        ("八字桥村", "Baziqiao Village"),
    ),
)
TOWNS = (CORE_TOWN, WEST_TOWN, EAST_TOWN)


# --------------------------------------------------------------------------------------------
# Geometry in the local plane


def county_outline(rng: np.random.Generator) -> Polygon:
    """A star-shaped, irregular outline of roughly 15 × 12 km around the origin."""
    theta = np.linspace(0.0, 2.0 * math.pi, 512, endpoint=False)
    a, b = 7300.0, 5800.0
    radius = a * b / np.sqrt((b * np.cos(theta)) ** 2 + (a * np.sin(theta)) ** 2)
    # Harmonics with a 1/f-like spectrum: big lobes plus the small bends of rivers and ridges.
    wobble = np.ones_like(theta)
    for harmonic in range(2, 48):
        amplitude = 0.2 * harmonic**-1.1
        wobble += amplitude * np.sin(harmonic * theta + rng.uniform(0.0, 2.0 * math.pi))
    radius *= wobble
    return Polygon(np.column_stack([radius * np.cos(theta), radius * np.sin(theta)]))


def _density(xy: np.ndarray) -> np.ndarray:
    """Relative grid density in (0, 1]: urban core dense, countryside sparse."""
    d2 = np.sum((xy - URBAN_CENTRE) ** 2, axis=-1)
    return 0.22 + 0.78 * np.exp(-d2 / (2.0 * 2300.0**2))


def grid_seeds(rng: np.random.Generator, outline: Polygon) -> np.ndarray:
    """Random seeds with a density-dependent minimum spacing (a cheap Poisson-disc sample)."""
    inner = outline.buffer(-120.0)
    shapely.prepare(inner)
    minx, miny, maxx, maxy = inner.bounds
    seeds: list[np.ndarray] = []
    attempts = 0
    while len(seeds) < N_GRIDS:
        attempts += 1
        if attempts > 200_000:
            raise RuntimeError("seed sampling stalled; lower the spacing")
        p = np.array([rng.uniform(minx, maxx), rng.uniform(miny, maxy)])
        rho = float(_density(p))
        if rng.random() > rho or not inner.contains(Point(p)):
            continue
        spacing = 300.0 / math.sqrt(rho)
        if seeds and np.min(np.sum((np.array(seeds) - p) ** 2, axis=1)) < spacing**2:
            continue
        seeds.append(p)
    return np.array(seeds)


def _voronoi_cells(seeds: np.ndarray, frame: Polygon) -> list[Polygon]:
    vor = shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=frame, ordered=True)
    return list(shapely.get_parts(vor))


def relax(seeds: np.ndarray, outline: Polygon, rounds: int = 1) -> np.ndarray:
    """Lloyd relaxation: move each seed to the centroid of its clipped cell."""
    inner = outline.buffer(-60.0)
    frame = outline.envelope.buffer(5000.0)
    for _ in range(rounds):
        cells = _voronoi_cells(seeds, frame)
        moved = []
        for seed, cell in zip(seeds, cells, strict=True):
            c = cell.intersection(outline).centroid
            moved.append([c.x, c.y] if inner.contains(c) else seed)
        seeds = np.array(moved)
    return seeds


def grid_polygons(seeds: np.ndarray, outline: Polygon) -> list[Polygon]:
    """One polygon per seed: its Voronoi cell inside the outline, as an exact coverage."""
    frame = outline.envelope.buffer(5000.0)
    cells = _voronoi_cells(seeds, frame)
    # Node every edge once, densify it once, then build faces: neighbours share vertices.
    linework = shapely.unary_union([c.exterior for c in cells] + [outline.exterior])
    linework = shapely.segmentize(linework, SEGMENT_M)
    faces = [
        f
        for f in shapely.get_parts(shapely.polygonize(shapely.get_parts(linework)))
        if outline.contains(f.point_on_surface())
    ]
    reps = np.array([shapely.get_coordinates(f.point_on_surface())[0] for f in faces])
    d2 = np.sum((reps[:, None, :] - seeds[None, :, :]) ** 2, axis=2)
    labels = [int(i) for i in np.argmin(d2, axis=1)]

    # Where the outline cut a cell in pieces, give the pieces without the seed to the
    # neighbour they share most boundary with.
    adjacency = shared_boundaries(faces)
    for i, face in enumerate(faces):
        if face.contains(Point(seeds[labels[i]])):
            continue
        border: dict[int, float] = defaultdict(float)
        for j, length in adjacency[i].items():
            if labels[j] != labels[i]:
                border[labels[j]] += length
        labels[i] = max(sorted(border), key=lambda lab: border[lab])

    groups: dict[int, list[Polygon]] = defaultdict(list)
    for face, label in zip(faces, labels, strict=True):
        groups[label].append(face)
    polygons = []
    for label in range(len(seeds)):
        parts = groups[label]
        merged = parts[0] if len(parts) == 1 else shapely.coverage_union_all(parts)
        if not isinstance(merged, Polygon) or not merged.is_valid:
            raise RuntimeError(f"grid {label} is not a single valid polygon")
        polygons.append(shapely.orient_polygons(merged))
    return polygons


def shared_boundaries(polygons: Sequence[Polygon]) -> list[dict[int, float]]:
    """For each polygon, the length of boundary it shares with each neighbour."""
    tree = shapely.STRtree(polygons)
    result: list[dict[int, float]] = [{} for _ in polygons]
    left, right = tree.query(polygons, predicate="intersects")
    for i, j in zip(left.tolist(), right.tolist(), strict=True):
        if i >= j:
            continue
        length = shapely.intersection(polygons[i].boundary, polygons[j].boundary).length
        if length > 1e-6:
            result[i][j] = length
            result[j][i] = length
    return result


# --------------------------------------------------------------------------------------------
# Grouping grids into communities and towns


def _kmeans(points: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Plain k-means with k-means++ seeding; returns a label per point."""
    centres = [points[int(rng.integers(len(points)))]]
    for _ in range(k - 1):
        d2 = np.min(np.sum((points[:, None] - np.array(centres)[None]) ** 2, axis=2), axis=1)
        centres.append(points[int(rng.choice(len(points), p=d2 / d2.sum()))])
    c = np.array(centres)
    labels = np.zeros(len(points), dtype=int)
    for _ in range(100):
        labels = np.argmin(np.sum((points[:, None] - c[None]) ** 2, axis=2), axis=1)
        new = np.array(
            [points[labels == j].mean(axis=0) if np.any(labels == j) else c[j] for j in range(k)]
        )
        if np.array_equal(new, c):
            break
        c = new
    return labels


def _components(members: Iterable[int], adjacency: Sequence[dict[int, float]]) -> list[set[int]]:
    todo = set(members)
    comps = []
    while todo:
        start = min(todo)
        comp = {start}
        stack = [start]
        todo.discard(start)
        while stack:
            for j in adjacency[stack.pop()]:
                if j in todo:
                    todo.discard(j)
                    comp.add(j)
                    stack.append(j)
        comps.append(comp)
    return comps


def make_contiguous(labels: list[int], adjacency: Sequence[dict[int, float]]) -> list[int]:
    """Give every detached piece of a group to the neighbouring group it borders most."""
    labels = list(labels)
    changed = True
    while changed:
        changed = False
        for label in sorted(set(labels)):
            comps = _components((i for i, lab in enumerate(labels) if lab == label), adjacency)
            comps.sort(key=lambda comp: (-len(comp), min(comp)))
            for comp in comps[1:]:
                border: dict[int, float] = defaultdict(float)
                for i in comp:
                    for j, length in adjacency[i].items():
                        if labels[j] != label:
                            border[labels[j]] += length
                target = max(sorted(border), key=lambda lab: border[lab])
                for i in comp:
                    labels[i] = target
                changed = True
    return labels


def _aggregate_adjacency(
    labels: Sequence[int], adjacency: Sequence[dict[int, float]], n: int
) -> list[dict[int, float]]:
    result: list[dict[int, float]] = [defaultdict(float) for _ in range(n)]
    for i, neighbours in enumerate(adjacency):
        for j, length in neighbours.items():
            if labels[i] != labels[j]:
                result[labels[i]][labels[j]] += length
    return [dict(d) for d in result]


def grow_towns(
    centres: np.ndarray, adjacency: Sequence[dict[int, float]], dist_to_core: np.ndarray
) -> list[int]:
    """Split the communities into 3 contiguous towns by simultaneous region growing.

    Town 0 starts from the community nearest the urban centre, the other two from the
    community farthest from it and the one farthest from both. The town with the fewest
    communities grows next, by the free neighbour nearest its start, so every town stays
    contiguous and compact. Towns 1 and 2 are then ordered west, east.
    """
    n = len(centres)
    core = int(np.argmin(dist_to_core))
    far = int(np.argmax(dist_to_core))
    d_far = np.sqrt(np.sum((centres - centres[far]) ** 2, axis=1))
    third = int(np.argmax(np.minimum(dist_to_core, d_far)))
    starts = [core, far, third]
    town_of = [-1] * n
    for town, k in enumerate(starts):
        town_of[k] = town
    while -1 in town_of:
        order = sorted(range(3), key=lambda t: (town_of.count(t), t))
        for town in order:
            frontier = {j for i in range(n) if town_of[i] == town for j in adjacency[i]}
            free = sorted(j for j in frontier if town_of[j] == -1)
            if free:
                origin = centres[starts[town]]
                town_of[min(free, key=lambda j: (float(np.sum((centres[j] - origin) ** 2)), j))] = (
                    town
                )
                break
        else:
            raise RuntimeError("some communities cannot be reached from any town")
    mean_x = [float(np.mean([centres[k, 0] for k in range(n) if town_of[k] == t])) for t in (1, 2)]
    if mean_x[0] > mean_x[1]:  # town 1 must be the western one
        town_of = [{1: 2, 2: 1}.get(t, t) for t in town_of]
    return town_of


# --------------------------------------------------------------------------------------------
# Warp and projection


class Warp:
    """A smooth displacement field: a few plane waves per axis at several wavelengths.

    The sum of amplitude × wavenumber per axis is about 0.65, so the displacement has a
    Lipschitz constant below 0.92 and the warp is one-to-one: a valid coverage stays valid.
    """

    SCALES = ((4200.0, 120.0), (1700.0, 60.0), (650.0, 18.0), (260.0, 3.0))

    def __init__(self, rng: np.random.Generator) -> None:
        self.modes: list[tuple[int, float, float, float, float]] = []
        for wavelength, amplitude in self.SCALES:
            k = 2.0 * math.pi / wavelength
            for axis in (0, 1):
                for share in (0.6, 0.4):
                    angle = rng.uniform(0.0, 2.0 * math.pi)
                    phase = rng.uniform(0.0, 2.0 * math.pi)
                    kx, ky = k * math.cos(angle), k * math.sin(angle)
                    self.modes.append((axis, share * amplitude, kx, ky, phase))

    def __call__(self, xy: np.ndarray) -> np.ndarray:
        out = xy.copy()
        for axis, amplitude, kx, ky, phase in self.modes:
            out[:, axis] += amplitude * np.sin(kx * xy[:, 0] + ky * xy[:, 1] + phase)
        return out


def to_wgs84(polygons: Sequence[Polygon], warp: Warp) -> list[Polygon]:
    """Warp and project every distinct vertex exactly once, then rebuild the polygons."""
    rings = [shapely.get_coordinates(p.exterior) for p in polygons]
    unique, inverse = np.unique(np.concatenate(rings), axis=0, return_inverse=True)
    warped = warp(unique)
    transformer = Transformer.from_crs(LOCAL_CRS, "EPSG:4326", always_xy=True)
    lon, lat = transformer.transform(warped[:, 0], warped[:, 1])
    lonlat = np.round(np.column_stack([lon, lat]), DECIMALS)
    mapped = lonlat[inverse.reshape(-1)]
    result = []
    start = 0
    for ring in rings:
        coords = mapped[start : start + len(ring)]
        start += len(ring)
        keep = np.ones(len(coords), dtype=bool)
        keep[1:] = np.any(coords[1:] != coords[:-1], axis=1)  # drop repeats made by rounding
        # Start each ring at its south-westmost vertex, whatever order GEOS returned.
        open_ring = coords[keep][:-1]
        first = int(np.lexsort((open_ring[:, 1], open_ring[:, 0]))[0])
        open_ring = np.roll(open_ring, -first, axis=0)
        poly = Polygon(np.vstack([open_ring, open_ring[:1]]))
        if not poly.is_valid:
            raise RuntimeError("a grid became invalid after warping and rounding")
        result.append(poly)
    return result


# --------------------------------------------------------------------------------------------
# The layer


@dataclass(frozen=True)
class SampleLayer:
    """The generated grids plus the county outline (the outline is not written out)."""

    grids: list[GridFeature]
    outline: Polygon  # WGS84, warped like the grids

    def community_code(self, name: str) -> str:
        for g in self.grids:
            if g.community_name == name:
                return g.community_code
        raise KeyError(f"no community {name} in the sample layer")

    def town_code(self, name: str) -> str:
        for g in self.grids:
            if g.town_name == name:
                return g.town_code
        raise KeyError(f"no town {name} in the sample layer")

    def grid_codes(self, community_name: str) -> list[str]:
        codes = [g.code for g in self.grids if g.community_name == community_name]
        if not codes:
            raise KeyError(f"no community {community_name} in the sample layer")
        return codes


def build_layer() -> SampleLayer:
    """The sample grids in WGS84, coded and named, in code order."""
    rng = np.random.default_rng(RNG_SEED)
    outline = county_outline(rng)
    seeds = relax(grid_seeds(rng, outline), outline)
    polygons = grid_polygons(seeds, outline)
    adjacency = shared_boundaries(polygons)
    centroids = np.array([[p.centroid.x, p.centroid.y] for p in polygons])

    # Communities: k-means on grid centroids gives about equal grid counts, so communities
    # are small in the dense urban core and large in the countryside.
    community_of = make_contiguous(
        [int(x) for x in _kmeans(centroids, N_COMMUNITIES, rng)], adjacency
    )
    community_ids = sorted(set(community_of))
    index = {cid: n for n, cid in enumerate(community_ids)}
    community_of = [index[c] for c in community_of]
    n_comm = len(community_ids)
    comm_centre = np.array(
        [centroids[[c == k for c in community_of]].mean(axis=0) for k in range(n_comm)]
    )
    comm_adjacency = _aggregate_adjacency(community_of, adjacency, n_comm)

    # Towns: 武康 around the urban core, 舞阳 to the west and 下渚湖 to the east.
    dist = np.sqrt(np.sum((comm_centre - URBAN_CENTRE) ** 2, axis=1))
    town_of = grow_towns(comm_centre, comm_adjacency, dist)

    warp = Warp(rng)
    wgs84 = to_wgs84(polygons, warp)
    outline_wgs84 = to_wgs84([shapely.segmentize(outline, SEGMENT_M)], warp)[0]

    grids: list[GridFeature] = []
    for t, town in enumerate(TOWNS):
        town_code = COUNTY_CODE + town.suffix
        communities = sorted(
            (k for k in range(n_comm) if town_of[k] == t), key=lambda k: (dist[k], k)
        )
        if len(communities) > len(town.communities):
            raise RuntimeError(f"{town.name}: more communities than names")
        for n, k in enumerate(communities, start=1):
            community_code = f"{town_code}{n:03d}"
            community_name = town.communities[n - 1][0]
            members = [i for i in range(len(polygons)) if community_of[i] == k]
            # Reading order: rows of about 400 m from north to south, west to east in a row.
            members.sort(key=lambda i: (-round(centroids[i, 1] / 400.0), centroids[i, 0], i))
            for g, i in enumerate(members, start=1):
                grids.append(
                    GridFeature(
                        code=f"{community_code}{g:03d}",
                        name=f"{community_name}第{g}网格",
                        community_code=community_code,
                        community_name=community_name,
                        town_code=town_code,
                        town_name=town.name,
                        polygon=wgs84[i],
                    )
                )
    return SampleLayer(grids=grids, outline=outline_wgs84)


def geojson_text(layer: SampleLayer) -> str:
    """A FeatureCollection with one feature per line: small, and readable in a diff."""
    lines = []
    for grid in layer.grids:
        feature = {
            "type": "Feature",
            "properties": {
                column: getattr(grid, attribute) for attribute, column in FIELDS.items()
            },
            "geometry": {
                "type": "Polygon",
                "coordinates": [shapely.get_coordinates(grid.polygon.exterior).tolist()],
            },
        }
        lines.append(json.dumps(feature, ensure_ascii=False, separators=(",", ":")))
    return '{"type":"FeatureCollection","features":[\n' + ",\n".join(lines) + "\n]}\n"


# --------------------------------------------------------------------------------------------
# The catalog

DEPARTMENTS: tuple[tuple[str, str, str], ...] = (
    ("cgzf", "县综合行政执法局", "Comprehensive Administrative Law Enforcement Bureau"),
    ("hw", "县环境卫生管理中心", "Environmental Sanitation Management Centre"),
    ("yl", "县园林绿化管理中心", "Landscaping and Greening Management Centre"),
    ("zj", "县住房和城乡建设局", "Housing and Urban-Rural Development Bureau"),
    ("sthj", "市生态环境局德清分局", "Ecology and Environment Bureau, Deqing Branch"),
    ("ga", "县公安局城区派出所", "Public Security Bureau, Urban Police Station"),
    ("scjg", "县市场监督管理局", "Market Supervision Administration"),
    ("jt", "县交通运输局", "Transport Bureau"),
    ("xf", "县消防救援大队", "Fire and Rescue Brigade"),
    ("sw", "县水务集团", "Water Supply and Drainage Group"),
    ("rq", "县天然气公司", "Natural Gas Company"),
)

# (code, name_zh, name_en)
MAJOR_CATEGORIES: tuple[tuple[str, str, str], ...] = (
    ("01", "市容环境", "City appearance and environment"),
    ("02", "宣传广告", "Publicity and advertising"),
    ("03", "施工管理", "Construction management"),
    ("04", "街面秩序", "Street order"),
    ("05", "突发事件", "Emergencies"),
    ("06", "环境保护", "Environmental protection"),
    ("07", "社会治安", "Public security"),
)

WH, WD, H = "work_hours", "work_days", "hours"
DISPATCH, ACCEPT = "dispatch", "accept"

# (code, name_zh, name_en, default department or None for 属地兜底, limit, unit, clock, priority)
MINOR_CATEGORIES: tuple[tuple[str, str, str, str | None, int, str, str, int], ...] = (
    ("0101", "私搭乱建", "Illegal structures", None, 5, WD, ACCEPT, 2),
    ("0102", "暴露垃圾", "Exposed garbage", "hw", 4, WH, DISPATCH, 2),
    ("0103", "积存垃圾渣土", "Accumulated garbage and muck", "hw", 1, WD, DISPATCH, 2),
    ("0104", "道路不洁", "Unclean road", "hw", 2, WH, DISPATCH, 2),
    ("0105", "水域不洁", "Unclean water surface", "hw", 1, WD, DISPATCH, 2),
    ("0106", "绿地脏乱", "Untidy green space", "yl", 5, WD, DISPATCH, 3),
    ("0107", "违规焚烧", "Illegal burning", "cgzf", 2, WH, DISPATCH, 2),
    ("0108", "沿街晾挂", "Clothes hung along the street", "cgzf", 1, WD, DISPATCH, 3),
    ("0109", "公厕不洁", "Dirty public toilet", "hw", 4, WH, DISPATCH, 2),
    ("0110", "废弃车辆", "Abandoned vehicle", "cgzf", 5, WD, DISPATCH, 3),
    ("0111", "垃圾满溢", "Overflowing rubbish bin", "hw", 2, WH, DISPATCH, 2),
    ("0201", "非法小广告", "Illegal small advertisements", "hw", 1, WD, DISPATCH, 3),
    ("0202", "违规张贴悬挂广告", "Illegal posters and banners", "cgzf", 2, WD, DISPATCH, 3),
    ("0203", "违规户外广告", "Unauthorised outdoor advertising", "cgzf", 5, WD, DISPATCH, 3),
    ("0204", "店招店牌破损", "Damaged shop sign", "cgzf", 3, WD, DISPATCH, 2),
    ("0205", "散发广告", "Handing out flyers", "cgzf", 2, WH, DISPATCH, 3),
    ("0301", "施工扰民", "Construction noise disturbing residents", "cgzf", 4, WH, DISPATCH, 2),
    ("0302", "工地扬尘", "Construction site dust", "zj", 4, WH, DISPATCH, 2),
    ("0303", "道路遗撒", "Spillage on roads", "cgzf", 2, WH, DISPATCH, 2),
    ("0304", "违规占道施工", "Unauthorised road-occupying works", "zj", 1, WD, DISPATCH, 2),
    ("0305", "无证掘路", "Unpermitted road excavation", "zj", 1, WD, DISPATCH, 2),
    ("0306", "工地围挡破损", "Damaged site hoarding", "zj", 2, WD, DISPATCH, 3),
    ("0401", "无照经营游商", "Unlicensed street vendors", "cgzf", 2, WH, DISPATCH, 2),
    ("0402", "占道经营", "Business occupying the road", "cgzf", 2, WH, DISPATCH, 2),
    ("0403", "店外经营", "Business outside the shop front", "cgzf", 4, WH, DISPATCH, 2),
    ("0404", "乱堆物堆料", "Piled goods and materials", "cgzf", 1, WD, DISPATCH, 2),
    ("0405", "非法营运", "Illegal passenger transport", "jt", 3, WD, DISPATCH, 2),
    ("0406", "机动车乱停放", "Illegally parked motor vehicles", "ga", 2, WH, DISPATCH, 2),
    ("0407", "非机动车乱停放", "Illegally parked bicycles and e-bikes", "cgzf", 4, WH, DISPATCH, 3),
    ("0408", "露天烧烤", "Open-air barbecue", "cgzf", 2, WH, DISPATCH, 2),
    ("0501", "路面塌陷", "Road surface collapse", "zj", 2, H, DISPATCH, 1),
    ("0502", "自来水管破裂", "Burst water main", "sw", 2, H, DISPATCH, 1),
    ("0503", "燃气管道破裂", "Gas pipe rupture", "rq", 1, H, DISPATCH, 1),
    ("0504", "下水道堵塞或破损", "Blocked or damaged sewer", "sw", 2, H, DISPATCH, 1),
    ("0505", "道路积水", "Waterlogged road", "zj", 2, H, DISPATCH, 1),
    ("0506", "道路结冰", "Icy road", "hw", 2, H, DISPATCH, 1),
    ("0507", "井盖缺失", "Missing manhole cover", "sw", 1, H, DISPATCH, 1),
    ("0601", "噪声污染", "Noise pollution", "sthj", 1, WD, DISPATCH, 2),
    ("0602", "油烟污染", "Cooking fume pollution", "cgzf", 3, WD, DISPATCH, 2),
    ("0603", "污水直排", "Direct sewage discharge", "sthj", 2, WD, DISPATCH, 2),
    ("0604", "废气排放", "Exhaust gas emission", "sthj", 2, WD, DISPATCH, 2),
    ("0605", "危险废物倾倒", "Dumped hazardous waste", "sthj", 4, H, DISPATCH, 1),
    ("0701", "治安隐患", "Public security hazard", "ga", 1, WD, ACCEPT, 2),
    ("0702", "矛盾纠纷", "Neighbourhood dispute", None, 5, WD, ACCEPT, 2),
    ("0703", "消防隐患", "Fire hazard", "xf", 1, WD, DISPATCH, 1),
    ("0704", "电动车违规充电", "Unsafe e-bike charging", "xf", 1, WD, DISPATCH, 2),
    ("0705", "出租房屋隐患", "Hazard in rented housing", None, 3, WD, ACCEPT, 2),
)

# Open311 GeoReport v2 service definition attributes for a few categories.
ATTRIBUTES: dict[str, list[dict[str, Any]]] = {
    "0402": [
        {
            "variable": True,
            "code": "business_type",
            "datatype": "singlevaluelist",
            "required": False,
            "datatype_description": "选择一项 (choose one)",
            "order": 1,
            "description": "经营类型 (type of business)",
            "values": [
                {"key": "fruit_vegetable", "name": "果蔬摊 (fruit and vegetables)"},
                {"key": "food_stall", "name": "小吃摊 (food stall)"},
                {"key": "goods", "name": "日用百货 (daily goods)"},
                {"key": "repair", "name": "修理摊 (repair stall)"},
                {"key": "other", "name": "其他 (other)"},
            ],
        },
        {
            "variable": True,
            "code": "stall_count",
            "datatype": "number",
            "required": False,
            "datatype_description": "整数 (a whole number)",
            "order": 2,
            "description": "摊位数量 (number of stalls)",
            "values": [],
        },
        {
            "variable": True,
            "code": "shop_name",
            "datatype": "string",
            "required": False,
            "datatype_description": "店名或招牌文字 (shop name or sign text)",
            "order": 3,
            "description": "涉及店铺 (shop concerned, if any)",
            "values": [],
        },
    ],
    "0601": [
        {
            "variable": True,
            "code": "noise_source",
            "datatype": "singlevaluelist",
            "required": False,
            "datatype_description": "选择一项 (choose one)",
            "order": 1,
            "description": "噪声来源 (source of the noise)",
            "values": [
                {"key": "industrial", "name": "工业噪声 (industrial)"},
                {"key": "commercial", "name": "商业经营 (shops, entertainment)"},
                {"key": "traffic", "name": "交通噪声 (traffic)"},
                {"key": "residential", "name": "社会生活 (neighbours, square dancing)"},
            ],
        },
        {
            "variable": True,
            "code": "time_of_day",
            "datatype": "string",
            "required": False,
            "datatype_description": "例如 22:00-02:00 (e.g. 22:00-02:00)",
            "order": 2,
            "description": "噪声出现的时段 (when the noise occurs)",
            "values": [],
        },
    ],
}

# 2026, State Council notice of 2025-11-04 (shared/reference/china-2026-holidays.md):
# (name, first day off, last day off, make-up working days)
HOLIDAYS_2026: tuple[tuple[str, date, date, tuple[date, ...]], ...] = (
    ("元旦", date(2026, 1, 1), date(2026, 1, 3), (date(2026, 1, 4),)),
    ("春节", date(2026, 2, 15), date(2026, 2, 23), (date(2026, 2, 14), date(2026, 2, 28))),
    ("清明节", date(2026, 4, 4), date(2026, 4, 6), ()),
    ("劳动节", date(2026, 5, 1), date(2026, 5, 5), (date(2026, 5, 9),)),
    ("端午节", date(2026, 6, 19), date(2026, 6, 21), ()),
    ("中秋节", date(2026, 9, 25), date(2026, 9, 27), ()),
    ("国庆节", date(2026, 10, 1), date(2026, 10, 7), (date(2026, 9, 20), date(2026, 10, 10))),
)


def calendar_rows() -> list[dict[str, str]]:
    """Every day of each holiday block as "holiday", every 调休 day as "workday"."""
    rows: list[tuple[date, str, str]] = []
    for name, first, last, workdays in HOLIDAYS_2026:
        day = first
        while day <= last:
            rows.append((day, "holiday", name))
            day += timedelta(days=1)
        rows.extend((w, "workday", f"{name}调休") for w in workdays)
    rows.sort()
    return [{"day": d.isoformat(), "kind": kind, "name": name} for d, kind, name in rows]


def build_catalog(layer: SampleLayer) -> dict[str, Any]:
    """The catalog.json document; area codes and grid assignments come from `layer`."""
    categories: list[dict[str, Any]] = []
    for code, name_zh, name_en in MAJOR_CATEGORIES:
        categories.append({"code": code, "name_zh": name_zh, "name_en": name_en})
        for sub in MINOR_CATEGORIES:
            sub_code, sub_zh, sub_en, dept, value, unit, clock, priority = sub
            if sub_code[:2] != code:
                continue
            entry: dict[str, Any] = {
                "code": sub_code,
                "parent_code": code,
                "name_zh": sub_zh,
                "name_en": sub_en,
                "default_department": dept,
                "time_limit_value": value,
                "time_limit_unit": unit,
                "clock_start": clock,
                "priority": priority,
            }
            if sub_code in ATTRIBUTES:
                entry["attributes"] = ATTRIBUTES[sub_code]
            categories.append(entry)

    wukang = layer.town_code("武康街道")
    wuyang = layer.town_code("舞阳街道")
    xiazhuhu = layer.town_code("下渚湖街道")
    yingxi = layer.community_code("英溪社区")
    market_grid = layer.grid_codes("余英坊社区")[0]
    routing_rules = [
        # 大类 × town: all construction cases in 下渚湖 go to 住建 (its building-site patrol).
        {"category_code": "03", "area_code": xiazhuhu, "department": "zj"},
        # A 小类 without a default department (属地兜底 elsewhere) handled by 执法 in the core.
        {"category_code": "0101", "area_code": wukang, "department": "cgzf"},
        # 小类 × town: residential noise in 舞阳 goes to the police station.
        {"category_code": "0601", "area_code": wuyang, "department": "ga"},
        # 小类 × community: 英溪社区 streets run along the park; 园林 cleans them.
        {"category_code": "0104", "area_code": yingxi, "department": "yl"},
        # 小类 × grid: the farmers' market grid, where 市场监管 runs the stalls.
        {"category_code": "0402", "area_code": market_grid, "department": "scjg"},
        # ... which beats the town-wide rule for the same 小类.
        {"category_code": "0402", "area_code": wukang, "department": "cgzf"},
    ]

    def grid_worker(
        name: str, username: str, community: str, count: int, skip: int = 0
    ) -> dict[str, Any]:
        grids = layer.grid_codes(community)[skip : skip + count]
        return {"name": name, "role": "grid_worker", "username": username, "grids": grids}

    def member(name: str, username: str, department: str, head: bool = True) -> dict[str, Any]:
        return {
            "name": name,
            "role": "office_member",
            "username": username,
            "department": department,
            "is_head": head,
        }

    people = [
        grid_worker("张伟", "zhangwei", "英溪社区", 2),
        grid_worker("陈静", "chenjing", "余英坊社区", 3),
        grid_worker("杨帆", "yangfan", "千秋社区", 1),
        grid_worker("黄丽", "huangli", "塔山社区", 2),
        grid_worker("周涛", "zhoutao", "下渚湖社区", 2),
        grid_worker("吴芳", "wufang", "二都村", 3, skip=1),
        member("孙建国", "sunjianguo", "cgzf"),
        member("胡明", "huming", "cgzf", head=False),
        member("李娜", "lina", "hw"),
        member("郑晓燕", "zhengxiaoyan", "yl"),
        member("徐磊", "xulei", "zj"),
        member("马丽华", "malihua", "sthj"),
        member("朱国平", "zhuguoping", "ga"),
        member("何雪", "hexue", "scjg"),
        member("梁勇", "liangyong", "jt"),
        member("林海", "linhai", "xf"),
        member("罗斌", "luobin", "sw"),
        member("高峰", "gaofeng", "rq"),
        {"name": "王强", "role": "dispatcher", "username": "wangqiang"},
        {"name": "宋佳", "role": "dispatcher", "username": "songjia"},
        {"name": "韩冰", "role": "supervisor", "username": "hanbing", "area_code": yingxi},
        {"name": "赵敏", "role": "supervisor", "username": "zhaomin", "area_code": wukang},
        {"name": "沈卫东", "role": "supervisor", "username": "shenweidong"},
        {"name": "管理员", "role": "admin", "username": "admin"},
    ]

    return {
        "county": {"code": COUNTY_CODE, "name": COUNTY_NAME},
        "departments": [
            {"code": code, "name": name, "name_en": name_en, "kind": "functional"}
            for code, name, name_en in DEPARTMENTS
        ],
        "categories": categories,
        "routing_rules": routing_rules,
        "calendar": calendar_rows(),
        "people": people,
    }


def catalog_text(catalog: dict[str, Any]) -> str:
    return json.dumps(catalog, ensure_ascii=False, indent=2) + "\n"


def main(out_dir: Path = SAMPLE_DIR) -> None:
    """Write `grids.geojson` and `catalog.json` into `out_dir`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    layer = build_layer()
    (out_dir / GRIDS_FILE).write_text(geojson_text(layer), encoding="utf-8", newline="\n")
    catalog = build_catalog(layer)
    (out_dir / CATALOG_FILE).write_text(catalog_text(catalog), encoding="utf-8", newline="\n")
    communities = {g.community_code for g in layer.grids}
    towns = {g.town_code for g in layer.grids}
    print(
        f"{out_dir}: {len(layer.grids)} grids, {len(communities)} communities, "
        f"{len(towns)} towns, {len(catalog['categories'])} categories, "
        f"{len(catalog['people'])} people"
    )


if __name__ == "__main__":
    main()
