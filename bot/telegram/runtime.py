"""Builds the bot, its dispatcher and its outbox channel over the conversation core, and runs
it by polling or webhook. The composition root passes in what it needs."""

import asyncio
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Protocol

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.fsm.storage.memory import SimpleEventIsolation
from aiogram.types import BotCommand
from pydantic import SecretStr

from bot.conversation import Conversation
from bot.telegram.channel import TelegramChannel
from bot.telegram.handlers import build_router
from bot.telegram.middlewares import IdempotencyMiddleware
from bot.telegram.updates import CHANNEL
from dispatch.chat_bindings import migrate_chat

WEBHOOK_PATH = "/telegram/webhook"
COMMANDS = {
    "zh_CN": [
        ("report", "上报事件"),
        ("my", "我的案件"),
        ("case", "查看案件"),
        ("overdue", "超期案件"),
        ("stats", "统计"),
        ("cancel", "取消"),
        ("lang", "语言"),
    ],
    "en": [
        ("report", "Report an incident"),
        ("my", "My cases"),
        ("case", "Case details"),
        ("overdue", "Overdue cases"),
        ("stats", "Figures"),
        ("cancel", "Cancel"),
        ("lang", "Language"),
    ],
}


class WebhookSettings(Protocol):
    public_url: str
    webhook_secret: SecretStr | None


@dataclass(frozen=True)
class TelegramConfig:
    token: str
    api_base: str | None = None  # a self-hosted or test Bot API server
    media_dir: Path | None = None  # photos stored here are uploaded when a card shows them
    console_url: str = ""  # the console's public base URL, named in a shortened card
    # Updates come through the durable webhook queue (bot.inbound), which drops a repeated
    # update itself; polled updates are deduplicated by the dispatcher's middleware.
    webhook: bool = False


def create_bot(config: TelegramConfig) -> Bot:
    session = (
        AiohttpSession(api=TelegramAPIServer.from_base(config.api_base))
        if config.api_base
        else AiohttpSession()
    )
    return Bot(config.token, session=session, default=DefaultBotProperties(parse_mode="HTML"))


def build_dispatcher(conversation: Conversation, webhook: bool = False) -> Dispatcher:
    casework = conversation.ctx.casework
    # One update at a time per chat and user, so a double tap cannot race itself.
    dp = Dispatcher(events_isolation=SimpleEventIsolation())
    if not webhook:
        dp.update.outer_middleware(IdempotencyMiddleware(casework.sessions, casework.clock))
    dp.include_router(build_router(conversation, casework.sessions))
    return dp


def build_bot(
    conversation: Conversation, config: TelegramConfig
) -> tuple[Bot, Dispatcher, TelegramChannel]:
    """The bot, its dispatcher, and the Telegram outbox channel (for the caller to register)."""
    bot = create_bot(config)
    casework = conversation.ctx.casework
    channel = TelegramChannel(
        bot,
        conversation.ctx.tz,
        conversation.ctx.signer,
        partial(migrate_chat, casework.sessions, CHANNEL),
        config.media_dir,
        config.console_url,
    )
    return bot, build_dispatcher(conversation, config.webhook), channel


async def set_commands(bot: Bot) -> None:
    for locale, commands in COMMANDS.items():
        await bot.set_my_commands(
            [BotCommand(command=c, description=d) for c, d in commands],
            language_code=None if locale == "zh_CN" else locale,
        )


def start_polling(bot: Bot, dp: Dispatcher) -> asyncio.Task[None]:
    """Polling in the background (development); cancel the task to stop."""

    async def run() -> None:
        await bot.delete_webhook(drop_pending_updates=False)
        await dp.start_polling(bot, handle_signals=False, close_bot_session=True)

    return asyncio.create_task(run(), name="telegram-polling")


async def setup_webhook(bot: Bot, dp: Dispatcher, settings: WebhookSettings) -> None:
    """Tells Telegram where to post updates, with the secret it must send back."""
    if not settings.public_url or settings.webhook_secret is None:
        raise ValueError("webhook mode needs GRIDGOV_PUBLIC_URL and GRIDGOV_WEBHOOK_SECRET")
    await bot.set_webhook(
        settings.public_url.rstrip("/") + WEBHOOK_PATH,
        secret_token=settings.webhook_secret.get_secret_value(),
        allowed_updates=dp.resolve_used_update_types(),
    )
