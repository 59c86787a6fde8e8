"""The case file (案卷) in a real Chromium: on screen with its map, and printed (the print
stylesheet hides the console around it; Chromium's PDF of it is a real document). The public
page (政务公开) in Chromium, searched for the reporters' names and phone numbers."""

from pathlib import Path

import pytest
from playwright.async_api import Browser, Response, expect
from sqlalchemy.ext.asyncio import AsyncEngine

from dispatch.core.lifecycle import Action
from gridgov.app import App
from gridgov.settings import Settings
from models.db import create_session_factory
from tests.dispatch.supervision_helpers import closed_case
from tests.dispatch.world import World
from tests.web.test_browser import login, pytestmark
from tests.web.test_public_page import SECRETS
from tests.web.test_public_page import reports as public_reports

__all__ = ["pytestmark"]


@pytest.fixture
def app(world: World, engine: AsyncEngine, tmp_path: Path) -> App:
    """The test app with the public page switched on."""
    settings = Settings(
        media_dir=tmp_path / "media", public_url="http://gridgov.test", public_page=True
    )
    return App(settings, engine, create_session_factory(engine), world.casework, {})


async def test_case_file_on_screen_and_in_print(
    browser: Browser, base_url: str, world: World
) -> None:
    case = await closed_case(world, description="绿化带内垃圾")
    await world.casework.steps.act(
        Action.REOPEN, case.id, world.people["dispatcher"], "群众反映未清理"
    )
    page = await login(browser, base_url, "sup_comm")
    await page.goto(f"{base_url}/console/cases/{case.number}/file")
    await expect(page.locator("#file-number")).to_have_text(case.number or "")
    await expect(page.locator("#map.leaflet-container")).to_be_visible()
    await expect(page.locator("#trail")).to_contain_text("群众反映未清理")
    await expect(page.locator("header")).to_be_visible()
    await page.emulate_media(media="print")
    await expect(page.locator("header")).to_be_hidden()
    await expect(page.locator("#print")).to_be_hidden()
    await expect(page.locator("#trail")).to_be_visible()
    await expect(page.locator("#trail")).to_contain_text("绿化带内垃圾")
    pdf = await page.pdf(format="A4")
    assert pdf.startswith(b"%PDF") and len(pdf) > 10_000


async def test_public_page_in_chromium_has_no_personal_data(
    browser: Browser, base_url: str, world: World
) -> None:
    await public_reports(world)
    page = await (await browser.new_context()).new_page()
    seen: list[str] = []

    async def keep(response: Response) -> None:
        if "/public/" in response.url:
            seen.append(await response.text())

    page.on("response", keep)
    await page.goto(f"{base_url}/public/")
    await expect(page.locator("#map")).to_have_attribute("data-ready", "2")
    await expect(page.locator("#map path.leaflet-interactive")).not_to_have_count(0)
    await expect(page.locator("h1")).to_have_text("网格化治理政务公开")
    shown = await page.content() + await page.inner_text("body") + "".join(seen)
    for secret in SECRETS:
        assert secret not in shown, secret
