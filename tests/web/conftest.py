"""An App over the test database and the tiny county, served by aiohttp's test server."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from playwright.async_api import Browser, async_playwright
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
# The browser tests drive Debian's Chromium through Playwright, never a downloaded browser.
CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
async def base_url(app: App) -> AsyncIterator[str]:
    runner = web.AppRunner(create_web_app(app.web_context()))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        await browser.close()


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
    return App(settings, engine, create_session_factory(engine), world.casework, {})


@pytest.fixture
async def client(app: App) -> AsyncIterator[TestClient]:
    async with TestClient(TestServer(create_web_app(app.web_context()))) as client:
        yield client


@pytest.fixture
async def api_key(app: App) -> str:
    async with app.sessions() as session, session.begin():
        return await create_api_key(session, "12345 hotline", app.casework.clock())
