"""The durable inbound queue on both databases: a key is accepted once, an update is handled
once and marked done, a failing handler is recorded, and unfinished updates are resumed."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.inbound import InboundQueue
from models import InboundUpdate
from models.db import create_session_factory


async def test_accept_handle_and_resume(any_engine: AsyncEngine) -> None:
    sessions = create_session_factory(any_engine)
    handled: list[tuple[str, bool]] = []

    async def handler(body: str, retry: bool) -> None:
        if body == "bad":
            raise RuntimeError("cannot handle this")
        handled.append((body, retry))

    queue = InboundQueue(sessions, "wecom", handler)
    first = await queue.accept("msg:1", "hello")
    assert first is not None
    assert await queue.accept("msg:1", "hello again") is None  # a resend
    bad = await queue.accept("msg:2", "bad")
    later = await queue.accept("msg:3", "later")
    await queue.process(first)
    await queue.process(first)  # done already: not handled twice
    queue.process_in_background(bad)  # type: ignore[arg-type]
    await queue.drain()
    assert handled == [("hello", False)]

    restarted = InboundQueue(sessions, "wecom", handler)
    assert await restarted.resume() == 1
    assert handled == [("hello", False), ("later", False)]
    async with sessions() as session:
        rows = {r.key: r for r in (await session.scalars(select(InboundUpdate))).all()}
    assert all(r.done_at is not None for r in rows.values())
    assert "cannot handle this" in (rows["msg:2"].last_error or "")
    assert rows["msg:3"].id == later and rows["msg:3"].attempts == 1
