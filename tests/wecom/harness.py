"""Drives the real WeCom channel over HTTP: encrypted callbacks are posted to the app's
callback URL, and its API calls land in the fake WeCom server."""

from dataclasses import dataclass
from pathlib import Path

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlalchemy import select

from bot.wecom.callback import CALLBACK_PATH
from bot.wecom.runtime import WecomRuntime
from dispatch.delivery import DeliveryReport, OutboxWorker, RateLimiter
from dispatch.registration import create_invite
from gridgov.app import App
from gridgov.settings import Settings
from models import ChatIdentity, Person
from tests.dispatch.world import World
from tests.wecom.fake_server import (
    AES_KEY,
    AGENT_ID,
    CORP_ID,
    SECRET,
    TOKEN,
    CallbackClient,
    FakeWecom,
)

USERIDS = {"worker": "zhangwei", "hw1": "lina", "hw2": "chenjie", "sup_comm": "zhoumin"}


@dataclass
class WecomHarness:
    world: World
    fake: FakeWecom
    app: App
    runtime: WecomRuntime
    server: TestServer
    http: aiohttp.ClientSession
    client: CallbackClient

    async def post(self, xml: str) -> int:
        """Posts one callback and waits until the app has handled it."""
        status = await self.client.post(xml)
        await self.runtime.queue.drain()
        return status

    async def say(self, who: str, text: str) -> None:
        assert await self.post(self.client.text(USERIDS.get(who, who), text)) == 200

    def texts(self, who: str) -> list[str]:
        return self.fake.texts(USERIDS.get(who, who))

    def button(self, who: str, prefix: str) -> tuple[str, str]:
        """The newest card sent to the person with a button whose data begins with `prefix`:
        its task id and that button's data."""
        userid = USERIDS.get(who, who)
        cards = self.fake.cards(userid) + [
            u.params["template_card"]
            for u in self.fake.sent("message/update_template_card")
            if userid in u.params["userids"] and "template_card" in u.params
        ]
        for card in reversed(cards):
            for button in card.get("button_list", []):
                if button["key"].startswith(prefix):
                    return card["task_id"], button["key"]
        raise AssertionError(f"no button {prefix!r} shown to {who}")

    async def press(self, who: str, prefix: str) -> None:
        """Presses that button on the card, as WeCom reports it: with a fresh response code."""
        userid = USERIDS.get(who, who)
        task_id, key = self.button(who, prefix)
        code = self.fake.card_code(userid, task_id)
        assert await self.post(self.client.card_press(userid, key, task_id, code)) == 200

    async def invite(self, who: str) -> str:
        async with self.app.sessions() as session, session.begin():
            person = await session.get(Person, self.world.people[who])
            return (await create_invite(session, self.world.clock(), person=person)).code

    async def register(self, *people: str) -> None:
        for who in people:
            await self.say(who, await self.invite(who))

    async def identities(self) -> list[tuple[str, int]]:
        async with self.app.sessions() as session:
            rows = await session.execute(
                select(ChatIdentity.external_id, ChatIdentity.person_id).where(
                    ChatIdentity.channel == "wecom"
                )
            )
            return [tuple(r) for r in rows]  # type: ignore[misc]

    def worker(self) -> OutboxWorker:
        return OutboxWorker(
            self.app.sessions,
            self.app.channels,
            rate_limiter=RateLimiter(1000, 1000, 1000),
            clock=self.world.clock,
        )

    async def deliver(self) -> DeliveryReport:
        return await self.worker().run_once()


def wecom_settings(api_base: str, media_dir: Path) -> Settings:
    return Settings(
        database_url="postgresql+asyncpg://unused",
        wecom_corp_id=CORP_ID,
        wecom_agent_id=AGENT_ID,
        wecom_secret=SECRET,
        wecom_token=TOKEN,
        wecom_aes_key=AES_KEY,
        wecom_api_base=api_base,
        media_dir=media_dir,
    )


async def start_harness(world: World, fake: FakeWecom, media_dir: Path) -> WecomHarness:
    settings = wecom_settings(fake.base, media_dir)
    app = App(settings, None, world.casework.sessions, world.casework)  # type: ignore[arg-type]
    await app.start_conversation()
    webapp = web.Application()
    runtime = app.wecom(webapp)
    server = TestServer(webapp, host="127.0.0.1")
    await server.start_server()
    http = aiohttp.ClientSession()
    client = CallbackClient(http, f"http://127.0.0.1:{server.port}{CALLBACK_PATH}")
    return WecomHarness(world, fake, app, runtime, server, http, client)


async def stop_harness(h: WecomHarness) -> None:
    await h.runtime.close()
    await h.http.close()
    await h.server.close()
