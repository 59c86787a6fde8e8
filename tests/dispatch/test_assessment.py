"""The assessment figures against a fixture computed by hand."""

from datetime import datetime, timedelta

import pytest

from dispatch.assessment import Dimension, figures
from models import Case
from models.enums import CaseSource, CaseStatus, CoordSystem, LocationStatus
from tests.dispatch.world import SHANGHAI, World

NOV = datetime(2026, 11, 1, tzinfo=SHANGHAI)
DEC = datetime(2026, 12, 1, tzinfo=SHANGHAI)
NOW = datetime(2026, 12, 5, tzinfo=SHANGHAI)


def case(
    world: World,
    dept: str,
    status: CaseStatus,
    created: datetime,
    deadline: datetime | None,
    resolved: datetime | None = None,
    closed: datetime | None = None,
    on_time: bool | None = None,
    hours: float | None = None,
    rework: int = 0,
) -> Case:
    cat = world.casework.catalog
    return Case(
        source=CaseSource.GRID_WORKER,
        lon=120.0,
        lat=30.5,
        raw_lon=120.0,
        raw_lat=30.5,
        raw_crs=CoordSystem.WGS84,
        location_status=LocationStatus.INSIDE,
        category_id=cat.categories["0102"].id,
        department_id=cat.departments_by_code[dept].id,
        status=status,
        created_at=created,
        filed_at=created,
        deadline_at=deadline,
        resolved_at=resolved,
        closed_at=closed,
        closed_on_time=on_time,
        handling_work_seconds=None if hours is None else round(hours * 3600),
        rework_count=rework,
    )


async def test_figures_per_office_match_the_hand_computed_fixture(world: World) -> None:
    d = timedelta(days=1)
    n5, n10 = NOV + 5 * d, NOV + 10 * d
    rows = [
        # hw: 6 cases filed in November
        case(world, "hw", CaseStatus.CLOSED, n5, n5 + d, n5 + d / 2, n5 + d, True, 2),
        case(world, "hw", CaseStatus.CLOSED, n5, n5 + d, n5 + 2 * d, n5 + 3 * d, False, 10, 1),
        case(world, "hw", CaseStatus.CLOSED, n10, n10 + d, n10, n10 + d / 2, True, 4),
        case(world, "hw", CaseStatus.ACCEPTED, n10, n10 + d),  # overdue, unresolved
        case(world, "hw", CaseStatus.SUSPENDED, n10, n10 + d),
        case(world, "hw", CaseStatus.VOIDED, n10, n10 + d),
        # cgzf: one on time; one from October closed in November
        case(world, "cgzf", CaseStatus.CLOSED, n5, n5 + d, n5, n5 + d, True, 1),
        case(
            world,
            "cgzf",
            CaseStatus.CLOSED,
            NOV - 5 * d,
            NOV - 4 * d,
            NOV - 3 * d,
            NOV + d,
            False,
            6,
        ),
        # outside the period entirely
        case(world, "hw", CaseStatus.CLOSED, DEC + d, DEC + 2 * d, DEC + d, DEC + d, True, 1),
    ]
    async with world.casework.sessions() as s, s.begin():
        s.add_all(rows)
    async with world.casework.sessions() as s:
        result = {f.key: f for f in await figures(s, Dimension.DEPARTMENT, NOV, DEC, NOW)}
    hw = result[world.casework.catalog.departments_by_code["hw"].id]
    assert (hw.received, hw.filed, hw.closed) == (6, 6, 3)
    assert (hw.due, hw.suspended, hw.closed_on_time, hw.due_closed) == (5, 1, 2, 3)
    assert hw.on_time_rate == pytest.approx(2 / 4)
    assert hw.closure_rate == pytest.approx(3 / 4)
    assert hw.rework_rate == pytest.approx(1 / 5)
    assert hw.overdue == 2  # resolved late, and never resolved
    assert hw.accurate_filing_rate == pytest.approx(5 / 6)
    assert hw.avg_handling_hours == pytest.approx((2 + 10 + 4) / 3)
    assert hw.p90_handling_hours == pytest.approx(4 + 0.8 * 6)  # 2, 4, 10 → 8.8
    cgzf = result[world.casework.catalog.departments_by_code["cgzf"].id]
    assert (cgzf.received, cgzf.closed, cgzf.due, cgzf.closed_on_time) == (1, 2, 1, 1)
    assert cgzf.on_time_rate == 1.0
    assert cgzf.avg_handling_hours == pytest.approx(3.5)
