"""The offices and areas that admin forms offer, in a stable order and the reader's language."""

from dataclasses import dataclass

from dispatch.catalog import Catalog
from models.enums import AreaLevel, DepartmentKind

LEVEL_ORDER = {AreaLevel.COUNTY: 0, AreaLevel.TOWN: 1, AreaLevel.COMMUNITY: 2}


@dataclass(frozen=True)
class Choice:
    id: int
    code: str
    label: str


def departments(catalog: Catalog, locale: str) -> list[Choice]:
    """Functional departments first, then the community and town offices."""
    ordered = sorted(
        catalog.departments.values(),
        key=lambda d: (d.kind is not DepartmentKind.FUNCTIONAL, d.code),
    )
    return [Choice(d.id, d.code, catalog.department_name(d.id, locale)) for d in ordered]


def areas(catalog: Catalog) -> list[Choice]:
    """The county, its towns, then its communities, each by code."""
    ordered = sorted(catalog.areas.values(), key=lambda a: (LEVEL_ORDER[a.level], a.code))
    return [Choice(a.id, a.code, f"{a.code} {a.name}") for a in ordered]
