"""`gridgov demo` as a newcomer runs it: the sample county on SQLite, the HTTP server, the
scheduler and the Telegram bot (polling a local Bot API emulator), stopped with Ctrl+C."""

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path

import aiohttp

from tests.bot.emulator import Emulator


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def wait_for_line(stream: asyncio.StreamReader, text: str, seconds: float) -> str:
    async def read() -> str:
        seen = ""
        while text not in seen:
            line = await stream.readline()
            if not line:
                raise AssertionError(f"the server ended before printing {text!r}:\n{seen}")
            seen += line.decode()
        return seen

    return await asyncio.wait_for(read(), seconds)


async def test_demo_serves_the_sample_county_and_runs_the_bot(tmp_path: Path) -> None:
    emu = Emulator()
    await emu.start()
    port = free_port()
    env = {
        **os.environ,
        "GRIDGOV_HTTP_PORT": str(port),
        "GRIDGOV_TELEGRAM_TOKEN": emu.token,
        "GRIDGOV_TELEGRAM_API_BASE": emu.base,
    }
    env.pop("GRIDGOV_DATABASE_URL", None)  # the embedded default, in the working directory
    server = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "gridgov.cli",
        "demo",
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        banner = await wait_for_line(server.stdout, "Press Ctrl+C", 120)
        assert "grids: 300 in layer 1" in banner and "telegram bot: on (polling)" in banner
        assert (tmp_path / "gridgov.db").exists()
        base = f"http://127.0.0.1:{port}"
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{base}/healthz") as r:
                assert r.status == 200 and (await r.json())["grids"] == 300
            async with http.get(f"{base}/open311/v2/services.json") as r:
                assert any(s["service_code"] == "0102" for s in await r.json())
            async with http.get(f"{base}/console/", allow_redirects=False) as r:
                assert r.status in (302, 303) and "/console/login" in r.headers["Location"]

        emu.push_update(
            {
                "message": {
                    "message_id": 1,
                    "date": 0,
                    "chat": {"id": 4242, "type": "private"},
                    "from": {"id": 4242, "is_bot": False, "first_name": "路人"},
                    "text": "/start",
                }
            }
        )
        for _ in range(100):
            if emu.sent("sendMessage", chat_id=4242):
                break
            await asyncio.sleep(0.1)
        assert emu.sent("sendMessage", chat_id=4242), "the bot did not answer an unknown user"
    finally:
        server.send_signal(signal.SIGINT)
        assert await asyncio.wait_for(server.wait(), 30) == 0
        await emu.close()
