"""The durable inbound queue on both databases: a key is accepted once, an update is handled
once and marked done, a failing handler is recorded, and unfinished updates are resumed."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.inbound import InboundQueue
from models import InboundUpdate
from models.db import create_session_factory


async def test_accept_handle_and_resume(any_engine: AsyncEngine) -> None:
    sessions = create_session_factory(any_engine)
    handled: list[str] = []

    async def handler(body: str) -> None:
        if body == "bad":
            raise RuntimeError("cannot handle this")
        handled.append(body)

    queue = InboundQueue(sessions, "wecom", handler)
    first = await queue.accept("msg:1", "hello")
    assert first is not None
    assert await queue.accept("msg:1", "hello again") is None  # a resend
    bad = await queue.accept("msg:2", "bad")
    later = await queue.accept("msg:3", "later")
    await queue.handle(first, "hello")
    queue.handle_in_background(bad, "bad")  # type: ignore[arg-type]
    await queue.drain()
    assert handled == ["hello"]

    # a crash before "later" was handled: the next start handles it, and only it
    restarted = InboundQueue(sessions, "wecom", handler)
    assert await restarted.resume() == 1
    assert await restarted.resume() == 0
    assert handled == ["hello", "later"]
    async with sessions() as session:
        rows = {r.key: r for r in (await session.scalars(select(InboundUpdate))).all()}
    assert all(r.done_at is not None for r in rows.values())
    assert "cannot handle this" in (rows["msg:2"].last_error or "")
    assert rows["msg:3"].id == later and rows["msg:3"].attempts == 2  # begun twice
