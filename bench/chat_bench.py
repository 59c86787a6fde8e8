"""Chat callbacks (issue 8): WeCom callbacks next to Telegram webhook updates, over real HTTP
against the running aiohttp app, on a database of its own. Each request is a text step of a
registered member; the app checks the signature (or secret), decrypts and parses it, persists
it and answers; the handling (who is writing, the answer through the platform's API) follows
in the background. The platforms' APIs are the test suite's local fakes over HTTP."""

import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from tempfile import TemporaryDirectory

import aiohttp
import numpy as np
from aiohttp import web

from bench.cases_fixture import bench_database
from bench.report import Row, Section, markdown_table, progress
from bot.telegram.runtime import WEBHOOK_PATH
from bot.telegram.webhook import add_webhook_route
from bot.wecom.callback import CALLBACK_PATH
from dispatch.casework import Casework
from dispatch.geography import GridDirectory
from gridgov.app import App, casework_settings
from gridgov.settings import Settings
from models import ChatIdentity, Person
from models.db import create_engine, create_session_factory
from models.enums import Role
from tests.bot.emulator import Emulator
from tests.wecom.fake_server import (
    AES_KEY,
    AGENT_ID,
    CORP_ID,
    SECRET,
    TOKEN,
    CallbackClient,
    FakeWecom,
)

RATE_TARGET = 500.0  # answered per second
P99_TARGET_MS = 50.0
WEBHOOK_SECRET = "bench-secret"


@dataclass
class ChatOptions:
    requests: int = 3000  # per channel
    clients: int = 16
    members: int = 200


@dataclass
class Measured:
    answered_per_s: float
    p50_ms: float
    p99_ms: float
    handled_per_s: float
    cpu_ms: float  # this process's CPU time per request, answered and handled


async def run(options: ChatOptions, command: str) -> Section:
    section = Section("chat", "Chat callbacks: WeCom next to Telegram (issue 8)", command)
    async with bench_database("chat") as url:
        results = await _measure(url, options)
    wecom, telegram = results["WeCom callback"], results["Telegram webhook"]
    section.rows += [
        Row(
            "WeCom callbacks answered (decrypt, parse, persist)",
            f"{wecom.answered_per_s:,.0f}/s, p99 {wecom.p99_ms:.1f} ms",
            f"≥ {RATE_TARGET:.0f}/s, p99 ≤ {P99_TARGET_MS:.0f} ms",
            wecom.answered_per_s >= RATE_TARGET and wecom.p99_ms <= P99_TARGET_MS,
        ),
        Row(
            "Telegram webhook updates answered (peer)",
            f"{telegram.answered_per_s:,.0f}/s, p99 {telegram.p99_ms:.1f} ms",
        ),
    ]
    section.add(
        f"{options.requests:,} requests per channel from {options.clients} concurrent "
        f"clients, each a text step of one of {options.members} registered members; the app "
        "(`aiohttp` on the loopback interface), the clients and the platforms' fake APIs share "
        "one process and event loop, so their time is counted too. *Answered*: the HTTP "
        "answer (WeCom: signature, AES-256-CBC decryption, XML parsing, the row in "
        "`inbound_updates`; Telegram: secret, JSON parsing and validation, the row). "
        "*Handled*: all requests of the run answered and handled (the member looked up, the "
        "answer sent through the fake API, the row marked done), eight at a time. *CPU per "
        "request*: this process's CPU time (app, clients and fakes together) over the run, "
        "per request: on a machine shared with other work it tells the cost apart from the "
        "waiting.",
        markdown_table(
            ["channel", "answered/s", "p50", "p99", "handled/s", "CPU per request"],
            [
                [
                    name,
                    f"{m.answered_per_s:,.0f}",
                    f"{m.p50_ms:.1f} ms",
                    f"{m.p99_ms:.1f} ms",
                    f"{m.handled_per_s:,.0f}",
                    f"{m.cpu_ms:.1f} ms",
                ]
                for name, m in results.items()
            ],
        ),
    )
    return section


async def _members(url: str, count: int) -> None:
    engine = create_engine(url)
    try:
        async with create_session_factory(engine)() as session, session.begin():
            for n in range(count):
                person = Person(name=f"网格员{n}", role=Role.GRID_WORKER)
                session.add(person)
                await session.flush()
                session.add(ChatIdentity(person_id=person.id, channel="wecom", external_id=f"m{n}"))
                session.add(
                    ChatIdentity(person_id=person.id, channel="telegram", external_id=str(7000 + n))
                )
    finally:
        await engine.dispose()


async def _measure(url: str, options: ChatOptions) -> dict[str, Measured]:
    await _members(url, options.members)
    fake, emu = FakeWecom(), Emulator()
    await fake.start()
    await emu.start()
    engine = create_engine(url)
    sessions = create_session_factory(engine)
    try:
        with TemporaryDirectory() as media:
            settings = Settings(
                database_url=url,
                media_dir=Path(media),
                telegram_token=emu.token,
                telegram_api_base=emu.base,
                webhook_secret=WEBHOOK_SECRET,
                telegram_mode="webhook",
                public_url="http://bench.local",
                wecom_corp_id=CORP_ID,
                wecom_agent_id=AGENT_ID,
                wecom_secret=SECRET,
                wecom_token=TOKEN,
                wecom_aes_key=AES_KEY,
                wecom_api_base=fake.base,
            )
            casework = Casework(sessions, GridDirectory(30.0), casework_settings(settings))
            await casework.refresh()
            app = App(settings, engine, sessions, casework, {})
            await app.start_conversation()
            webapp = web.Application()
            wecom = app.wecom(webapp)
            bot, dp = app.telegram_bot()
            webhook = add_webhook_route(webapp, bot, dp, sessions, WEBHOOK_SECRET)
            runner = web.AppRunner(webapp, access_log=None)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            port = runner.addresses[0][1]
            base = f"http://127.0.0.1:{port}"
            connector = aiohttp.TCPConnector(limit=options.clients)
            async with aiohttp.ClientSession(connector=connector) as http:
                client = CallbackClient(http, base + CALLBACK_PATH)
                progress("chat: WeCom callbacks")
                wecom_posts = _wecom_posts(client, options)
                results = {
                    "WeCom callback": await _load(wecom_posts, options, wecom.queue.drain),
                }
                progress("chat: Telegram webhook")
                telegram_posts = _telegram_posts(http, base, options)
                results["Telegram webhook"] = await _load(
                    telegram_posts, options, webhook.queue.drain
                )
            await runner.cleanup()
            await wecom.close()
            await bot.session.close()
    finally:
        await engine.dispose()
        await fake.close()
        await emu.close()
    return results


Post = Callable[[], Awaitable[int]]


def _wecom_posts(client: CallbackClient, options: ChatOptions) -> list[Post]:
    """Encrypted before the clock starts, as WeCom's servers would have them ready."""
    posts = []
    for n in range(options.requests):
        body, query = client.encrypt(client.text(f"m{n % options.members}", f"第{n}条"))
        posts.append(lambda b=body, q=query: client.post_raw(b, q))
    return posts


def _telegram_posts(http: aiohttp.ClientSession, base: str, options: ChatOptions) -> list[Post]:
    ids = itertools.count(1)
    headers = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}

    async def post(update: dict[str, object]) -> int:
        async with http.post(base + WEBHOOK_PATH, json=update, headers=headers) as r:
            return r.status

    posts = []
    for n in range(options.requests):
        user = 7000 + n % options.members
        update = {
            "update_id": next(ids),
            "message": {
                "message_id": n + 1,
                "date": int(time.time()),
                "chat": {"id": user, "type": "private", "first_name": "m"},
                "from": {"id": user, "is_bot": False, "first_name": "m"},
                "text": "/start",
                "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
            },
        }
        posts.append(lambda u=update: post(u))
    return posts


async def _load(
    posts: list[Post], options: ChatOptions, drain: Callable[[], Awaitable[None]]
) -> Measured:
    latencies: list[float] = []
    pending = list(reversed(posts))

    async def client() -> None:
        while pending:
            post = pending.pop()
            started = time.perf_counter()
            status = await post()
            latencies.append(time.perf_counter() - started)
            assert status == 200, status

    cpu = time.process_time()
    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(options.clients)))
    answered = time.perf_counter() - started
    await drain()
    handled = time.perf_counter() - started
    cpu = time.process_time() - cpu
    ms = np.asarray(latencies) * 1e3
    return Measured(
        len(posts) / answered,
        float(np.percentile(ms, 50)),
        float(np.percentile(ms, 99)),
        len(posts) / handled,
        cpu / len(posts) * 1e3,
    )
