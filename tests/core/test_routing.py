"""Routing: the most specific rule wins; then the category's department; then the office of
the community or town the case lies in (属地兜底)."""

import pytest

from dispatch.core.routing import Place, RouteReason, RoutingTable

GRID, COMMUNITY, TOWN, COUNTY = "330521101001001", "330521101001", "330521101", "330521"
OTHER_GRID = "330521101001002"

TABLE = RoutingTable(
    rules={
        ("0102", GRID): 1,  # 小类 at a grid
        ("0102", TOWN): 2,  # 小类 at the town
        ("01", COMMUNITY): 3,  # 大类 at the community
        ("01", COUNTY): 4,  # 大类 county-wide
        ("0301", COUNTY): 5,  # 小类 county-wide
        ("03", GRID): 6,  # 大类 at a grid
    },
    category_defaults={"0102": 10, "0201": 11, "04": 12},
    area_offices={COMMUNITY: 100, TOWN: 200},
)

HERE = Place(GRID, COMMUNITY, TOWN, COUNTY)
NEXT_DOOR = Place(OTHER_GRID, COMMUNITY, TOWN, COUNTY)
OTHER_TOWN = Place("330521102001001", "330521102001", "330521102", COUNTY)
NO_COMMUNITY_OFFICE = Place("330521101009001", "330521101009", TOWN, COUNTY)


@pytest.mark.parametrize(
    ("category", "place", "department", "reason"),
    [
        ("0102", HERE, 1, RouteReason.RULE),  # grid rule beats the town rule
        ("0102", NEXT_DOOR, 2, RouteReason.RULE),  # 小类 at town beats 大类 at community
        ("0103", NEXT_DOOR, 3, RouteReason.RULE),  # 大类 at the community
        ("0103", OTHER_TOWN, 4, RouteReason.RULE),  # 大类 county-wide
        ("0301", HERE, 5, RouteReason.RULE),  # 小类 county-wide beats 大类 at the grid
        ("0302", HERE, 6, RouteReason.RULE),  # 大类 at the grid
        ("0201", HERE, 11, RouteReason.CATEGORY_DEFAULT),
        ("0401", HERE, 12, RouteReason.CATEGORY_DEFAULT),  # the 大类's default department
        ("0701", HERE, 100, RouteReason.AREA_OFFICE),  # nobody owns it: the community office
        ("0701", NO_COMMUNITY_OFFICE, 200, RouteReason.AREA_OFFICE),  # then the town office
    ],
)
def test_routing_table(category: str, place: Place, department: int, reason: RouteReason) -> None:
    route = TABLE.route(category, place)
    assert route is not None
    assert (route.department_id, route.reason) == (department, reason)


def test_nothing_configured_anywhere_is_no_route() -> None:
    empty = RoutingTable(rules={}, category_defaults={}, area_offices={})
    assert empty.route("0701", HERE) is None
