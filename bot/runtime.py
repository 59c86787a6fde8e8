"""Builds the bot and its dispatcher from the settings, and runs it by polling or webhook."""

import asyncio
from datetime import timedelta
from functools import partial

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.fsm.storage.memory import SimpleEventIsolation
from aiogram.types import BotCommand

from bot.channel import TelegramChannel
from bot.context import CHANNEL, BotContext
from bot.handlers import build_router
from bot.i18n import build_i18n
from bot.middlewares import IdempotencyMiddleware, IdentityMiddleware, LocaleMiddleware
from bot.storage import DatabaseStorage
from dispatch.chat_bindings import migrate_chat
from gridgov.app import App
from gridgov.settings import Settings

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


def create_bot(settings: Settings) -> Bot:
    if settings.telegram_token is None:
        raise ValueError("GRIDGOV_TELEGRAM_TOKEN is not set")
    session = (
        AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_base))
        if settings.telegram_api_base
        else AiohttpSession()
    )
    return Bot(
        settings.telegram_token.get_secret_value(),
        session=session,
        default=DefaultBotProperties(parse_mode="HTML"),
    )


def build_dispatcher(app: App, settings: Settings) -> Dispatcher:
    i18n = build_i18n(settings.default_locale)
    ctx = BotContext(app.casework, i18n, settings.max_upload_bytes)
    storage = DatabaseStorage(
        app.sessions, timedelta(minutes=settings.draft_ttl_minutes), app.casework.clock
    )
    # One update at a time per chat and user, so a double tap cannot race itself.
    dp = Dispatcher(storage=storage, events_isolation=SimpleEventIsolation(), ctx=ctx)
    dp.update.outer_middleware(IdempotencyMiddleware(ctx))
    identity = IdentityMiddleware(ctx)
    dp.message.outer_middleware(identity)
    dp.callback_query.outer_middleware(identity)
    LocaleMiddleware(i18n).setup(dp)
    dp.include_router(build_router())
    return dp


def build_bot(settings: Settings, app: App) -> tuple[Bot, Dispatcher]:
    """The bot, its dispatcher, and the Telegram outbox channel registered in `app`."""
    bot = create_bot(settings)
    dp = build_dispatcher(app, settings)
    ctx: BotContext = dp["ctx"]
    app.channels[CHANNEL] = TelegramChannel(
        bot,
        ctx.i18n,
        ctx.tz,
        partial(migrate_chat, app.sessions, CHANNEL),
        console_url=settings.public_url,
    )
    return bot, dp


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


async def setup_webhook(bot: Bot, dp: Dispatcher, settings: Settings) -> None:
    """Tells Telegram where to post updates, with the secret it must send back."""
    if not settings.public_url or settings.webhook_secret is None:
        raise ValueError("webhook mode needs GRIDGOV_PUBLIC_URL and GRIDGOV_WEBHOOK_SECRET")
    await bot.set_webhook(
        settings.public_url.rstrip("/") + WEBHOOK_PATH,
        secret_token=settings.webhook_secret.get_secret_value(),
        allowed_updates=dp.resolve_used_update_types(),
    )
