"""Grid features and the administrative code scheme they follow.

Codes nest by prefix: county (6 digits) → town/street (9) → community/village (12) → grid (15).
"""

from dataclasses import dataclass

from shapely import MultiPolygon, Polygon

TOWN_CODE_LENGTH = 9
COMMUNITY_CODE_LENGTH = 12
GRID_CODE_LENGTH = 15


@dataclass(frozen=True)
class GridFields:
    """Names of the boundary file's property columns that hold each value."""

    code: str = "code"
    name: str = "name"
    community_code: str = "community_code"
    community_name: str = "community_name"
    town_code: str = "town_code"
    town_name: str = "town_name"


@dataclass(frozen=True)
class GridFeature:
    """One grid with its place in the hierarchy; polygon is in WGS84 lon/lat."""

    code: str
    name: str
    community_code: str
    community_name: str
    town_code: str
    town_name: str
    polygon: Polygon | MultiPolygon

    @property
    def county_code(self) -> str:
        return self.code[:6]


@dataclass(frozen=True)
class GridLayerData:
    """A validated grid layer: the features and the CRS the file was in."""

    features: list[GridFeature]
    source_crs: str


def code_problems(code: str, community_code: str, town_code: str) -> list[str]:
    """What is wrong with one feature's three codes; empty when they are well formed."""
    problems = [
        f"{label} {value!r} is not {length} digits"
        for label, value, length in (
            ("grid code", code, GRID_CODE_LENGTH),
            ("community code", community_code, COMMUNITY_CODE_LENGTH),
            ("town code", town_code, TOWN_CODE_LENGTH),
        )
        if value and not _is_digits(value, length)
    ]
    if problems:
        return problems
    if code and community_code and not code.startswith(community_code):
        problems.append(f"grid code {code} does not start with its community code {community_code}")
    if community_code and town_code and not community_code.startswith(town_code):
        problems.append(
            f"community code {community_code} does not start with its town code {town_code}"
        )
    return problems


def _is_digits(value: str, length: int) -> bool:
    return len(value) == length and value.isascii() and value.isdigit()
