"""The Telegram webhook persists an update before it answers: malformed bodies are refused
with 400, an update persisted but not finished (the process died) is handled at start-up,
and one whose handler had begun is handled again rather than dropped."""

import json
from datetime import UTC, datetime

from sqlalchemy import func, select

from bot.telegram.webhook import TelegramWebhook
from models import ChatIdentity, InboundUpdate
from tests.bot.harness import SECRET, USER_IDS, Harness

WORKER = USER_IDS["worker"]


async def post_raw(h: Harness, body: bytes, secret: str = SECRET) -> int:
    async with h.http.post(
        f"http://127.0.0.1:{h.server.port}/telegram/webhook",
        data=body,
        headers={"X-Telegram-Bot-Api-Secret-Token": secret, "Content-Type": "application/json"},
    ) as response:
        return response.status


async def test_malformed_updates_are_refused_with_400(h: Harness) -> None:
    for body in (b"{not json", b"[]", b'{"update_id": "x"}', b"\xff\xfe", b""):
        assert await post_raw(h, body) == 400, body
    assert await post_raw(h, b"{not json", secret="wrong") == 401
    async with h.app.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(InboundUpdate)) == 0
    assert h.emu.calls == []


async def test_an_answered_update_is_persisted_and_marked_done(h: Harness) -> None:
    update = h.message("worker", text=f"/start {await h.invite('worker')}")
    assert await h.post(update) == 200
    async with h.app.sessions() as session:
        (row,) = (await session.scalars(select(InboundUpdate))).all()
    assert (row.channel, row.key, row.attempts) == ("telegram", str(update["update_id"]), 1)
    assert row.done_at is not None and row.last_error is None


async def persist(h: Harness, update: dict, attempts: int) -> None:
    """What a process that died left behind: the update accepted and answered, not done."""
    async with h.app.sessions() as session, session.begin():
        session.add(
            InboundUpdate(
                channel="telegram",
                key=str(update["update_id"]),
                body=json.dumps(update),
                received_at=datetime.now(UTC),
                attempts=attempts,
            )
        )


async def test_unfinished_updates_are_handled_at_start_up(h: Harness) -> None:
    never_begun = h.message("worker", text=f"/start {await h.invite('worker')}")
    cut_short = h.message("worker2", text=f"/start {await h.invite('worker2')}")
    await persist(h, never_begun, attempts=0)
    await persist(h, cut_short, attempts=1)
    restarted = TelegramWebhook(h.bot, h.dp, h.app.sessions, SECRET)
    assert await restarted.queue.resume() == 2
    assert "注册成功" in h.emu.texts(WORKER)[-1]
    assert "注册成功" in h.emu.texts(USER_IDS["worker2"])[-1]
    async with h.app.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(ChatIdentity)) == 2
        done = await session.scalars(select(InboundUpdate.done_at))
        assert all(done)
    # Telegram resending one of them changes nothing
    assert await h.post(never_begun) == 200
    assert len(h.emu.texts(WORKER)) == 1
    assert await restarted.queue.resume() == 0
