"""Monthly assessment (考核) against a hand-computed fixture: two offices over October and
November 2026, each month scored with the formula version in force, ranked with the change
from the previous month; the .xlsx report opened and checked with openpyxl."""

from datetime import date
from io import BytesIO

import pytest
from openpyxl import load_workbook

from dispatch.core.errors import InvalidInput, NotFound, PermissionDenied
from dispatch.core.lifecycle import Action
from dispatch.supervision.monthly_report import monthly_report, workbook
from dispatch.supervision.scoring import Level, Term, ranking, rankings, score
from dispatch.supervision.trends import trends
from tests.dispatch.supervision_helpers import all_pass, at, supervision, with_checklist
from tests.dispatch.world import SHANGHAI, World

OCTOBER = [Term("on_time", 70), Term("no_rework", 30)]
NOVEMBER = [
    Term("on_time", 50),
    Term("no_rework", 20),
    Term("review_score", 15, 0.9),
    Term("satisfaction", 15),
]


async def handled(
    world: World, category: str, reported: tuple[int, int, int], resolved_hour: int
) -> int:
    """A grid worker's report, accepted at once, resolved at `resolved_hour`, verified."""
    d, p = world.casework, world.people
    month, day, hour = reported
    world.clock.now = at(day, hour, month=month)
    case = (await d.intake.report(world.draft(category=category))).case
    office = "hw1" if category.startswith("01") else "cg1"
    await d.steps.act(Action.ACCEPT, case.id, p[office])
    world.clock.now = at(day, resolved_hour, month=month)
    await d.steps.act(Action.RESOLVE, case.id, p[office], "已处置")
    await d.steps.act(Action.VERIFY, case.id, p["worker"])
    return case.id


async def fixture(world: World) -> None:
    s, admin = supervision(world), world.people["admin"]
    await s.formulas.save(admin, Level.OFFICE, date(2026, 10, 1), OCTOBER)
    await s.formulas.save(admin, Level.OFFICE, date(2026, 11, 1), NOVEMBER)
    # October: 环卫处 on time (100), 综合执法局 late (on time 0, no rework 1: 30)
    await handled(world, "0102", (10, 20, 9), 10)  # deadline 15:00
    await handled(world, "0501", (10, 20, 9), 12)  # 2 plain hours: deadline 11:00
    # November: 环卫处 one on time, one late; 综合执法局 on time
    a = await handled(world, "0102", (11, 23, 9), 10)
    b = await handled(world, "0102", (11, 23, 9), 16)
    await handled(world, "0501", (11, 23, 9), 10)
    await with_checklist(world, s)
    world.clock.now = at(26, 10)
    await s.reviews.review(world.people["sup_comm"], a, all_pass())  # 100
    await s.reviews.review(  # 100 − 30 − 20 = 50
        world.people["sup_comm"], b, all_pass(photos="无处置后照片", reasons="未写原因")
    )


async def test_ranking_matches_the_hand_computed_scores(world: World) -> None:
    await fixture(world)
    d = world.casework
    async with d.sessions() as session:
        november = await ranking(
            session, d.catalog, Level.OFFICE, date(2026, 11, 1), SHANGHAI, world.clock()
        )
    rows = {r.name: r for r in november.rows}
    hw, cg = rows["环卫处"], rows["综合执法局"]
    # 环卫处: on time 1/2, no rework 1, review (100 + 50) / 2 = 75 → 0.75 of the 0.9 target,
    # satisfaction: no citizen case, left out → (50·0.5 + 20·1 + 15·0.75/0.9) / 85
    assert hw.metrics["on_time"] == 0.5 and hw.metrics["review_score"] == 0.75
    assert hw.metrics["satisfaction"] is None
    assert hw.score == round(100 * (25 + 20 + 12.5) / 85, 2) == 67.65
    assert cg.score == 100.0  # on time and no rework; no review, no follow-up
    assert (cg.rank, hw.rank) == (1, 2)
    # October, with October's formula: 环卫处 100, 综合执法局 30
    assert (hw.previous_score, cg.previous_score) == (100.0, 30.0)
    assert (cg.rank_change, hw.rank_change) == (1, -1)
    assert hw.overdue == 1 and cg.overdue == 0
    assert november.formula_from == date(2026, 11, 1)


async def test_year_trend_scores_each_month_with_its_formula(world: World) -> None:
    await fixture(world)
    d = world.casework
    async with d.sessions() as session:
        found = await trends(session, d.catalog, date(2026, 11, 1), SHANGHAI, world.clock())
        every = await rankings(session, d.catalog, date(2026, 11, 1), SHANGHAI, world.clock())
    assert set(found) == set(every) == {Level.OFFICE}  # the only level with a formula
    office = found[Level.OFFICE]
    assert office.months[0] == date(2025, 12, 1) and office.months[-1] == date(2026, 11, 1)
    lines = {line.name: line.scores for line in office.lines}
    # no formula before October; October scored with October's formula, November with its own
    assert lines["综合执法局"] == [None] * 10 + [30.0, 100.0]
    assert lines["环卫处"] == [None] * 10 + [100.0, 67.65]
    assert [line.name for line in office.lines] == ["综合执法局", "环卫处"]  # best now first
    # the same figures as the month's ranking
    assert {r.name: r.score for r in every[Level.OFFICE].rows} == {
        "综合执法局": 100.0,
        "环卫处": 67.65,
    }


async def test_the_monthly_report_workbook(world: World) -> None:
    await fixture(world)
    d = world.casework
    async with d.sessions() as session:
        report = await monthly_report(
            session, d.catalog, date(2026, 11, 1), SHANGHAI, world.clock()
        )
    assert set(report.missing) == {Level.COMMUNITY, Level.TOWN, Level.GRID_WORKER}
    book = load_workbook(BytesIO(workbook(report)))
    assert book.sheetnames == ["通报", "职能部门", "排名靠后单位"]
    assert book["通报"]["A1"].value == "德清县2026年11月网格化社会治理考核通报"
    offices = list(book["职能部门"].iter_rows(values_only=True))
    assert offices[0][:5] == ("排名", "单位", "得分", "较上月", "上月得分")
    assert offices[1][:5] == (1, "综合执法局", 100, "↑1", 30)
    assert offices[2][:5] == (2, "环卫处", 67.65, "↓1", 100)
    assert offices[2][5] == "50.0%"  # 按期结案率
    bottom = list(book["排名靠后单位"].iter_rows(values_only=True))
    late = [r for r in bottom[1:] if r[2] == "环卫处"]
    assert len(late) == 1 and late[0][4].startswith("20261123")  # the late case, named


async def test_formula_bad_input(world: World) -> None:
    s, admin = supervision(world), world.people["admin"]
    with pytest.raises(InvalidInput, match="add up to 90"):
        await s.formulas.save(
            admin, Level.OFFICE, date(2026, 11, 1), [*OCTOBER[:1], Term("closure", 20)]
        )
    with pytest.raises(InvalidInput, match="not a figure of the grid_worker level"):
        await s.formulas.save(admin, Level.GRID_WORKER, date(2026, 11, 1), OCTOBER)
    with pytest.raises(InvalidInput, match="targets between 0 and 1"):
        await s.formulas.save(admin, Level.OFFICE, date(2026, 11, 1), [Term("on_time", 100, 1.5)])
    with pytest.raises(PermissionDenied):
        await s.formulas.save(world.people["sup_county"], Level.OFFICE, date(2026, 11, 1), OCTOBER)
    d = world.casework
    async with d.sessions() as session:
        with pytest.raises(NotFound, match="No scoring formula"):
            await ranking(session, d.catalog, Level.OFFICE, date(2026, 11, 1), SHANGHAI, d.clock())
    assert (
        score([Term("on_time", 60), Term("closure", 40)], {"on_time": None, "closure": 0.5}) == 50
    )
