"""Drives the real bot over HTTP: updates are posted to its webhook endpoint (or queued for
polling in the emulator), and its calls land in the emulator."""

import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiogram import Bot, Dispatcher
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlalchemy import select

from bot.telegram.channel import TelegramChannel
from bot.telegram.runtime import WEBHOOK_PATH
from bot.telegram.webhook import add_webhook_route
from dispatch.delivery import DeliveryReport, OutboxWorker, RateLimiter
from dispatch.registration import create_invite
from gridgov.app import App
from gridgov.settings import Settings
from models import Person
from models.enums import ChatKind
from tests.bot.emulator import Emulator
from tests.dispatch.world import World

SECRET = "s3cret-token"
USER_IDS = {
    "worker": 1001,
    "worker2": 1002,
    "hw1": 2001,
    "hw2": 2002,
    "cg1": 3001,
    "dispatcher": 3501,
    "sup_comm": 4001,
    "sup_town": 4002,
    "sup_county": 4003,
}
HW_GROUP = -100200
CG_GROUP = -100300


@dataclass
class Harness:
    world: World
    emu: Emulator
    bot: Bot
    dp: Dispatcher
    app: App
    server: TestServer
    http: aiohttp.ClientSession
    chats: dict[int, str] = field(default_factory=dict)

    @property
    def channel(self) -> TelegramChannel:
        channel = self.app.channels["telegram"]
        assert isinstance(channel, TelegramChannel)
        return channel

    # -- updates -------------------------------------------------------------------

    def _user(self, who: str) -> dict[str, Any]:
        return {
            "id": USER_IDS[who],
            "is_bot": False,
            "first_name": who,
            "language_code": "zh-hans",
        }

    def _chat(self, who: str, chat_id: int | None) -> dict[str, Any]:
        if chat_id is None:
            return {"id": USER_IDS[who], "type": "private", "first_name": who}
        return {"id": chat_id, "type": "group", "title": f"group {chat_id}"}

    def message(self, who: str, chat_id: int | None = None, **content: Any) -> dict[str, Any]:
        message = {
            "message_id": int(time.time() * 1000) % 10**9,
            "date": int(time.time()),
            "chat": self._chat(who, chat_id),
            "from": self._user(who),
            **content,
        }
        if "text" in content and content["text"].startswith("/"):
            command = content["text"].split()[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        return {"update_id": self.emu.next_update_id(), "message": message}

    async def post(self, update: dict[str, Any], secret: str | None = SECRET) -> int:
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
        async with self.http.post(
            f"http://127.0.0.1:{self.server.port}{WEBHOOK_PATH}", json=update, headers=headers
        ) as response:
            return response.status

    async def say(self, who: str, text: str, chat_id: int | None = None) -> dict[str, Any]:
        update = self.message(who, chat_id, text=text)
        assert await self.post(update) == 200
        return update

    async def send(self, who: str, chat_id: int | None = None, **content: Any) -> None:
        assert await self.post(self.message(who, chat_id, **content)) == 200

    def find_button(self, chat_id: int, prefix: str) -> tuple[dict[str, Any], str]:
        """The newest message in the chat with a button whose data starts with `prefix`."""
        ids = sorted((mid for (chat, mid) in self.emu.messages if chat == chat_id), reverse=True)
        for mid in ids:
            message = self.emu.messages[(chat_id, mid)]
            for row in message.get("reply_markup", {}).get("inline_keyboard", []):
                for button in row:
                    if button.get("callback_data", "").startswith(prefix):
                        return message, button["callback_data"]
        raise AssertionError(f"no button {prefix!r} in chat {chat_id}")

    async def press(
        self, who: str, chat_id: int, prefix: str, data: str | None = None
    ) -> dict[str, Any]:
        message, found = self.find_button(chat_id, prefix)
        update = self.callback(who, message, data or found)
        assert await self.post(update) == 200
        return update

    async def press_label(self, who: str, chat_id: int, label: str) -> dict[str, Any]:
        """Presses the button labelled `label` on the newest message that has one."""
        ids = sorted((mid for (chat, mid) in self.emu.messages if chat == chat_id), reverse=True)
        for mid in ids:
            message = self.emu.messages[(chat_id, mid)]
            for row in message.get("reply_markup", {}).get("inline_keyboard", []):
                for button in row:
                    if button["text"] == label:
                        update = self.callback(who, message, button["callback_data"])
                        assert await self.post(update) == 200
                        return update
        raise AssertionError(f"no button {label!r} in chat {chat_id}")

    def callback(self, who: str, message: dict[str, Any], data: str) -> dict[str, Any]:
        return {
            "update_id": self.emu.next_update_id(),
            "callback_query": {
                "id": str(self.emu.next_update_id()),
                "from": self._user(who),
                "chat_instance": "ci",
                "message": message,
                "data": data,
            },
        }

    def last_alert(self) -> str:
        return self.emu.alerts()[-1]

    # -- the rest of the system ------------------------------------------------------

    async def deliver(self) -> DeliveryReport:
        worker = OutboxWorker(
            self.app.sessions,
            self.app.channels,
            rate_limiter=RateLimiter(1000, 1000, 1000),
            clock=self.world.clock,
        )
        return await worker.run_once()

    async def invite(self, who: str) -> str:
        async with self.app.sessions() as session, session.begin():
            person = await session.get(Person, self.world.people[who])
            invite = await create_invite(session, self.world.clock(), person=person)
            return invite.code

    async def office_invite(self, department_code: str) -> str:
        department = self.world.casework.catalog.departments_by_code[department_code]
        async with self.app.sessions() as session, session.begin():
            invite = await create_invite(
                session, self.world.clock(), chat_kind=ChatKind.OFFICE, department_id=department.id
            )
            return invite.code

    async def register(self, *people: str) -> None:
        for who in people:
            await self.say(who, f"/start {await self.invite(who)}")

    async def person(self, who: str) -> Person:
        async with self.app.sessions() as session:
            found = await session.scalar(select(Person).where(Person.username == who))
            assert found is not None
            return found


async def start_harness(world: World, emu: Emulator) -> Harness:
    settings = Settings(
        telegram_token=emu.token,
        telegram_api_base=emu.base,
        webhook_secret=SECRET,
        telegram_mode="webhook",
        public_url="https://gridgov.example.org",
        database_url="postgresql+asyncpg://unused",
    )
    app = App(settings, None, world.casework.sessions, world.casework)  # type: ignore[arg-type]
    await app.start_conversation()
    bot, dp = app.telegram_bot()
    webapp = web.Application()
    add_webhook_route(webapp, bot, dp, app.sessions, SECRET, handle_in_background=False)
    server = TestServer(webapp, host="127.0.0.1")
    await server.start_server()
    return Harness(world, emu, bot, dp, app, server, aiohttp.ClientSession())


async def stop_harness(h: Harness) -> None:
    await h.http.close()
    await h.server.close()
    await h.bot.session.close()
