"""`gridgov demo` and `gridgov serve`: the HTTP server, the scheduler and the bot, together."""

import asyncio
import contextlib
import logging
import signal

from aiogram import Bot, Dispatcher
from aiohttp import web

from bot.runtime import build_bot, set_commands, setup_webhook, start_polling
from bot.webhook import add_webhook_route
from gridgov.app import App
from gridgov.sample.load import DEMO_PASSWORD, load_sample
from gridgov.settings import Settings
from models.migrate import upgrade
from web.app import create_web_app

log = logging.getLogger("gridgov")


class ConfigurationError(Exception):
    """A setting the chosen mode needs is missing."""


def _bot(settings: Settings, app: App, webapp: web.Application) -> tuple[Bot, Dispatcher] | None:
    """The Telegram bot when a token is configured; in webhook mode its route is added."""
    if settings.telegram_token is None:
        return None
    bot, dp = build_bot(settings, app)
    if settings.telegram_mode == "webhook":
        if settings.webhook_secret is None or not settings.public_url:
            raise ConfigurationError(
                "webhook mode needs GRIDGOV_WEBHOOK_SECRET and GRIDGOV_PUBLIC_URL"
            )
        add_webhook_route(webapp, bot, dp, settings.webhook_secret.get_secret_value())
    return bot, dp


async def serve(settings: Settings, demo: bool) -> None:
    app = App.build(settings)
    await app.casework.refresh()
    if demo and await load_sample(app):
        log.info("sample county loaded")
    webapp = create_web_app(app.web_context())
    telegram = _bot(settings, app, webapp)
    runner = web.AppRunner(webapp)
    await runner.setup()
    site = web.TCPSite(runner, settings.http_host, settings.http_port)
    await site.start()
    app.start_scheduler()
    polling = None
    if telegram:
        bot, dp = telegram
        await set_commands(bot)
        if settings.telegram_mode == "webhook":
            await setup_webhook(bot, dp, settings)
        else:
            polling = start_polling(bot, dp)
    base = f"http://{settings.http_host}:{settings.http_port}"
    print(f"gridgov is running: {base}/console/  (health: {base}/healthz)", flush=True)
    print(f"  Open311: {base}/open311/v2/discovery.json")
    print(f"  grids: {len(app.casework.directory.info)} in layer {app.casework.directory.layer_id}")
    mode = f"on ({settings.telegram_mode})" if telegram else "off (set GRIDGOV_TELEGRAM_TOKEN)"
    print(f"  telegram bot: {mode}")
    if demo:
        print(
            "  console logins: admin, wangqiang (dispatcher), zhaomin (supervisor), "
            f"lina (office) ... password: {DEMO_PASSWORD}"
        )
    print("Press Ctrl+C to stop.", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        if telegram:
            bot, dp = telegram
            if polling:
                await dp.stop_polling()
                with contextlib.suppress(asyncio.CancelledError):
                    await polling
            await bot.session.close()
        await runner.cleanup()
        await app.close()


def run(settings: Settings, demo: bool) -> int:
    upgrade(settings.database_url)
    try:
        asyncio.run(serve(settings, demo))
    except ConfigurationError as exc:
        print(f"error: {exc}")
        return 1
    return 0
