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
async def h(engine: AsyncEngine, emu: Emulator) -> AsyncIterator[Harness]:
    harness = await start_harness(await build_world(engine), emu)
    yield harness
    await stop_harness(harness)
