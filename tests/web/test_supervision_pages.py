"""The supervision pages over HTTP: the case file and its export, a review that fails and
issues a notice, the office's answer and the supervisor's decision, the admin checklist."""

import html
import json
import re
from datetime import date
from io import BytesIO

from aiohttp.test_utils import TestClient
from openpyxl import load_workbook
from sqlalchemy import select

from dispatch.core.lifecycle import Action
from dispatch.intake import PhotoRef
from dispatch.supervision.scoring import Level, Term
from gridgov.app import App
from models import Case, Person, RectificationNotice
from models.enums import CaseSource, NoticeStatus
from tests.dispatch.supervision_helpers import at, closed_case, with_checklist
from tests.dispatch.test_scoring import fixture as scoring_fixture
from tests.dispatch.world import World
from tests.web.helpers import csrf_of, login


async def test_case_file_shows_the_whole_record_and_exports(
    client: TestClient, world: World, app: App
) -> None:
    d, p = world.casework, world.people
    world.clock.now = at(23, 9)
    case = (await d.intake.report(world.draft(description="路边垃圾堆放"))).case
    await d.steps.act(Action.ACCEPT, case.id, p["hw1"])
    world.clock.now = at(23, 16)  # past the 4 working-hour limit (15:00)
    await d.steps.act(
        Action.RESOLVE, case.id, p["hw1"], "已清运", photos=[PhotoRef("local", "a.jpg")]
    )
    await d.steps.act(Action.VERIFY, case.id, p["worker"])
    assert await login(client, "sup_comm") == 303
    r = await client.get(f"/console/cases/{case.number}/file")
    assert r.status == 200
    page = await r.text()
    assert "/static/casefile.css" in page and "路边垃圾堆放" in page and "已清运" in page
    assert "2026-11-23 15:00" in page  # the deadline as it stood at each step
    assert 'class="status-dot red"' in page  # resolved after the deadline
    assert "/console/media/a.jpg" in page  # behind the console log-in
    assert 'id="review-link"' in page
    css = await (await client.get("/static/casefile.css")).text()
    assert "@media print" in css
    r = await client.get(f"/console/cases/{case.number}/file.json")
    assert r.status == 200 and "attachment" in r.headers["Content-Disposition"]
    exported = json.loads(await r.text())
    assert exported["number"] == case.number and exported["closed_on_time"] is False
    assert [e["action"] for e in exported["events"]][:3] == ["report", "file", "dispatch"]
    assert exported["photos"] == {"result": ["/console/media/a.jpg"]}


async def test_case_file_is_scoped(client: TestClient, world: World) -> None:
    case = await closed_case(world, at=(120.015, 30.515))  # community B
    assert await login(client, "sup_comm") == 303
    r = await client.get(f"/console/cases/{case.number}/file")
    assert r.status == 403
    r = await client.get(f"/console/cases/{case.number}/file.json")
    assert r.status == 403


async def test_review_notice_answer_accept_in_the_console(
    client: TestClient, world: World, app: App
) -> None:
    await with_checklist(world, app.supervision)
    case = await closed_case(world)
    world.clock.now = at(26, 10)
    assert await login(client, "sup_comm") == 303
    page = await (await client.get("/console/reviews?month=2026-11&per_office=3")).text()
    assert f"/console/reviews/new/{case.number}" in page
    form_page = await (await client.get(f"/console/reviews/new/{case.number}")).text()
    form = {
        "csrf_token": csrf_of(form_page),
        "item_photos": "fail",
        "item_in_time": "pass",
        "item_reasons": "pass",
        "item_category": "pass",
    }
    r = await client.post(f"/console/reviews/new/{case.number}", data=form)
    assert r.status == 400 and "处置前后照片齐全" in await r.text()  # a failed item needs a note
    form["note_photos"] = "缺少处置后照片"
    r = await client.post(f"/console/reviews/new/{case.number}", data=form, allow_redirects=False)
    assert r.status == 303 and r.headers["Location"].startswith("/console/notices/")
    notice_url = r.headers["Location"]
    page = await (await client.get(notice_url)).text()
    assert "缺少处置后照片" in page and 'id="answer-form"' not in page
    await client.post("/console/logout", data={"csrf_token": csrf_of(page)})

    assert await login(client, "hw2") == 303
    listing = await (await client.get("/console/notices")).text()
    assert notice_url in listing
    page = await (await client.get(notice_url)).text()
    r = await client.post(
        f"{notice_url}/answer",
        data={"csrf_token": csrf_of(page), "note": "已补拍处置后照片"},
        allow_redirects=False,
    )
    assert r.status == 303
    await client.post("/console/logout", data={"csrf_token": csrf_of(page)})

    assert await login(client, "cg1") == 303  # another office sees nothing
    assert (await client.get(notice_url)).status == 404
    page = await (await client.get("/console/cases")).text()
    await client.post("/console/logout", data={"csrf_token": csrf_of(page)})

    assert await login(client, "sup_comm") == 303
    page = await (await client.get(notice_url)).text()
    assert "已补拍处置后照片" in page and 'id="accept-form"' in page
    r = await client.post(
        f"{notice_url}/accept", data={"csrf_token": csrf_of(page)}, allow_redirects=False
    )
    assert r.status == 303
    async with app.sessions() as session:
        notice = await session.scalar(select(RectificationNotice))
    assert notice is not None and notice.status is NoticeStatus.ACCEPTED and notice.on_time
    page = await (await client.get(f"/console/cases/{case.number}/file")).text()
    assert "缺少处置后照片" in page and "已补拍处置后照片" in page


async def test_only_supervisors_review_and_admins_edit_the_checklist(
    client: TestClient, world: World
) -> None:
    assert await login(client, "hw1") == 303
    assert (await client.get("/console/reviews")).status == 403
    page = await (await client.get("/console/cases")).text()
    await client.post("/console/logout", data={"csrf_token": csrf_of(page)})
    assert await login(client, "admin") == 303
    page = await (await client.get("/console/admin/checklist")).text()
    form = {"csrf_token": csrf_of(page), "code": "photos", "name_zh": "照片齐全", "weight": "0"}
    r = await client.post("/console/admin/checklist", data=form)
    assert r.status == 400
    form.update(weight="40", active="on")
    r = await client.post("/console/admin/checklist", data=form, allow_redirects=False)
    assert r.status == 303
    page = await (await client.get("/console/admin/checklist")).text()
    assert "照片齐全" in page


async def test_conditions_set_by_admin_shown_and_enforced(
    client: TestClient, world: World, app: App
) -> None:
    d = world.casework
    assert await login(client, "admin") == 303
    page = await (await client.get("/console/admin/conditions?category=01")).text()
    form = {
        "csrf_token": csrf_of(page),
        "filing": "位于公共区域 | In a public place\n面积超过 0.5 平方米",
        "closing": "现场已清理，无残留\n处置后照片与上报位置一致 | Photo matches",
    }
    r = await client.post("/console/admin/conditions/01", data=form, allow_redirects=False)
    assert r.status == 303
    page = await (await client.get("/console/admin/conditions?category=01")).text()
    assert "面积超过 0.5 平方米" in page
    await client.post("/console/logout", data={"csrf_token": csrf_of(page)})

    draft = world.draft(who="", source=CaseSource.CITIZEN, reporter_contact={"name": "市民"})
    reported = (await d.intake.report(draft)).case
    case = await resolved_case(world)
    assert await login(client, "dispatcher") == 303
    page = await (await client.get(f"/console/cases/{reported.number}")).text()
    assert 'id="filing-conditions"' in page and 'id="void-condition"' in page
    condition = re.search(r'<option value="(\d+)">面积超过', page)
    assert condition is not None
    form = {"csrf_token": csrf_of(page), "action": "void", "version": str(reported.version)}
    r = await client.post(f"/console/cases/{reported.number}/act", data=form)
    assert r.status == 400  # neither a condition nor a reason
    form["condition_id"] = condition.group(1)
    r = await client.post(f"/console/cases/{reported.number}/act", data=form)
    assert r.status == 200 and (await d.find_case(reported.number or "")).status.value == "voided"

    page = await (await client.get(f"/console/cases/{case.number}")).text()
    ticks = re.findall(r'name="condition" value="(\d+)"', page)
    assert len(ticks) == 2
    form = {
        "csrf_token": csrf_of(page),
        "action": "verify",
        "version": str(case.version),
        "condition": ticks[0],
    }
    r = await client.post(f"/console/cases/{case.number}/act", data=form)
    assert r.status == 400 and "处置后照片与上报位置一致" in await r.text()
    r = await client.post(
        f"/console/cases/{case.number}/act",
        data=[*form.items(), ("condition", ticks[1])],
        allow_redirects=False,
    )
    assert r.status == 303 and (await d.find_case(case.number or "")).status.value == "closed"


async def resolved_case(world: World) -> Case:
    d, p = world.casework, world.people
    case = (await d.intake.report(world.draft())).case
    await d.steps.act(Action.ACCEPT, case.id, p["hw1"])
    return await d.steps.act(Action.RESOLVE, case.id, p["hw1"], "已清理")


async def test_assessment_page_xlsx_and_formula_admin(
    client: TestClient, world: World, app: App
) -> None:
    await scoring_fixture(world)
    assert await login(client, "sup_county") == 303
    page = await (await client.get("/console/assessment?month=2026-11")).text()
    assert "德清县2026年11月网格化社会治理考核通报" in page
    ranking = page[page.index('id="ranking-office"') :]
    assert ranking.index("综合执法局") < ranking.index("环卫处") and "↑1" in ranking
    assert (await client.get("/console/assessment?month=2026-13")).status == 400
    r = await client.get("/console/assessment/2026-11.xlsx")
    assert r.status == 200 and r.content_type.endswith("spreadsheetml.sheet")
    book = load_workbook(BytesIO(await r.read()))
    assert [c.value for c in book["职能部门"][2]][:2] == [1, "综合执法局"]
    await client.post("/console/logout", data={"csrf_token": csrf_of(page)})

    assert await login(client, "admin") == 303
    page = await (await client.get("/console/admin/formulas")).text()
    form = {
        "csrf_token": csrf_of(page),
        "level": "town",
        "valid_from": "2026-12",
        "terms": "on_time 60 0.95\nclosure 30",
    }
    r = await client.post("/console/admin/formulas", data=form)
    assert r.status == 400 and "90" in await r.text()  # the weights do not add up
    form["terms"] += "\nsatisfaction 10 0.9"
    r = await client.post("/console/admin/formulas", data=form, allow_redirects=False)
    assert r.status == 303
    page = await (await client.get("/console/admin/formulas")).text()
    assert "2026-12" in page and "满意率 10 (90%)" in page


def _row_links(page: str, level: str, unit: str) -> dict[str, str]:
    """The drill-down links of one unit's row in a level's ranking table, by figure."""
    table = page[page.index(f'id="ranking-{level}"') :]
    table = table[: table.index("</table>")]
    row = next(r for r in table.split("<tr>") if f">{unit}</td>" in r)
    return {
        figure: html.unescape(href)
        for href, figure in re.findall(r'<a href="([^"]+)" data-figure="(\w+)">', row)
    }


async def _listed(client: TestClient, link: str) -> set[str]:
    page = await (await client.get(link)).text()
    listing = page[page.index('id="case-list"') :]
    return set(re.findall(r'<a href="/console/cases/(\d+)">', listing))


async def test_each_figure_opens_exactly_the_cases_counted_in_it(
    client: TestClient, world: World, app: App
) -> None:
    await scoring_fixture(world)
    await app.supervision.formulas.save(
        world.people["admin"],
        Level.GRID_WORKER,
        date(2026, 11, 1),
        [Term("valid_reports", 60), Term("verification_on_time", 40)],
    )
    async with app.sessions() as session:
        cases = (
            await session.execute(select(Case.number, Case.department_id, Case.created_at))
        ).all()
    catalog = world.casework.catalog
    hw = next(k for k in catalog.departments if catalog.department_name(k) == "环卫处")
    november = {n for n, _d, created in cases if created >= at(1, 0)}
    hw_november = {n for n, d, created in cases if d == hw and created >= at(1, 0)}
    assert len(hw_november) == 2 and len(november) == 3
    assert await login(client, "sup_county") == 303
    page = await (await client.get("/console/assessment?month=2026-11")).text()

    links = _row_links(page, "office", "环卫处")
    assert set(links) == {"on_time", "closure", "no_rework", "overdue"}
    # 按期结案率 50%: the two cases due in November, one of them overdue (the late one)
    assert await _listed(client, links["on_time"]) == hw_november
    assert await _listed(client, links["closure"]) == hw_november  # both closed
    assert await _listed(client, links["no_rework"]) == set()  # none reworked
    overdue = await _listed(client, links["overdue"])
    assert len(overdue) == 1 and overdue < hw_november
    assert 'data-figure="overdue">1</a>' in page[page.index('id="ranking-office"') :]
    async with app.sessions() as session:
        late = await session.scalar(select(Case).where(Case.number == next(iter(overdue))))
    assert late is not None and late.resolved_at > late.deadline_at

    # the grid worker reported the three November cases, all verified within 24 hours
    worker = world.people["worker"]
    async with app.sessions() as session:
        name = (await session.get(Person, worker)).name  # type: ignore[union-attr]
    links = _row_links(page, "grid_worker", name)
    assert set(links) == {"valid_reports", "verification_on_time"}
    assert await _listed(client, links["valid_reports"]) == november
    assert await _listed(client, links["verification_on_time"]) == november
    listing = await (await client.get(links["verification_on_time"])).text()
    drill = listing[listing.index('id="drill-down"') :]
    assert f"上报人: {name}" in drill and "2026-11 结案" in drill
    # each chip drops its filter, and the filter form keeps them
    chips = {
        label: html.unescape(href)
        for href, label in re.findall(r'<a class="btn btn-sm" href="([^"]+)"[^>]*>([^<]+) ×', drill)
    }
    assert (
        "reporter=" not in chips[f"上报人: {name}"] and "closed=2026-11" in chips[f"上报人: {name}"]
    )
    assert "closed=" not in chips["2026-11 结案"] and f"reporter={worker}" in chips["2026-11 结案"]
    assert f'name="reporter" value="{worker}"' in listing


async def test_assessment_trend_json(client: TestClient, world: World) -> None:
    await scoring_fixture(world)
    assert await login(client, "sup_county") == 303
    r = await client.get("/console/assessment/trend.json?month=2026-11")
    assert r.status == 200
    data = await r.json()
    assert data["months"][0] == "2025-12" and data["months"][-1] == "2026-11"
    (office,) = data["levels"]
    assert office["level"] == "office"
    lines = {line["name"]: line["scores"] for line in office["lines"]}
    assert lines == {
        "综合执法局": [None] * 10 + [30.0, 100.0],
        "环卫处": [None] * 10 + [100.0, 67.65],
    }
    page = await (await client.get("/console/assessment?month=2026-11")).text()
    assert 'data-trend="/console/assessment/trend.json?month=2026-11"' in page
    assert 'id="trend-office"' in page and "/static/assessment.js" in page
    r = await client.get("/console/assessment/trend.json?month=2026-13")
    assert r.status == 400


async def test_a_notice_id_too_long_for_the_database_is_not_found(client: TestClient) -> None:
    """Found by make fuzz: an id past PostgreSQL's int range was answered 500."""
    assert await login(client, "sup_comm") == 303
    page = await (await client.get("/console/notices")).text()
    for notice_id in ("2147483648", "99999999999999999999", "20261123000001"):
        assert (await client.get(f"/console/notices/{notice_id}")).status == 404
        r = await client.post(
            f"/console/notices/{notice_id}/accept", data={"csrf_token": csrf_of(page)}
        )
        assert r.status == 404
