import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.dispatch.world import World, build_world


@pytest.fixture
async def world(engine: AsyncEngine) -> World:
    return await build_world(engine)
