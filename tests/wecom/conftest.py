import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.dispatch.world import build_world
from tests.wecom.fake_server import FakeWecom
from tests.wecom.harness import WecomHarness, start_harness, stop_harness


@pytest.fixture
async def fake() -> AsyncIterator[FakeWecom]:
    server = FakeWecom()
    await server.start()
    yield server
    await server.close()


@pytest.fixture
async def wx(
    engine: AsyncEngine, fake: FakeWecom, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> AsyncIterator[WecomHarness]:
    harness = await start_harness(await build_world(engine), fake, tmp_path / "media")
    yield harness
    await stop_harness(harness)
    failures = [
        r.getMessage()
        for r in caplog.records
        if r.name.startswith("gridgov.inbound") and r.levelno >= logging.ERROR
    ]
    assert not failures, failures
