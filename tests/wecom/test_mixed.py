"""One case across channels: a worker on WeCom and the office on Telegram, and the reverse.
Both adapters run over real HTTP (the Telegram emulator, the fake WeCom server) on one
database, and one outbox worker delivers to both channels."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from dispatch.delivery import OutboxWorker, RateLimiter
from models.enums import CaseStatus
from tests.bot.emulator import Emulator
from tests.bot.harness import HW_GROUP, USER_IDS, Harness
from tests.bot.harness import start_harness as start_telegram
from tests.bot.harness import stop_harness as stop_telegram
from tests.bot.test_flow import report_case as report_on_telegram
from tests.dispatch.world import build_world
from tests.wecom.fake_server import FakeWecom
from tests.wecom.harness import USERIDS, WecomHarness
from tests.wecom.harness import start_harness as start_wecom
from tests.wecom.harness import stop_harness as stop_wecom
from tests.wecom.test_loop import JPEG
from tests.wecom.test_loop import report_case as report_on_wecom


class Both:
    def __init__(self, tg: Harness, wx: WecomHarness) -> None:
        self.tg, self.wx = tg, wx

    async def deliver(self) -> None:
        channels = {**self.tg.app.channels, **self.wx.app.channels}
        worker = OutboxWorker(
            self.wx.app.sessions,
            channels,
            rate_limiter=RateLimiter(1000, 1000, 1000),
            clock=self.wx.world.clock,
        )
        report = await worker.run_once()
        assert report.sent and not (report.retried or report.dead or report.undeliverable)

    async def status(self, number: str | None) -> CaseStatus:
        return (await self.wx.world.casework.find_case(number or "")).status


@pytest.fixture
async def both(engine: AsyncEngine, fake: FakeWecom, tmp_path: Path) -> AsyncIterator[Both]:
    world = await build_world(engine)
    emulator = Emulator()
    await emulator.start()
    tg = await start_telegram(world, emulator)
    wx = await start_wecom(world, fake, tmp_path / "media")
    tg.channel.media_dir = wx.app.settings.media_dir  # one server, one media directory
    yield Both(tg, wx)
    await stop_wecom(wx)
    await stop_telegram(tg)
    await emulator.close()


async def test_worker_on_wecom_office_on_telegram(both: Both) -> None:
    tg, wx = both.tg, both.wx
    await wx.register("worker")
    await tg.register("hw1", "hw2")
    await tg.say("hw1", f"/bind {await tg.office_invite('hw')}", chat_id=HW_GROUP)

    case = await report_on_wecom(wx)
    assert case.status is CaseStatus.DISPATCHED
    await both.deliver()
    # the office's Telegram group gets the card; the WeCom photo is uploaded to Telegram
    (card,) = tg.emu.sent("sendPhoto", chat_id=HW_GROUP)
    assert case.number in card.params["caption"]

    await tg.press("hw2", HW_GROUP, "c:accept:")
    assert await both.status(case.number) is CaseStatus.ACCEPTED
    await both.deliver()  # the group's card now offers 办结
    await tg.press("hw2", HW_GROUP, "c:resolve:")
    result = {"file_id": "done1", "file_unique_id": "d1", "width": 8, "height": 6}
    await tg.send("hw2", HW_GROUP, photo=[result], caption="已清理")
    assert await both.status(case.number) is CaseStatus.RESOLVED

    # the worker verifies on WeCom
    await both.deliver()
    await wx.press("worker", "v:")
    assert await both.status(case.number) is CaseStatus.CLOSED


async def test_worker_on_telegram_office_on_wecom(both: Both) -> None:
    tg, wx = both.tg, both.wx
    await tg.register("worker")
    await wx.register("hw1", "hw2")

    case = await report_on_telegram(tg)
    assert case.status is CaseStatus.DISPATCHED
    await both.deliver()
    for member in ("hw1", "hw2"):
        (card,) = wx.fake.cards(USERIDS[member])
        assert case.number in card["main_title"]["title"]

    await wx.press("hw1", "c:accept:")
    assert await both.status(case.number) is CaseStatus.ACCEPTED
    await both.deliver()
    updated = wx.fake.sent("message/update_template_card")
    assert sorted(u.params["userids"][0] for u in updated) == sorted(
        [USERIDS["hw1"], USERIDS["hw2"]]
    )

    await wx.press("hw2", "c:resolve:")
    assert await wx.post(wx.client.image(USERIDS["hw2"], wx.fake.add_media(JPEG))) == 200
    await wx.say("hw2", "已清理")
    assert await both.status(case.number) is CaseStatus.RESOLVED

    # the worker verifies on Telegram; the WeCom result photo went there as an upload
    await both.deliver()
    to_verify = [
        c
        for c in tg.emu.sent(chat_id=USER_IDS["worker"])
        if c.method in ("sendPhoto", "sendMessage") and case.number in str(c.params)
    ]
    assert to_verify
    await tg.press("worker", USER_IDS["worker"], "v:")
    assert await both.status(case.number) is CaseStatus.CLOSED
