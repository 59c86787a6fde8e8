"""`gridgov serve --workers N`: N app processes on one port, all stopped by one SIGTERM."""

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from gridgov.cli import main
from tests.test_server import free_port, wait_for_line


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def test_two_workers_share_the_port_and_stop_together(
    engine: AsyncEngine, pg_url: str
) -> None:
    port = free_port()
    env = {**os.environ, "GRIDGOV_DATABASE_URL": pg_url, "GRIDGOV_HTTP_PORT": str(port)}
    env.pop("GRIDGOV_TELEGRAM_TOKEN", None)
    server = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "gridgov.cli",
        "serve",
        "--workers",
        "2",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        banner = await wait_for_line(server.stdout, "Press Ctrl+C", 120)
        assert "workers: 2" in banner
        pids: set[int] = set()
        # A new connection each time: the kernel spreads connections over the workers.
        connector = aiohttp.TCPConnector(force_close=True)
        deadline = time.monotonic() + 60  # the second worker may still be starting
        async with aiohttp.ClientSession(connector=connector) as http:
            while len(pids) < 2 and time.monotonic() < deadline:
                async with http.get(f"http://127.0.0.1:{port}/healthz") as r:
                    if r.status == 200:
                        pids.add((await r.json())["pid"])
                await asyncio.sleep(0.05)
        assert len(pids) == 2, f"only worker(s) {pids} answered"
        assert server.pid not in pids
        assert all(alive(pid) for pid in pids)

        server.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(server.wait(), 30) == 0
        for _ in range(50):
            if not any(alive(pid) for pid in pids):
                break
            await asyncio.sleep(0.1)
        assert not any(alive(pid) for pid in pids), "a worker outlived the server"
    finally:
        if server.returncode is None:
            server.kill()
            await server.wait()


def test_several_workers_need_postgresql(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("GRIDGOV_DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)  # the embedded default lands in the working directory
    assert main(["serve", "--workers", "2"]) == 1
    assert "several workers need PostgreSQL" in capsys.readouterr().out
