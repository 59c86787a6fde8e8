"""Which office handles a case: category × place → department. Pure functions over the
configuration loaded from the database."""

from dataclasses import dataclass
from enum import StrEnum


class RouteReason(StrEnum):
    RULE = "rule"  # a routing rule matched
    CATEGORY_DEFAULT = "category_default"  # the category's default department
    AREA_OFFICE = "area_office"  # nobody owns it: the community or town office (属地兜底)


@dataclass(frozen=True)
class Place:
    grid_code: str | None
    community_code: str | None
    town_code: str | None
    county_code: str

    def codes_most_specific_first(self) -> list[str]:
        return [
            c for c in (self.grid_code, self.community_code, self.town_code, self.county_code) if c
        ]


@dataclass(frozen=True)
class Route:
    department_id: int
    reason: RouteReason
    rule: tuple[str, str] | None = None  # (category code, area code) of the rule that matched


@dataclass(frozen=True)
class RoutingTable:
    rules: dict[tuple[str, str], int]  # (category code or 大类 code, area or grid code) → dept
    category_defaults: dict[str, int]  # category code → default department
    area_offices: dict[str, int]  # community or town code → its office

    def route(self, category_code: str, place: Place) -> Route | None:
        """The most specific rule wins: 小类 before 大类, then grid, community, town, county.
        Then the category's default department, then the community or town office."""
        categories = (
            [category_code] if len(category_code) == 2 else [category_code, category_code[:2]]
        )
        for category in categories:
            for area in place.codes_most_specific_first():
                department = self.rules.get((category, area))
                if department is not None:
                    return Route(department, RouteReason.RULE, (category, area))
        for category in categories:
            department = self.category_defaults.get(category)
            if department is not None:
                return Route(department, RouteReason.CATEGORY_DEFAULT)
        for area in (place.community_code, place.town_code):
            if area and area in self.area_offices:
                return Route(self.area_offices[area], RouteReason.AREA_OFFICE)
        return None
