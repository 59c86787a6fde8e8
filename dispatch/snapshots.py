"""What a message about a case shows: the case as it will be once the unit of work is written,
with names from the configuration in force. The reporter's identity is not part of it."""

from typing import Any

from sqlalchemy import inspect as sa_inspect

from dispatch.catalog import Catalog
from dispatch.geography import GridDirectory
from models import Case
from models.enums import ConditionKind


def snapshot(
    catalog: Catalog, directory: GridDirectory, case: Case, light: str | None
) -> dict[str, Any]:
    category = catalog.categories_by_id[case.category_id]
    parent = catalog.categories.get(category.parent_code or "")
    grid = directory.by_id.get(case.grid_id) if case.grid_id else None
    return {
        "case_id": case.id,
        "number": case.number,
        # The version the case will have once this unit of work is written.
        "version": case.version + (1 if sa_inspect(case).modified else 0),
        "status": case.status.value,
        "category_code": category.code,
        "category_zh": f"{parent.name_zh if parent else ''} / {category.name_zh}",
        "category_en": f"{parent.name_en if parent else ''} / {category.name_en}",
        "description": case.description,
        "address": case.address,
        "lon": case.lon,
        "lat": case.lat,
        "grid": grid.grid_name if grid else "",
        "community": catalog.area_name(case.community_id),
        "town": catalog.area_name(case.town_id),
        "department_id": case.department_id,
        "department": catalog.department_name(case.department_id),
        "department_en": catalog.department_name(case.department_id, "en"),
        "deadline": case.deadline_at.isoformat() if case.deadline_at else None,
        "light": light,
        "escalation_level": case.escalation_level,
        "rework_count": case.rework_count,
        "extension_requested_until": (
            case.extension_requested_until.isoformat() if case.extension_requested_until else None
        ),
        "photos": [
            {"storage": a.storage, "ref": a.ref, "purpose": a.purpose} for a in case.attachments
        ],
        # What whoever verifies confirms (结案条件).
        "closing_conditions": [
            {"zh": c.text_zh, "en": c.text_en}
            for c in catalog.conditions_for(category, ConditionKind.CLOSING)
        ],
    }
