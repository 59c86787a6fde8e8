"""Checks on a grid layer's features. Each check adds to a ProblemList instead of raising, so an
operator sees every problem in a file at once."""

from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt
import shapely
from shapely import STRtree

from geo.grids import code_problems
from geo.metric import LocalMetric

GeometryArray = npt.NDArray[np.object_]

REQUIRED_VALUES = ("code", "name", "community_code", "community_name", "town_code", "town_name")
_LABELS = {
    "code": "grid code",
    "name": "grid name",
    "community_code": "community code",
    "community_name": "community name",
    "town_code": "town code",
    "town_name": "town name",
}


class ProblemList:
    """Problems found in one layer; lines name the feature by its 0-based index and grid code."""

    def __init__(self, codes: Sequence[str]) -> None:
        self._codes = codes
        self._items: list[tuple[int, str]] = []

    def __len__(self) -> int:
        return len(self._items)

    def add(self, message: str, feature: int | None = None) -> None:
        if feature is None:
            self._items.append((-1, message))
        else:
            self._items.append((feature, f"{self.label(feature)}: {message}"))

    def label(self, feature: int) -> str:
        code = self._codes[feature] if feature < len(self._codes) else ""
        return f"feature {feature} ({code or 'no code'})"

    def lines(self) -> list[str]:
        """Layer-wide problems first, then per feature in file order."""
        return [message for _, message in sorted(self._items, key=lambda item: item[0])]


def check_properties(values: Mapping[str, Sequence[str]], problems: ProblemList) -> None:
    """Empty values, malformed or duplicate codes and names that disagree between features.

    values maps each of REQUIRED_VALUES that the file has to one stripped string per feature.
    """
    count = len(next(iter(values.values()), ()))
    empty = {key: "" for key in REQUIRED_VALUES}
    first_by_code: dict[str, int] = {}
    names_seen: dict[tuple[str, str], tuple[str, int]] = {}
    for i in range(count):
        row = empty | {key: column[i] for key, column in values.items()}
        for key in REQUIRED_VALUES:
            if key in values and not row[key]:
                problems.add(f"{_LABELS[key]} is empty", i)
        for message in code_problems(row["code"], row["community_code"], row["town_code"]):
            problems.add(message, i)
        if row["code"]:
            first = first_by_code.setdefault(row["code"], i)
            if first != i:
                problems.add(f"duplicate grid code (also feature {first})", i)
        for level in ("community", "town"):
            code, name = row[f"{level}_code"], row[f"{level}_name"]
            if not code or not name:
                continue
            seen_name, seen_at = names_seen.setdefault((level, code), (name, i))
            if seen_name != name:
                problems.add(
                    f"{level} {code} is named {name!r} here but {seen_name!r} in feature {seen_at}",
                    i,
                )


def check_geometries(geometries: GeometryArray, problems: ProblemList) -> npt.NDArray[np.bool_]:
    """Missing, empty, non-polygon, out-of-range and invalid WGS84 geometries.

    Returns the mask of geometries that passed, the only ones fit for the overlap check.
    """
    ok = np.ones(len(geometries), dtype=bool)
    type_ids = shapely.get_type_id(geometries)
    bounds = shapely.bounds(geometries)
    in_range = (
        np.isfinite(bounds).all(axis=1)
        & (bounds[:, 0] >= -180)
        & (bounds[:, 2] <= 180)
        & (bounds[:, 1] >= -90)
        & (bounds[:, 3] <= 90)
    )
    valid = shapely.is_valid(geometries)
    polygonal = np.isin(type_ids, [shapely.GeometryType.POLYGON, shapely.GeometryType.MULTIPOLYGON])
    for i, geometry in enumerate(geometries):
        if geometry is None:
            problems.add("geometry is missing", i)
        elif geometry.is_empty:
            problems.add("geometry is empty", i)
        elif not polygonal[i]:
            problems.add(f"geometry is a {geometry.geom_type}, expected Polygon or MultiPolygon", i)
        elif not in_range[i]:
            box = ", ".join(f"{v:.6g}" for v in bounds[i])
            problems.add(f"coordinates outside the lon/lat range in WGS84 (bounds {box})", i)
        elif not valid[i]:
            problems.add(f"invalid polygon: {shapely.is_valid_reason(geometry)}", i)
        else:
            continue
        ok[i] = False
    return ok


def check_overlaps(
    geometries: GeometryArray, ok: npt.NDArray[np.bool_], tolerance_m2: float, problems: ProblemList
) -> None:
    """Pairs of grids whose shared area exceeds tolerance_m2, measured in a local metric CRS.

    Neighbours digitised separately often overlap by thin slivers; the tolerance lets those pass.
    """
    indices = np.flatnonzero(ok)
    if len(indices) < 2:
        return
    metric = LocalMetric.around(geometries[indices]).project(geometries[indices])
    pairs = STRtree(metric).query(metric, predicate="intersects")
    pairs = pairs[:, pairs[0] < pairs[1]]
    # Most intersecting pairs are neighbours that only share an edge; keep interiors that meet.
    pairs = pairs[:, shapely.relate_pattern(metric[pairs[0]], metric[pairs[1]], "T********")]
    areas = shapely.area(shapely.intersection(metric[pairs[0]], metric[pairs[1]]))
    for a, b, area in zip(*pairs, areas, strict=True):
        if area > tolerance_m2:
            other = problems.label(int(indices[b]))
            problems.add(f"overlaps {other} by {area:.1f} m²", int(indices[a]))
