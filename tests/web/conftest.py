"""An App over the test database and the tiny county, served by aiohttp's test server."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from dispatch.accounts import hash_password
from dispatch.registration import create_api_key
from gridgov.app import App
from gridgov.settings import Settings
from models import Person
from models.db import create_session_factory
from tests.dispatch.world import World, build_world
from web.app import create_web_app

PASSWORD = "correct horse battery"


@pytest.fixture
async def world(engine: AsyncEngine) -> World:
    w = await build_world(engine)
    async with create_session_factory(engine)() as session, session.begin():
        await session.execute(update(Person).values(password_hash=hash_password(PASSWORD)))
    return w


@pytest.fixture
def app(world: World, engine: AsyncEngine, tmp_path: Path) -> App:
    settings = Settings(
        media_dir=tmp_path / "media", public_url="http://gridgov.test", default_locale="zh_CN"
    )
    return App(settings, engine, create_session_factory(engine), world.dispatch, {})


@pytest.fixture
async def client(app: App) -> AsyncIterator[TestClient]:
    async with TestClient(TestServer(create_web_app(app.web_context()))) as client:
        yield client


@pytest.fixture
async def api_key(app: App) -> str:
    async with app.sessions() as session, session.begin():
        return await create_api_key(session, "12345 hotline", app.dispatch.clock())
