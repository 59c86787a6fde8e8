"""The public transparency page (政务公开): 404 while off; figures by office and town, a map with
rounded places; nothing personal (searched for the reporters' names and phone numbers);
descriptions only where the category allows; cached; rate-limited."""

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from gridgov.app import App
from gridgov.settings import Settings
from models import Category
from models.db import create_session_factory
from models.enums import CaseSource
from tests.dispatch.world import World
from web.app import create_web_app

CITIZEN = {"name": "王小明", "phone": "13812345678", "email": "xiaoming@example.com"}
SECRETS = ["王小明", "13812345678", "xiaoming@example.com", "英溪社区 8 号", "张伟", "李娜"]


@pytest.fixture
async def public_client(
    world: World, engine: AsyncEngine, tmp_path: Path
) -> AsyncIterator[TestClient]:
    settings = Settings(
        media_dir=tmp_path / "media", public_page=True, public_requests_per_minute=8
    )
    app = App(settings, engine, create_session_factory(engine), world.casework, {})
    async with TestClient(TestServer(create_web_app(app.web_context()))) as client:
        yield client


async def reports(world: World) -> None:
    d = world.casework
    async with d.sessions() as session, session.begin():
        await session.execute(
            update(Category).where(Category.code == "0103").values(public_description=True)
        )
    await d.refresh()
    citizen = world.draft(
        who="",
        source=CaseSource.CITIZEN,
        reporter_contact=CITIZEN,
        address="英溪社区 8 号",
        description="王小明 13812345678 家门口有垃圾",
    )
    await d.intake.report(citizen)
    await d.intake.report(world.draft(category="0103", description="绿地内有树枝杂物"))


async def test_off_by_default(client: TestClient) -> None:
    assert (await client.get("/public/")).status == 404
    assert (await client.get("/public/cases.json")).status == 404


async def test_public_page_shows_nothing_personal(public_client: TestClient, world: World) -> None:
    await reports(world)
    r = await public_client.get("/public/")
    assert r.status == 200 and "public" in r.headers["Cache-Control"]
    page = await r.text()
    assert "环卫处" in page and "武康街道" in page
    cases = await (await public_client.get("/public/cases.json")).json()
    assert len(cases) == 2
    everything = page + json.dumps(cases, ensure_ascii=False)
    for secret in SECRETS:
        assert secret not in everything, secret
    assert {c["description"] for c in cases} == {"", "绿地内有树枝杂物"}
    assert all(round(c["lon"], 3) == c["lon"] and round(c["lat"], 3) == c["lat"] for c in cases)
    grids = await public_client.get("/public/grids.geojson")
    assert grids.status == 200 and "FeatureCollection" in await grids.text()


async def test_cached_and_rate_limited(public_client: TestClient, world: World) -> None:
    await reports(world)
    first = await (await public_client.get("/public/cases.json")).json()
    await world.casework.intake.report(world.draft(description="新的上报"))
    again = await (await public_client.get("/public/cases.json")).json()
    assert again == first  # from the cache
    statuses = [(await public_client.get("/public/")).status for _ in range(8)]
    assert statuses[:6] == [200] * 6 and statuses[-1] == 429
