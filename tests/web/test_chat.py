"""对话演示, the console's web chat: a whole report in a real Chromium (map click, photo from
the file picker, buttons), the office card in the office member's web chat, and who may play
whom."""

from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient
from playwright.async_api import Browser, Page, expect
from sqlalchemy import select

from bot.conversation import Conversation
from dispatch.delivery import OutboxWorker, RateLimiter
from gridgov.app import App
from models import Case
from models.enums import CaseStatus
from tests.dispatch.world import INSIDE_A1, World
from tests.web.conftest import CHROMIUM
from tests.web.helpers import csrf_of, picture
from tests.web.helpers import login as console_login
from tests.web.test_browser import login

JPEG = picture("JPEG")


@pytest.fixture
async def conversation(app: App) -> Conversation:
    return await app.start_conversation()


async def deliver(app: App, world: World) -> None:
    worker = OutboxWorker(
        app.sessions, app.channels, rate_limiter=RateLimiter(1000, 1000, 1000), clock=world.clock
    )
    await worker.run_once()


async def last_reply(page: Page, words: str) -> None:
    await expect(page.locator("#chat-log .msg.bot").last).to_contain_text(words)


@pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is absent")
async def test_a_whole_report_through_the_web_chat(
    conversation: Conversation,
    app: App,
    world: World,
    browser: Browser,
    base_url: str,
    tmp_path: Path,
) -> None:
    # the office member has opened the web chat: office cards come there
    office = await login(browser, base_url, "hw1")
    await office.goto(f"{base_url}/console/chat")
    await office.fill("#chat-text", "/my")
    await office.click("#chat-send")
    await expect(office.locator("#chat-log .msg.bot")).to_have_count(1)

    page = await login(browser, base_url, "worker")
    await page.goto(f"{base_url}/console/chat")
    await page.fill("#chat-text", "/report")
    await page.click("#chat-send")
    await last_reply(page, "位置")
    await expect(page.locator("#chat-map")).to_have_attribute("data-ready", "1")
    # a real click on the map where the grid A1 lies
    point = await page.evaluate(
        "([lon, lat]) => window.gridgovChat.map.latLngToContainerPoint([lat, lon])",
        list(INSIDE_A1),
    )
    box = await page.locator("#chat-map").bounding_box()
    assert box is not None
    await page.mouse.click(box["x"] + point["x"], box["y"] + point["y"])
    await last_reply(page, "照片")
    photo_file = tmp_path / "rubbish.jpg"
    photo_file.write_bytes(JPEG)
    await page.set_input_files("#chat-photo", str(photo_file))
    await last_reply(page, "第 1 张照片")
    await page.locator("#chat-log button[data-data^='r:done:']").last.click()
    await page.locator("#chat-log button[data-data='k:01']").last.click()
    await page.locator("#chat-log button[data-data='k:0102']").last.click()
    await last_reply(page, "描述")
    await page.fill("#chat-text", "路口垃圾堆")
    await page.click("#chat-send")
    await page.locator("#chat-log button[data-data^='r:confirm:']").last.click()
    await last_reply(page, "上报成功")

    async with app.sessions() as session:
        case = await session.scalar(select(Case).order_by(Case.id.desc()))
    assert case is not None and case.status is CaseStatus.DISPATCHED
    assert case.reporter_id == world.people["worker"] and case.description == "路口垃圾堆"
    assert case.external_ref and case.external_ref.startswith("web:")
    found = await world.casework.find_case(case.number or "")
    (attachment,) = found.attachments
    assert attachment.storage == "local"
    stored = Path(app.settings.media_dir) / attachment.ref
    assert stored.suffix == ".jpg" and stored.read_bytes()[:2] == b"\xff\xd8"  # re-encoded
    # the office's card reaches its member's web chat, and 签收 works there
    await deliver(app, world)
    card = office.locator("#chat-log .msg.card").last
    await expect(card).to_contain_text(case.number or "")
    await card.locator("button[data-data^='c:accept:']").click()
    await expect(office.locator("#chat-log .msg.toast").last).to_contain_text("已签收")
    assert (await world.casework.find_case(case.number or "")).status is CaseStatus.ACCEPTED


async def test_who_may_play_whom(
    conversation: Conversation, client: TestClient, world: World
) -> None:
    await console_login(client, "worker")
    page = await client.get("/console/chat")
    html = await page.text()
    assert page.status == 200 and "对话演示" in html
    assert (await client.get(f"/console/chat?as={world.people['hw1']}")).status == 403
    csrf = csrf_of(html)
    other = {"csrf_token": csrf, "as": str(world.people["hw1"]), "kind": "text", "text": "/my"}
    assert (await client.post("/console/chat/send", data=other)).status == 403
    bad = {"csrf_token": csrf, "kind": "location", "lon": "nan", "lat": "30"}
    refused = await client.post("/console/chat/send", data=bad)
    assert refused.status == 400 and "error" in await refused.json()
    mine = {"csrf_token": csrf, "kind": "text", "text": "/my"}
    answers = (await (await client.post("/console/chat/send", data=mine)).json())["answers"]
    assert answers[0]["type"] == "reply" and "没有在办" in answers[0]["text"]
    await console_login(client, "admin")
    picker = await client.get("/console/chat")
    names = await picker.text()
    assert "陈静 · 处置单位成员" in names and "管理员 · 管理员" in names
