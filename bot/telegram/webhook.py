"""The Telegram webhook endpoint in the aiohttp server. The secret token is required; an update
is persisted before Telegram gets its 200 and handled afterwards (bot.inbound), so an answered
update is never lost and a redelivered one is handled once."""

import json
import secrets

from aiogram import Bot, Dispatcher
from aiogram.methods import TelegramMethod
from aiogram.types import Update
from aiohttp import web
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.inbound import InboundQueue
from bot.telegram.runtime import WEBHOOK_PATH

CHANNEL = "telegram"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class TelegramWebhook:
    def __init__(
        self,
        bot: Bot,
        dp: Dispatcher,
        sessions: async_sessionmaker[AsyncSession],
        secret: str,
        handle_in_background: bool = True,
    ) -> None:
        if not secret:
            raise ValueError("a webhook needs a secret token")
        self.bot = bot
        self.dp = dp
        self.sessions = sessions
        self.secret = secret
        self.handle_in_background = handle_in_background
        self.queue = InboundQueue(sessions, CHANNEL, self._feed)

    async def handle(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not secrets.compare_digest(given.encode(), self.secret.encode()):
            return web.Response(status=401, text="Unauthorized")
        try:  # validated before it is stored: what is stored can be handled
            body = (await request.read()).decode()
            update = Update.model_validate(json.loads(body), context={"bot": self.bot})
        except (ValueError, ValidationError):  # bad UTF-8, bad JSON: ValueErrors too
            return web.Response(status=400, text="not a Telegram update")
        row_id = await self.queue.accept(str(update.update_id), body)
        if row_id is not None:
            if self.handle_in_background:
                self.queue.handle_in_background(row_id, body)
            else:
                await self.queue.handle(row_id, body)
        return web.json_response({})

    async def _feed(self, body: str) -> None:
        update = Update.model_validate(json.loads(body), context={"bot": self.bot})
        result = await self.dp.feed_update(self.bot, update)
        if isinstance(result, TelegramMethod):
            await self.dp.silent_call_request(bot=self.bot, result=result)


def add_webhook_route(
    webapp: web.Application,
    bot: Bot,
    dp: Dispatcher,
    sessions: async_sessionmaker[AsyncSession],
    secret: str,
    path: str = WEBHOOK_PATH,
    handle_in_background: bool = True,
) -> TelegramWebhook:
    """Adds the route; the caller runs `webhook.queue.resume()` once the server is up and
    `webhook.queue.drain()` before it stops."""
    webhook = TelegramWebhook(bot, dp, sessions, secret, handle_in_background)
    webapp.router.add_post(path, webhook.handle)
    return webhook
