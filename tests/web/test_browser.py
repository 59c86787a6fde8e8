"""The console in a real Chromium (Debian's package, driven by Playwright; never downloaded):
login, an office accepting and resolving a case, the supervisor dashboard with an overdue
case and its map, the CSV export, and an admin changing a time limit."""

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from aiohttp import web
from playwright.async_api import Browser, Page, async_playwright, expect

from gridgov.app import App
from tests.dispatch.world import SHANGHAI, World
from tests.web.conftest import PASSWORD
from web.app import create_web_app

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="/usr/bin/chromium is absent (apt-get install chromium)"
)
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


async def login(browser: Browser, base_url: str, username: str) -> Page:
    page = await (await browser.new_context(accept_downloads=True)).new_page()
    await page.goto(f"{base_url}/console/login")
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    return page


async def test_login_and_bad_password(browser: Browser, base_url: str) -> None:
    page = await login(browser, base_url, "hw1")
    await expect(page).to_have_url(f"{base_url}/console/cases")
    await expect(page.locator("h1")).to_have_text("收件箱")
    cookies = await page.context.cookies()
    session = next(c for c in cookies if c["name"] == "gridgov_session")
    assert session["httpOnly"] and session["sameSite"] == "Lax"
    other = await (await browser.new_context()).new_page()
    await other.goto(f"{base_url}/console/login")
    await other.fill("input[name=username]", "hw1")
    await other.fill("input[name=password]", "wrong")
    await other.click("button[type=submit]")
    await expect(other.locator("#error")).to_have_text("用户名或密码错误。")


async def test_office_accepts_and_resolves(browser: Browser, base_url: str, world: World) -> None:
    case = (await world.dispatch.report(world.draft(description="垃圾 <b>堆</b>"))).case
    page = await login(browser, base_url, "hw1")
    await page.click(f"text={case.number}")
    await expect(page.locator("#case-description")).to_have_text("垃圾 <b>堆</b>")
    await expect(page.locator("#map.leaflet-container")).to_be_visible()
    await page.click("form[data-action=accept] button")
    await expect(page.locator("#case-status")).to_have_text("已签收")
    resolve = page.locator("form[data-action=resolve]")
    await resolve.locator("input[name=note]").fill("已清理完毕")
    await resolve.locator("button").click()
    await expect(page.locator("#case-status")).to_have_text("已办结")
    await expect(page.locator("#timeline")).to_contain_text("已清理完毕")
    assert (await world.dispatch.find_case(case.number)).status.value == "resolved"


async def test_dashboard_overdue_and_csv(browser: Browser, base_url: str, world: World) -> None:
    case = (await world.dispatch.report(world.draft())).case
    world.clock.now += timedelta(days=2)
    page = await login(browser, base_url, "sup_county")
    await expect(page).to_have_url(f"{base_url}/console/dashboard")
    await expect(page.locator("#overdue")).to_contain_text(case.number)
    await expect(page.locator("#map")).to_have_attribute("data-ready", "1")
    # one case marker, on top of the grid layer's four outlines
    await expect(page.locator("#map path.leaflet-interactive:not(.grid-outline)")).to_have_count(1)
    await expect(page.locator("#map path.grid-outline")).to_have_count(4)
    await expect(page.locator("#figures")).to_contain_text("环卫处")
    async with page.expect_download() as info:
        await page.click("#csv")
    download = await info.value
    data = await asyncio.to_thread(Path(await download.path()).read_bytes)
    assert data.startswith(b"\xef\xbb\xbf")
    assert "环卫处" in data.decode("utf-8-sig")


async def test_admin_changes_a_time_limit(browser: Browser, base_url: str, world: World) -> None:
    page = await login(browser, base_url, "admin")
    await expect(page).to_have_url(f"{base_url}/console/admin")
    await page.click("text=类别与时限")
    await page.click("tr[data-code='0102'] >> text=编辑")
    await page.fill("input[name=time_limit_value]", "2")
    await page.select_option("select[name=time_limit_unit]", "work_days")
    await page.click("#category-form button[type=submit]")
    await expect(page).to_have_url(f"{base_url}/console/admin/categories")
    await expect(page.locator("tr[data-code='0102'] td.limit")).to_have_text("2 工作日")
    case = (await world.dispatch.report(world.draft())).case  # Monday 09:00
    assert case.deadline_at == datetime(2026, 11, 25, 9, 0, tzinfo=SHANGHAI)
