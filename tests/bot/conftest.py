import logging
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.bot.emulator import Emulator
from tests.bot.harness import Harness, start_harness, stop_harness
from tests.dispatch.world import build_world


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    emulator = Emulator()
    await emulator.start()
    yield emulator
    await emulator.close()


@pytest.fixture
async def h(
    engine: AsyncEngine, emu: Emulator, caplog: pytest.LogCaptureFixture
) -> AsyncIterator[Harness]:
    harness = await start_harness(await build_world(engine), emu)
    yield harness
    await stop_harness(harness)
    # The bot's error handler answers every failure politely: a test must still see them.
    failures = [
        r.getMessage()
        for r in caplog.records
        if r.name == "gridgov.bot" and r.levelno >= logging.ERROR
    ]
    assert not failures, failures
