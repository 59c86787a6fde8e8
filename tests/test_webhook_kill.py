"""kill -9 under Telegram webhook load: a real `gridgov serve` in webhook mode receives
registrations from many users at once, is killed with SIGKILL mid-load and started again.
Every update it answered 200 is handled (none lost), the ones it did not answer are resent
as Telegram would, and each person is registered once with one welcome (no effect twice).
An update that was being handled at the very moment of the kill is handled again after the
restart (at least once): its person may read a second answer ("invite used"), never a second
registration; no update finished before the kill runs again."""

import asyncio
import os
import signal
import sys
import time
from collections import Counter
from pathlib import Path

import aiohttp
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.telegram.runtime import WEBHOOK_PATH
from dispatch.registration import create_invite
from models import ChatIdentity, InboundUpdate, Person, utcnow
from models.db import create_session_factory
from models.enums import Role
from tests.bot.emulator import Emulator
from tests.test_server import free_port, wait_for_line

SECRET = "kill-test-secret"
USERS = 240
CLIENTS = 8
KILL_AFTER = USERS // 2  # answered updates
FIRST_USER = 500_000


def update(n: int, code: str) -> dict[str, object]:
    user = FIRST_USER + n
    text = f"/start {code}"
    return {
        "update_id": 10_000 + n,
        "message": {
            "message_id": n + 1,
            "date": int(time.time()),
            "chat": {"id": user, "type": "private", "first_name": f"u{n}"},
            "from": {"id": user, "is_bot": False, "first_name": f"u{n}", "language_code": "zh"},
            "text": text,
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    }


async def start_server(tmp_path: Path, env: dict[str, str]) -> asyncio.subprocess.Process:
    server = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "gridgov.cli",
        "serve",
        "--workers",
        "1",  # one process, so that SIGKILL takes the whole server down as a crash would
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    assert server.stdout is not None
    await wait_for_line(server.stdout, "Press Ctrl+C", 120)
    return server


async def post_all(
    http: aiohttp.ClientSession,
    url: str,
    updates: list[tuple[int, dict[str, object]]],
    answered: dict[int, int],
) -> None:
    """Posts the numbered updates from CLIENTS concurrent clients, noting the answer status
    of each update that got one (the others were cut off by the kill)."""
    queue = list(updates)

    async def client() -> None:
        while queue:
            n, body = queue.pop(0)
            try:
                headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
                async with http.post(url, json=body, headers=headers) as r:
                    answered[n] = r.status
            except (TimeoutError, aiohttp.ClientError):
                return

    await asyncio.gather(*(client() for _ in range(CLIENTS)))


async def test_kill_9_under_webhook_load_loses_and_duplicates_nothing(
    engine: AsyncEngine, pg_url: str, tmp_path: Path
) -> None:
    sessions = create_session_factory(engine)
    async with sessions() as session, session.begin():
        codes = []
        for n in range(USERS):
            person = Person(name=f"网格员{n}", role=Role.GRID_WORKER)
            session.add(person)
            codes.append((await create_invite(session, utcnow(), person=person)).code)
    updates = [update(n, code) for n, code in enumerate(codes)]

    emu = Emulator()
    await emu.start()
    port = free_port()
    env = {
        **os.environ,
        "GRIDGOV_DATABASE_URL": pg_url,
        "GRIDGOV_HTTP_PORT": str(port),
        "GRIDGOV_TELEGRAM_TOKEN": emu.token,
        "GRIDGOV_TELEGRAM_API_BASE": emu.base,
        "GRIDGOV_TELEGRAM_MODE": "webhook",
        "GRIDGOV_WEBHOOK_SECRET": SECRET,
        "GRIDGOV_PUBLIC_URL": "https://gridgov.example.org",
    }
    url = f"http://127.0.0.1:{port}{WEBHOOK_PATH}"
    server = await start_server(tmp_path, env)
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=20)) as http:
            first: dict[int, int] = {}
            load = asyncio.create_task(post_all(http, url, list(enumerate(updates)), first))
            while not load.done():  # kill -9 in mid-load
                if len(first) >= KILL_AFTER:
                    break
                await asyncio.sleep(0.005)
            server.send_signal(signal.SIGKILL)
            await server.wait()
            handled_at_kill = len(emu.sent("sendMessage"))
            await load
            async with sessions() as session:
                unfinished = (
                    await session.execute(
                        select(InboundUpdate.key, InboundUpdate.attempts).where(
                            InboundUpdate.done_at.is_(None)
                        )
                    )
                ).all()
            in_flight = {int(key) - 10_000 for key, attempts in unfinished if attempts}
            assert handled_at_kill < len(first), "nothing answered was left to handle"
            assert set(first.values()) <= {200}

            server = await start_server(tmp_path, env)  # finishes what was persisted
            unanswered = [(n, u) for n, u in enumerate(updates) if n not in first]
            second: dict[int, int] = {}
            await post_all(http, url, unanswered, second)  # Telegram resends these
            assert len(second) == len(unanswered) and set(second.values()) <= {200}

            for _ in range(600):
                async with sessions() as session:
                    pending = await session.scalar(
                        select(func.count())
                        .select_from(InboundUpdate)
                        .where(InboundUpdate.done_at.is_(None))
                    )
                if pending == 0 and len(emu.sent("sendMessage")) >= USERS:
                    break
                await asyncio.sleep(0.1)
    finally:
        if server.returncode is None:
            server.send_signal(signal.SIGINT)
            await asyncio.wait_for(server.wait(), 60)
        await emu.close()

    async with sessions() as session:
        registered = set(await session.scalars(select(ChatIdentity.external_id)))
        rows = await session.scalar(select(func.count()).select_from(InboundUpdate))
    # none lost: each update answered 200 in the first run has had its effect
    lost = [n for n in first if str(FIRST_USER + n) not in registered]
    assert lost == []
    assert len(registered) == USERS and rows == USERS
    # no effect twice: each person registered once and welcomed; an answer repeated only
    # where the kill cut a handler short
    welcomed = {
        int(c.params["chat_id"]) for c in emu.sent("sendMessage") if "注册成功" in c.params["text"]
    }
    assert len(welcomed) == USERS
    answers = Counter(int(c.params["chat_id"]) for c in emu.sent("sendMessage"))
    repeated = {chat - FIRST_USER for chat, n in answers.items() if n > 1}
    assert repeated <= in_flight
    print(
        f"\nkill -9 with {len(first)} updates answered, {handled_at_kill} handled: 0 lost, "
        f"{len(in_flight)} in flight handled again, {len(repeated)} answered twice, "
        f"{len(unanswered)} resent"
    )
