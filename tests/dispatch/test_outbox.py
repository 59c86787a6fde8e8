"""Outbox delivery: retries with backoff, the channel's retry-after, dead letters,
undeliverable recipients, dedupe, and two workers that never send a message twice."""

import asyncio
from datetime import datetime, timedelta

from sqlalchemy import select

from dispatch import notifications as notify
from dispatch.channels import Delivered, OutgoingMessage, RetryAfter, Undeliverable
from dispatch.delivery import OutboxWorker, RateLimiter
from models import OutboxMessage
from models.db import create_session_factory
from models.enums import OutboxStatus, RecipientKind

T0 = datetime(2026, 11, 23, 1, 0).astimezone()


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


class FlakyChannel:
    """Fails the first `failures` sends with `error`, then delivers."""

    name = "test"

    def __init__(self, failures: int = 0, error: Exception | None = None) -> None:
        self.failures = failures
        self.error = error or ConnectionError("network down")
        self.sent: list[OutgoingMessage] = []

    async def send(self, message: OutgoingMessage) -> Delivered:
        await asyncio.sleep(0.01)
        if self.failures > 0:
            self.failures -= 1
            raise self.error
        self.sent.append(message)
        return Delivered(message_id=str(1000 + len(self.sent)))


async def enqueue(sessions, count: int = 1, address: str = "42", base: str = "e") -> None:
    async with sessions() as s, s.begin():
        for i in range(count):
            target = notify.Target(RecipientKind.PERSON, 1, "test", address)
            notifier = notify.Notifier(s)
            notifier.queue([target], "case.verify", f"{base}{i}", {"n": i}, now=T0)
            await notifier.flush()


async def rows(sessions) -> list[OutboxMessage]:
    async with sessions() as s:
        return list((await s.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all())


def worker(sessions, channel, clock, **kw) -> OutboxWorker:
    limiter = RateLimiter(
        global_per_second=10_000, group_per_minute=10_000, private_per_second=10_000
    )
    name = kw.pop("channel_name", "test")
    return OutboxWorker(
        sessions, {name: channel}, clock=clock, rate_limiter=kw.pop("rate_limiter", limiter), **kw
    )


async def test_retries_back_off_then_deliver(engine) -> None:
    sessions, clock = create_session_factory(engine), Clock()
    await enqueue(sessions)
    channel = FlakyChannel(failures=2)
    w = worker(sessions, channel, clock, base_backoff=10)
    assert (await w.run_once()).retried == 1
    [m] = await rows(sessions)
    assert m.attempts == 1 and m.next_attempt_at == T0 + timedelta(seconds=10)
    assert (await w.run_once()).sent == 0  # not due yet
    clock.now += timedelta(seconds=10)
    await w.run_once()
    [m] = await rows(sessions)
    assert m.next_attempt_at == clock.now + timedelta(seconds=20)  # doubled
    clock.now += timedelta(seconds=20)
    assert (await w.run_once()).sent == 1
    [m] = await rows(sessions)
    assert (m.status, m.external_message_id, len(channel.sent)) == (OutboxStatus.SENT, "1001", 1)


async def test_dead_letter_after_the_allowed_attempts(engine) -> None:
    sessions, clock = create_session_factory(engine), Clock()
    await enqueue(sessions)
    w = worker(sessions, FlakyChannel(failures=99), clock, max_attempts=3, base_backoff=1)
    for _ in range(5):
        await w.run_once()
        clock.now += timedelta(hours=1)
    [m] = await rows(sessions)
    assert (m.status, m.attempts) == (OutboxStatus.DEAD, 3)
    assert "network down" in m.last_error


async def test_retry_after_is_honoured_and_not_counted(engine) -> None:
    sessions, clock = create_session_factory(engine), Clock()
    await enqueue(sessions, count=2)
    channel = FlakyChannel(failures=1, error=RetryAfter(37))
    w = worker(sessions, channel, clock)
    report = await w.run_once()
    assert (report.retried, report.deferred) == (1, 1)  # the second waits behind the first
    first, _ = await rows(sessions)
    assert first.attempts == 0 and first.next_attempt_at == T0 + timedelta(seconds=37)
    clock.now += timedelta(seconds=37)
    assert (await w.run_once()).sent == 2
    assert [m.payload["n"] for m in channel.sent] == [0, 1]


async def test_undeliverable_is_not_retried(engine) -> None:
    sessions, clock = create_session_factory(engine), Clock()
    await enqueue(sessions)
    w = worker(sessions, FlakyChannel(failures=1, error=Undeliverable("bot was blocked")), clock)
    assert (await w.run_once()).undeliverable == 1
    clock.now += timedelta(days=1)
    assert (await w.run_once()).sent == 0
    [m] = await rows(sessions)
    assert m.status is OutboxStatus.UNDELIVERABLE and m.last_error == "bot was blocked"


async def test_the_same_event_is_queued_once(engine) -> None:
    sessions = create_session_factory(engine)
    await enqueue(sessions, count=3)
    await enqueue(sessions, count=3)
    assert len(await rows(sessions)) == 3


async def test_two_workers_never_send_a_message_twice(engine) -> None:
    sessions, clock = create_session_factory(engine), Clock()
    for chat in range(20):
        await enqueue(sessions, count=5, address=str(chat), base=f"c{chat}-")
    channel = FlakyChannel()
    workers = [worker(sessions, channel, clock, worker_id=str(i)) for i in range(2)]
    for _ in range(3):
        await asyncio.gather(*(w.run_once(batch=30) for w in workers))
    ids = [m.id for m in channel.sent]
    assert len(ids) == len(set(ids)) == 100
    assert all(m.status is OutboxStatus.SENT for m in await rows(sessions))


async def test_group_chat_rate_limit_defers_instead_of_flooding(engine) -> None:
    sessions, clock = create_session_factory(engine), Clock()
    await enqueue(sessions, count=25, address="-100123")
    channel = FlakyChannel()
    w = worker(sessions, channel, clock, rate_limiter=RateLimiter())
    report = await w.run_once()
    assert report.sent == 20  # a claim takes no more of one chat than a group takes a minute
    assert all(m.status is OutboxStatus.PENDING for m in (await rows(sessions))[20:])
    report = await w.run_once()
    assert (report.sent, report.deferred) == (0, 5)
