"""The console over HTTP: login, CSRF, roles, the case page and its actions, the queue,
the dashboard and its CSV export, the admin's API keys."""

from datetime import timedelta

from aiohttp.test_utils import TestClient

from dispatch.core.lifecycle import Action
from gridgov.app import App
from models.enums import CaseSource
from tests.dispatch.world import World
from tests.web.helpers import csrf_of, login


async def test_login_sets_a_safe_cookie(client: TestClient) -> None:
    page = await (await client.get("/console/login")).text()
    r = await client.post(
        "/console/login",
        data={"username": "hw1", "password": "correct horse battery", "csrf_token": csrf_of(page)},
        allow_redirects=False,
    )
    assert r.status == 303
    cookie = r.headers.getall("Set-Cookie")
    session = next(c for c in cookie if c.startswith("gridgov_session="))
    assert "HttpOnly" in session and "SameSite=Lax" in session and "Path=/console" in session
    r = await client.get("/console/", allow_redirects=False)
    assert r.headers["Location"] == "/console/cases"


async def test_login_needs_csrf_and_the_right_password(client: TestClient) -> None:
    r = await client.post(
        "/console/login", data={"username": "hw1", "password": "correct horse battery"}
    )
    assert r.status == 403
    assert await login(client, "hw1", "wrong") == 401
    assert await login(client, "nobody", "wrong") == 401
    r = await client.get("/console/cases", allow_redirects=False)
    assert r.status == 303 and r.headers["Location"] == "/console/login"


async def test_failed_logins_are_limited(client: TestClient) -> None:
    for _ in range(5):
        assert await login(client, "hw1", "guess") == 401
    assert await login(client, "hw1") == 429  # even the right password, for a while


async def test_office_accepts_and_resolves(client: TestClient, world: World, app: App) -> None:
    case = (await world.casework.intake.report(world.draft())).case  # auto-dispatched to 环卫处
    assert await login(client, "hw1") == 303
    inbox = await (await client.get("/console/cases")).text()
    assert case.number in inbox
    page = await (await client.get(f"/console/cases/{case.number}")).text()
    assert 'data-action="accept"' in page and 'data-action="resolve"' not in page
    form = {"csrf_token": csrf_of(page), "action": "accept", "version": str(case.version)}
    r = await client.post(f"/console/cases/{case.number}/act", data=form, allow_redirects=False)
    assert r.status == 303
    page = await (await client.get(f"/console/cases/{case.number}")).text()
    assert 'data-action="resolve"' in page
    version = (await app.casework.find_case(case.number)).version
    form = {"csrf_token": csrf_of(page), "action": "resolve", "version": str(version)}
    r = await client.post(f"/console/cases/{case.number}/act", data=form)
    assert r.status == 400  # a note is required
    form["note"] = "已清理 <b>干净</b>"
    r = await client.post(f"/console/cases/{case.number}/act", data=form)
    assert r.status == 200
    page = await r.text()
    assert "已清理 &lt;b&gt;干净&lt;/b&gt;" in page  # the timeline, escaped
    assert (await app.casework.find_case(case.number)).status.value == "resolved"


async def test_stale_version_is_refused(client: TestClient, world: World) -> None:
    case = (await world.casework.intake.report(world.draft())).case
    await login(client, "hw1")
    page = await (await client.get(f"/console/cases/{case.number}")).text()
    form = {"csrf_token": csrf_of(page), "action": "accept", "version": str(case.version - 1)}
    r = await client.post(f"/console/cases/{case.number}/act", data=form)
    assert r.status == 400


async def test_csrf_and_other_office(client: TestClient, world: World, app: App) -> None:
    case = (await world.casework.intake.report(world.draft())).case
    await login(client, "hw1")
    form = {"action": "accept", "version": str(case.version)}
    r = await client.post(f"/console/cases/{case.number}/act", data=form)
    assert r.status == 403
    form["csrf_token"] = "forged"
    r = await client.post(f"/console/cases/{case.number}/act", data=form)
    assert r.status == 403
    client.session.cookie_jar.clear()
    await login(client, "cg1")  # 综合执法局: not their case
    assert (await client.get(f"/console/cases/{case.number}")).status == 403
    page = await (await client.get("/console/cases")).text()
    assert case.number not in page
    assert (await app.casework.find_case(case.number)).status.value == "dispatched"


async def test_wrong_role_is_forbidden(client: TestClient) -> None:
    await login(client, "hw1")
    for path in (
        "/console/queue",
        "/console/dashboard",
        "/console/dashboard.csv",
        "/console/admin",
    ):
        assert (await client.get(path)).status == 403


async def test_dispatcher_files_citizen_report(client: TestClient, world: World, app: App) -> None:
    draft = world.draft(who="", source=CaseSource.CITIZEN, description="<img src=x onerror=1>")
    case = (await world.casework.intake.report(draft)).case
    await login(client, "dispatcher")
    queue = await (await client.get("/console/queue")).text()
    assert case.number in queue and "&lt;img src=x" in queue and "<img src=x" not in queue
    page = await (await client.get(f"/console/cases/{case.number}")).text()
    form = {"csrf_token": csrf_of(page), "action": "file", "version": str(case.version)}
    assert (await client.post(f"/console/cases/{case.number}/act", data=form)).status == 200
    assert (await app.casework.find_case(case.number)).status.value == "filed"


async def test_dashboard_overdue_and_csv(client: TestClient, world: World) -> None:
    case = (await world.casework.intake.report(world.draft())).case
    world.clock.now += timedelta(days=2)
    await login(client, "sup_county")
    page = await (await client.get("/console/dashboard")).text()
    overdue = page.split('id="overdue"')[1].split("</div>")[0]
    assert case.number in overdue and "dot red" in overdue
    assert "环卫处" in page
    r = await client.get("/console/dashboard.csv", params={"start": "2026-11-01"})
    assert r.headers["Content-Type"] == "text/csv; charset=utf-8"
    body = await r.read()
    assert body.startswith(b"\xef\xbb\xbf")
    text = body.decode("utf-8-sig")
    assert "环卫处" in text.splitlines()[1]
    points = await (await client.get("/console/map.json")).json()
    assert points == [
        {"number": case.number, "lon": case.lon, "lat": case.lat, "status": "dispatched",
         "light": "red"}
    ]  # fmt: skip


async def test_the_maps_base_is_the_grid_layer(client: TestClient, world: World) -> None:
    assert (await client.get("/console/grids.geojson", allow_redirects=False)).status in (
        302,
        303,
    )
    await login(client, "hw1")  # an office member's case page shows a map too
    r = await client.get("/console/grids.geojson")
    assert r.status == 200 and r.content_type == "application/geo+json"
    layer = await r.json(content_type=None)
    codes = {f["properties"]["code"] for f in layer["features"]}
    assert codes == set(world.casework.directory.info)
    assert all(f["geometry"]["type"] == "Polygon" for f in layer["features"])


async def test_admin_creates_api_key(client: TestClient) -> None:
    await login(client, "admin")
    page = await (await client.get("/console/admin")).text()
    r = await client.post(
        "/console/admin/apikeys", data={"csrf_token": csrf_of(page), "name": "市民App"}
    )
    html = await r.text()
    key = html.split('id="new-key">')[1].split("<")[0]
    r = await client.post(
        "/open311/v2/requests.json",
        data={"api_key": key, "service_code": "0102", "lat": "30.505", "long": "120.005"},
    )
    assert r.status == 200


async def test_language_switch(client: TestClient) -> None:
    await login(client, "hw1")
    assert "收件箱" in await (await client.get("/console/cases")).text()
    await client.get("/console/lang", params={"to": "en"})
    assert "Inbox" in await (await client.get("/console/cases")).text()


async def test_metrics(client: TestClient, world: World) -> None:
    case = (await world.casework.intake.report(world.draft())).case
    await world.casework.steps.act(Action.ACCEPT, case.id, world.people["hw1"])
    r = await client.get("/metrics")
    text = await r.text()
    assert 'gridgov_cases{status="accepted"} 1.0' in text
    assert 'gridgov_cases_reported_total{source="grid_worker"} 1.0' in text
    assert "gridgov_dispatch_latency_seconds_count 1.0" in text
    assert "gridgov_outbox_messages" in text and "gridgov_escalations_total" in text
