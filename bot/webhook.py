"""The Telegram webhook endpoint in the aiohttp server; the secret token is required."""

from aiogram import Bot, Dispatcher
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from bot.runtime import WEBHOOK_PATH


def add_webhook_route(
    webapp: web.Application,
    bot: Bot,
    dp: Dispatcher,
    secret: str,
    path: str = WEBHOOK_PATH,
    handle_in_background: bool = True,
) -> SimpleRequestHandler:
    if not secret:
        raise ValueError("a webhook needs a secret token")
    handler = SimpleRequestHandler(
        dispatcher=dp, bot=bot, secret_token=secret, handle_in_background=handle_in_background
    )
    handler.register(webapp, path=path)
    return handler
