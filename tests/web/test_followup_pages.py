"""Follow-up over HTTP: a 12345 hotline key reports hotline cases; once closed, the Open311
status notes carry the one-time link; the citizen answers once (不满意 reopens); a forged
link changes nothing; the dispatcher's queue shows what is due and records calls."""

import re

from aiohttp.test_utils import TestClient
from sqlalchemy import select

from dispatch.core.lifecycle import Action
from dispatch.registration import create_api_key
from gridgov.app import App
from models import Case, FollowUp
from models.enums import CaseSource, CaseStatus, Satisfaction
from tests.dispatch.supervision_helpers import at
from tests.dispatch.world import World
from tests.web.helpers import csrf_of, login
from tests.web.test_open311 import BASE, post, report

LINK = re.compile(r"http://gridgov\.test(/followup/[A-Za-z0-9_-]+)")


async def hotline_case(client: TestClient, world: World, app: App) -> Case:
    async with app.sessions() as session, session.begin():
        key = await create_api_key(session, "12345 热线", world.clock(), CaseSource.HOTLINE)
    [created] = await (await post(client, report(key))).json()
    case = await world.casework.find_case(created["service_request_id"])
    assert case.source is CaseSource.HOTLINE
    d, p = world.casework, world.people
    await d.steps.act(Action.FILE, case.id, p["dispatcher"])
    await d.steps.act(Action.DISPATCH, case.id, p["dispatcher"])
    await d.steps.act(Action.ACCEPT, case.id, p["hw1"])
    await d.steps.act(Action.RESOLVE, case.id, p["hw1"], "已清理")
    return await d.steps.act(Action.VERIFY, case.id, p["dispatcher"])


async def status_notes(client: TestClient, number: str) -> str:
    [found] = await (await client.get(f"{BASE}/requests/{number}.json")).json()
    return found["status_notes"]


async def test_link_in_status_notes_answers_once_and_reopens(
    client: TestClient, world: World, app: App
) -> None:
    case = await hotline_case(client, world, app)
    notes = await status_notes(client, case.number or "")
    link = LINK.search(notes)
    assert link is not None, notes
    page = await (await client.get(link.group(1))).text()
    assert "不满意" in page and 'id="followup-form"' in page
    forged = link.group(1)[:-4] + "AAAA"
    r = await client.post(forged, data={"satisfaction": "satisfied"})
    assert r.status == 404
    r = await client.post(link.group(1), data={"satisfaction": "dissatisfied", "note": ""})
    assert r.status == 400
    r = await client.post(link.group(1), data={"satisfaction": "bogus"})
    assert r.status == 400
    assert (await world.casework.find_case(case.number or "")).status is CaseStatus.CLOSED
    r = await client.post(link.group(1), data={"satisfaction": "dissatisfied", "note": "没扫干净"})
    assert r.status == 200 and 'id="thanks"' in await r.text()
    assert (await world.casework.find_case(case.number or "")).status is CaseStatus.DISPATCHED
    r = await client.post(link.group(1), data={"satisfaction": "satisfied"})
    assert r.status == 400  # used
    assert LINK.search(await status_notes(client, case.number or "")) is None


async def test_dispatcher_records_a_call_from_the_queue(
    client: TestClient, world: World, app: App
) -> None:
    case = await hotline_case(client, world, app)
    world.clock.now = at(30, 9)  # past the 3 working days
    assert await login(client, "dispatcher") == 303
    queue = await (await client.get("/console/queue")).text()
    assert 'id="followups-due"' in queue and "超期 1 件" in queue
    page = await (await client.get("/console/followups")).text()
    assert case.number in page and "13800000000" in page  # the number to call back
    form = {"csrf_token": csrf_of(page), "satisfaction": "basically_satisfied", "note": "还行"}
    r = await client.post(f"/console/followups/{case.number}", data=form, allow_redirects=False)
    assert r.status == 303
    async with app.sessions() as session:
        done = await session.scalar(select(FollowUp))
    assert done is not None and done.satisfaction is Satisfaction.BASICALLY_SATISFIED
    page = await (await client.get("/console/followups")).text()
    assert case.number not in page
