"""The outbox under load (issue 10): one chat's backlog holds nobody else's messages back,
escalations go first, a card never goes back to an earlier state, a slow batch keeps its
lease, and a stopped worker gives back what it did not send."""

import asyncio
from datetime import timedelta

from sqlalchemy import select

from dispatch import notifications as notify
from dispatch.channels import Delivered, OutgoingMessage
from dispatch.core.lifecycle import Action
from dispatch.delivery import OutboxWorker, RateLimiter
from models import OutboxMessage
from models.db import create_session_factory
from models.enums import OutboxStatus, RecipientKind
from tests.dispatch.test_outbox import T0, Clock, FlakyChannel, rows, worker
from tests.dispatch.world import World


async def backlog(sessions, count: int, address: str, kind: str = "case.card") -> None:
    """`count` routine messages for one chat, written in one statement."""
    target = notify.Target(RecipientKind.PERSON, 1, "test", address)
    queued = [
        row
        for i in range(count)
        for row in notify.outbox_rows([target], kind, f"b{address}-{i}", {"n": i}, now=T0)
    ]
    async with sessions() as s, s.begin():
        await notify.insert_rows(s, queued)


async def test_a_backlog_for_one_chat_does_not_hold_back_an_escalation(any_engine) -> None:
    sessions, clock = create_session_factory(any_engine), Clock()
    await backlog(sessions, 10_000, address="42")
    await backlog(sessions, 1, address="77", kind="case.escalate")
    channel = FlakyChannel()
    # Telegram's real limits: the private chat "42" takes one message a second.
    w = OutboxWorker(sessions, {"test": channel}, clock=clock, rate_limiter=RateLimiter())
    report = await w.run_once()
    assert channel.sent[0].address == "77"  # the escalation went first
    assert [m.address for m in channel.sent] == ["77", "42"]
    assert report.deferred == w.per_chat - 1  # the rest of the backlog was never claimed


async def test_each_chat_gets_its_turn_in_order(any_engine) -> None:
    sessions, clock = create_session_factory(any_engine), Clock()
    await backlog(sessions, 300, address="42")
    await backlog(sessions, 3, address="77")
    channel = FlakyChannel()
    w = worker(sessions, channel, clock)
    await w.run_once(batch=100)
    to_77 = [m.payload["n"] for m in channel.sent if m.address == "77"]
    to_42 = [m.payload["n"] for m in channel.sent if m.address == "42"]
    assert to_77 == [0, 1, 2]
    assert to_42 == list(range(w.per_chat))  # oldest first, a few per round
    for _ in range(3):
        await w.run_once(batch=100)
    to_42 = [m.payload["n"] for m in channel.sent if m.address == "42"]
    assert to_42 == list(range(4 * w.per_chat))


class CardChannel(FlakyChannel):
    """Fails the first card, then delivers; remembers the case status each card showed."""

    def __init__(self) -> None:
        super().__init__(failures=1)

    def shown(self, address: str) -> list[str]:
        return [
            m.payload["status"] for m in self.sent if m.kind == "case.card" and m.address == address
        ]


async def test_an_older_card_is_never_sent_after_a_newer_one(world: World) -> None:
    d, people, clock = world.casework, world.people, world.clock
    channel = CardChannel()
    w = worker(d.sessions, channel, clock, base_backoff=60, channel_name="log")
    case = (await d.intake.report(world.draft())).case
    office = f"office:{case.department_id}"  # no chats: the office's card goes to the log
    await w.run_once()  # the "dispatched" card fails and waits a minute
    await d.steps.act(Action.ACCEPT, case.id, people["hw1"])
    await w.run_once()  # the "accepted" card goes out
    clock.now += timedelta(minutes=2)
    report = await w.run_once()
    assert channel.shown(office) == ["accepted"]
    assert report.superseded == 1
    async with d.sessions() as s:
        statuses = (
            await s.scalars(
                select(OutboxMessage.status)
                .where(
                    OutboxMessage.case_id == case.id,
                    OutboxMessage.kind == "case.card",
                    OutboxMessage.address == office,
                )
                .order_by(OutboxMessage.id)
            )
        ).all()
    assert statuses == [OutboxStatus.SUPERSEDED, OutboxStatus.SENT]


async def test_cards_waiting_together_send_only_the_newest(world: World) -> None:
    d, people, clock = world.casework, world.people, world.clock
    channel = CardChannel()
    channel.failures = 0
    w = worker(d.sessions, channel, clock, channel_name="log")
    case = (await d.intake.report(world.draft())).case
    await d.steps.act(Action.ACCEPT, case.id, people["hw1"])
    await d.steps.act(Action.RESOLVE, case.id, people["hw1"], note="已清理")
    await w.run_once()
    assert channel.shown(f"office:{case.department_id}") == ["resolved"]


class SlowChannel:
    """A channel that takes its time, as Telegram does under load."""

    name = "test"

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.sent: list[OutgoingMessage] = []
        self.started = asyncio.Event()

    async def send(self, message: OutgoingMessage) -> Delivered:
        self.started.set()
        await asyncio.sleep(self.seconds)
        self.sent.append(message)
        return Delivered(message_id=str(message.id))


def real_time_worker(sessions, channel, lease: timedelta, name: str) -> OutboxWorker:
    limiter = RateLimiter(10_000, 10_000, 10_000)
    return OutboxWorker(
        sessions, {"test": channel}, lease=lease, rate_limiter=limiter, worker_id=name
    )


async def test_a_slow_batch_keeps_its_lease_and_nothing_is_sent_twice(engine) -> None:
    sessions = create_session_factory(engine)
    for chat in range(6):
        await backlog(sessions, 5, address=str(chat))
    channel = SlowChannel(0.1)
    lease = timedelta(seconds=0.8)  # a batch of 30 takes 3 s: several leases
    first, second = (real_time_worker(sessions, channel, lease, n) for n in "ab")

    async def keep_claiming() -> None:
        while len(channel.sent) < 30:
            await second.run_once(batch=30)
            await asyncio.sleep(0.2)

    await asyncio.wait_for(asyncio.gather(first.run_once(batch=30), keep_claiming()), 30)
    ids = [m.id for m in channel.sent]
    assert len(ids) == len(set(ids)) == 30
    assert all(m.status is OutboxStatus.SENT for m in await rows(sessions))


async def test_a_stopped_worker_gives_back_what_it_did_not_send(engine) -> None:
    sessions = create_session_factory(engine)
    await backlog(sessions, 10, address="42")
    channel = SlowChannel(0.2)
    w = real_time_worker(sessions, channel, timedelta(minutes=2), "a")
    run = asyncio.create_task(w.run_once())
    await channel.started.wait()
    await w.close()
    report = await run
    assert report.sent == len(channel.sent) < 10
    left = [m for m in await rows(sessions) if m.status is OutboxStatus.PENDING]
    assert len(left) == 10 - report.sent
    assert all(m.claimed_until is None for m in left)  # another worker may take them now
    assert (await w.run_once()).sent == 0  # and this one claims nothing more
