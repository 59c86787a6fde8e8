"""`gridgov demo` and `gridgov serve`: the HTTP server, the scheduler and the bot, together.

`gridgov serve --workers N` runs N full app processes on one port: the parent binds one
SO_REUSEPORT socket per worker (the kernel spreads the connections over them), forks the
workers (each with its own engine, scheduler and bot) and stops them all on SIGTERM or
SIGINT. The periodic jobs are safe side by side on PostgreSQL (the sweep and the outbox claim
their rows with SKIP LOCKED); the Telegram bot polls, or sets its webhook, from the first
worker only, while every worker answers webhook updates and delivers messages."""

import asyncio
import contextlib
import logging
import multiprocessing
import os
import signal
import socket
from dataclasses import dataclass
from multiprocessing.connection import wait
from types import FrameType

from aiogram import Bot, Dispatcher
from aiohttp import web

from bot.telegram.runtime import set_commands, setup_webhook, start_polling
from bot.telegram.webhook import TelegramWebhook, add_webhook_route
from bot.wecom.runtime import WecomRuntime
from gridgov.app import App
from gridgov.sample.load import DEMO_PASSWORD, load_sample
from gridgov.settings import Settings
from models.migrate import upgrade
from web.app import create_web_app

log = logging.getLogger("gridgov")


class ConfigurationError(Exception):
    """A setting the chosen mode needs is missing."""


@dataclass(frozen=True)
class Worker:
    """Where one app process listens: the configured port, or a socket the parent bound, as
    worker `index` of `count`. Only worker 0 polls Telegram or sets the webhook, and prints."""

    sock: socket.socket | None = None
    index: int = 0
    count: int = 1


def default_workers(settings: Settings) -> int:
    """One worker per CPU on PostgreSQL; one on SQLite, which has no SKIP LOCKED."""
    if settings.database_url.startswith("sqlite"):
        return 1
    return len(os.sched_getaffinity(0))


def _bot(
    settings: Settings, app: App, webapp: web.Application
) -> tuple[Bot, Dispatcher, TelegramWebhook | None] | None:
    """The Telegram bot when a token is configured; in webhook mode its route is added."""
    if settings.telegram_token is None:
        return None
    bot, dp = app.telegram_bot()
    webhook = None
    if settings.telegram_mode == "webhook":
        if settings.webhook_secret is None or not settings.public_url:
            raise ConfigurationError(
                "webhook mode needs GRIDGOV_WEBHOOK_SECRET and GRIDGOV_PUBLIC_URL"
            )
        webhook = add_webhook_route(
            webapp, bot, dp, app.sessions, settings.webhook_secret.get_secret_value()
        )
    return bot, dp, webhook


def _wecom(settings: Settings, app: App, webapp: web.Application) -> WecomRuntime | None:
    """The WeCom channel when its settings are given (all of them, or none)."""
    if missing := settings.wecom_problems():
        raise ConfigurationError("WeCom needs " + ", ".join(missing))
    return app.wecom(webapp) if settings.wecom_enabled else None


async def serve(settings: Settings, demo: bool, worker: Worker = Worker()) -> None:
    app = App.build(settings)
    app.demo = demo
    await app.casework.refresh()
    await app.start_conversation()
    if demo and await load_sample(app):
        log.info("sample county loaded")
    webapp = create_web_app(app.web_context())
    telegram = _bot(settings, app, webapp)
    wecom = _wecom(settings, app, webapp)
    runner = web.AppRunner(webapp)
    await runner.setup()
    site: web.BaseSite = (
        web.TCPSite(runner, settings.http_host, settings.http_port)
        if worker.sock is None
        else web.SockSite(runner, worker.sock)
    )
    await site.start()
    app.start_scheduler()
    if wecom and worker.index == 0:  # one process finishes what a stop left unfinished
        await wecom.queue.resume()
    polling = None
    if telegram and worker.index == 0:
        bot, dp, webhook = telegram
        await set_commands(bot)
        if webhook:
            await webhook.queue.resume()
            await setup_webhook(bot, dp, settings)
        else:
            polling = start_polling(bot, dp)
    if worker.index == 0:
        _banner(settings, app, demo, telegram is not None, worker.count, wecom is not None)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
        if wecom:
            await wecom.close()
        if telegram:
            bot, dp, webhook = telegram
            if polling:
                await dp.stop_polling()
                with contextlib.suppress(asyncio.CancelledError):
                    await polling
            if webhook:
                await webhook.queue.drain()
            await bot.session.close()
        await app.close()


def _banner(
    settings: Settings, app: App, demo: bool, telegram: bool, workers: int, wecom: bool
) -> None:
    base = f"http://{settings.http_host}:{settings.http_port}"
    print(f"gridgov is running: {base}/console/  (health: {base}/healthz)", flush=True)
    print(f"  Open311: {base}/open311/v2/discovery.json")
    print(f"  grids: {len(app.casework.directory.info)} in layer {app.casework.directory.layer_id}")
    mode = f"on ({settings.telegram_mode})" if telegram else "off (set GRIDGOV_TELEGRAM_TOKEN)"
    print(f"  telegram bot: {mode}")
    print(f"  wecom: {'on (/wecom/callback)' if wecom else 'off (set GRIDGOV_WECOM_*)'}")
    print(f"  workers: {workers}")
    if demo:
        print(
            "  console logins: admin, wangqiang (dispatcher), zhaomin (supervisor), "
            f"lina (office) ... password: {DEMO_PASSWORD}"
        )
    print("Press Ctrl+C to stop.", flush=True)


def _serve_forever(settings: Settings, demo: bool, worker: Worker = Worker()) -> int:
    try:
        asyncio.run(serve(settings, demo, worker))
    except ConfigurationError as exc:
        print(f"error: {exc}", flush=True)
        return 1
    return 0


def _worker_main(settings: Settings, sockets: list[socket.socket], index: int) -> None:
    # Forked with the parent's signal handlers; the worker's event loop sets its own.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for other in sockets[:index] + sockets[index + 1 :]:
        other.close()
    worker = Worker(sockets[index], index, len(sockets))
    raise SystemExit(_serve_forever(settings, False, worker))


def listening_sockets(host: str, port: int, count: int) -> list[socket.socket]:
    """`count` sockets on one port (the first one picks it when `port` is 0)."""
    sockets: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.create_server((host, port), backlog=1024, reuse_port=True)
            sockets.append(sock)
            port = sock.getsockname()[1]
    except OSError:
        for sock in sockets:
            sock.close()
        raise
    return sockets


def supervise(settings: Settings, workers: int) -> int:
    """Forks `workers` app processes onto the port and waits. SIGTERM or SIGINT stops them
    all; a worker that ends on its own takes the others down with it (a service manager
    restarts the whole server), and the exit status is 1 if any worker failed."""
    sockets = listening_sockets(settings.http_host, settings.http_port, workers)
    fork = multiprocessing.get_context("fork")
    processes = [
        fork.Process(target=_worker_main, args=(settings, sockets, i), name=f"gridgov-worker-{i}")
        for i in range(workers)
    ]

    def stop_all(_signum: int = 0, _frame: FrameType | None = None) -> None:
        for process in processes:
            if process.pid is not None and process.exitcode is None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(process.pid, signal.SIGTERM)

    previous = {sig: signal.signal(sig, stop_all) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        for process in processes:
            process.start()
        for sock in sockets:  # the workers hold them now
            sock.close()
        wait([p.sentinel for p in processes])
        stop_all()
        for process in processes:
            process.join()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    clean = (0, -signal.SIGTERM)
    return 0 if all(p.exitcode in clean for p in processes) else 1


def run(settings: Settings, demo: bool, workers: int = 1) -> int:
    upgrade(settings.database_url)
    if workers == 1:
        return _serve_forever(settings, demo)
    if settings.database_url.startswith("sqlite"):
        print("error: several workers need PostgreSQL (SQLite has no SKIP LOCKED)", flush=True)
        return 1
    return supervise(settings, workers)
