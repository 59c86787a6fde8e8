"""Long lists come in pages (inbox, queue sections, the overdue list), and the merge form
takes the earlier case's number."""

import re
from datetime import timedelta

from aiohttp.test_utils import TestClient

from gridgov.app import App
from models.enums import CaseSource
from tests.dispatch.world import World
from tests.web.helpers import csrf_of, login
from web.console.overview import OVERDUE_PAGE
from web.console.paging import PAGE_SIZE

NUMBER = re.compile(r'<a href="/console/cases/([^"]+)">')


def numbers(html: str) -> list[str]:
    return NUMBER.findall(html)


async def test_inbox_and_overdue_list_come_in_pages(client: TestClient, world: World) -> None:
    made = [
        (await world.casework.intake.report(world.draft())).case.number
        for _ in range(PAGE_SIZE + 3)
    ]
    await login(client, "hw1")
    first = await (await client.get("/console/cases")).text()
    assert len(numbers(first)) == PAGE_SIZE and 'rel="prev"' not in first
    assert 'href="/console/cases?page=2"' in first
    second = await (await client.get("/console/cases", params={"page": "2"})).text()
    assert len(numbers(second)) == 3 and 'rel="next"' not in second
    assert sorted(numbers(first) + numbers(second)) == sorted(made)
    filtered = await (await client.get("/console/cases?light=green&page=2")).text()
    assert 'href="/console/cases?light=green&amp;page=1"' in filtered
    assert (await client.get("/console/cases?page=x")).status == 200

    world.clock.now += timedelta(days=2)
    client.session.cookie_jar.clear()
    await login(client, "sup_county")
    page = await (await client.get("/console/dashboard")).text()
    assert f"超期案件 ({PAGE_SIZE + 3})" in page
    overdue = page.split('id="overdue"')[1].split("</table>")[0]
    assert len(numbers(overdue)) == OVERDUE_PAGE
    assert 'href="/console/dashboard?overdue=2"' in page
    last = (PAGE_SIZE + 3 - 1) // OVERDUE_PAGE + 1
    page = await (await client.get(f"/console/dashboard?overdue={last}")).text()
    rest = (PAGE_SIZE + 3) % OVERDUE_PAGE
    assert len(numbers(page.split('id="overdue"')[1].split("</table>")[0])) == rest


async def test_queue_sections_page_on_their_own(client: TestClient, world: World) -> None:
    for _ in range(PAGE_SIZE + 1):
        await world.casework.intake.report(world.draft(who="", source=CaseSource.CITIZEN))
    await login(client, "dispatcher")
    page = await (await client.get("/console/queue")).text()
    to_file = page.split('id="to_file"')[1].split("</section>")[0]
    assert f"({PAGE_SIZE + 1})" in to_file and len(numbers(to_file)) == PAGE_SIZE
    assert 'href="/console/queue?to_file=2"' in to_file
    page = await (await client.get("/console/queue?to_file=2")).text()
    assert len(numbers(page.split('id="to_file"')[1].split("</section>")[0])) == 1
    assert "(0)" in page.split('id="returned"')[1].split("</section>")[0]


async def test_merge_takes_the_earlier_case_number(
    client: TestClient, world: World, app: App
) -> None:
    earlier = (await world.casework.intake.report(world.draft())).case
    later = (await world.casework.intake.report(world.draft())).case
    await login(client, "dispatcher")
    page = await (await client.get(f"/console/cases/{later.number}")).text()
    assert 'name="into"' in page
    form = {"csrf_token": csrf_of(page), "action": "merge", "version": str(later.version)}
    r = await client.post(f"/console/cases/{later.number}/act", data={**form, "into": "2026-X"})
    assert r.status == 400
    assert "没有您可查看的编号为 2026-X 的案件。" in await r.text()
    assert (await app.casework.find_case(later.number)).status.value == "dispatched"
    r = await client.post(
        f"/console/cases/{later.number}/act", data={**form, "into": earlier.number}
    )
    assert r.status == 200
    merged = await app.casework.find_case(later.number)
    assert merged.status.value == "merged" and merged.duplicate_of_id == earlier.id
