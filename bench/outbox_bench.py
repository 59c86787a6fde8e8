"""The outbox under a backlog (issue 10, "messages held hostage"): 10,000 messages wait for one
private chat (Telegram lets one message a second through to it), then a new message is queued
for another chat. The worker runs as the scheduler runs it (a batch every 2 s) against a fake
channel that takes 30 ms a send; the new message is queued half-way between two runs and we
time how long it takes to go out. The peer is
the claim before issue 10 (the 100 oldest due messages, whoever they are for), measured in the
same run on the same backlog (reproduced here as `OldestFirstWorker`)."""

import asyncio
import contextlib
import time
from dataclasses import dataclass

from sqlalchemy import delete, or_, select

from bench.cases_fixture import bench_database
from bench.report import Row, Section, Stats, progress
from dispatch import notifications as notify
from dispatch.channels import Delivered, OutgoingMessage
from dispatch.delivery import OutboxWorker
from models import OutboxMessage
from models.db import create_engine, create_session_factory
from models.enums import OutboxStatus, RecipientKind

BACKLOG = 10_000
INTERVAL_S = 2.0  # GRIDGOV_OUTBOX_INTERVAL_S
GIVE_UP_S = 30.0
TARGET_S = 5.0


class TimedChannel:
    """A channel that takes as long as a Telegram call and notes when each message left."""

    name = "telegram"

    def __init__(self, watched: str) -> None:
        self.watched = watched
        self.arrived = asyncio.Event()  # a message to the watched chat went out
        self.sent_at: dict[str, float] = {}

    async def send(self, message: OutgoingMessage) -> Delivered:
        await asyncio.sleep(0.03)
        self.sent_at.setdefault(message.address, time.monotonic())
        if message.address == self.watched:
            self.arrived.set()
        return Delivered(message_id=str(message.id))


class OldestFirstWorker(OutboxWorker):
    """The peer: the claim before issue 10, the `batch` oldest due rows whoever they are for."""

    async def _claim(self, batch: int) -> list[OutboxMessage]:
        now, m = self.clock(), OutboxMessage
        async with self.sessions() as session, session.begin():
            query = (
                select(m)
                .where(
                    m.status == OutboxStatus.PENDING,
                    m.next_attempt_at <= now,
                    or_(m.claimed_until.is_(None), m.claimed_until < now),
                )
                .order_by(m.id)
                .limit(batch)
                .with_for_update(skip_locked=True)
            )
            messages = list((await session.scalars(query)).all())
            for message in messages:
                message.claimed_until = now + self.lease
            return messages


@dataclass(frozen=True)
class Waited:
    seconds: float | None  # None: not delivered within GIVE_UP_S

    def __str__(self) -> str:
        return f"{self.seconds:.1f} s" if self.seconds is not None else f"> {GIVE_UP_S:.0f} s"


async def _queue(sessions, address: str, kind: str, count: int, base: str) -> None:
    target = notify.Target(RecipientKind.PERSON, 1, "telegram", address)
    rows = [
        row
        for i in range(count)
        for row in notify.outbox_rows([target], kind, f"{base}-{i}", {"number": str(i)})
    ]
    async with sessions() as session, session.begin():
        for start in range(0, len(rows), 5000):
            await notify.insert_rows(session, rows[start : start + 5000])


async def _scenario(url: str, kind: str, worker_class: type[OutboxWorker]) -> tuple[Waited, Stats]:
    """The time a new `kind` message to chat 77 waits behind the backlog for chat 42, with the
    worker running every INTERVAL_S in the background; and the claim's own time."""
    engine = create_engine(url)
    sessions = create_session_factory(engine)
    try:
        async with sessions() as session, session.begin():
            await session.execute(delete(OutboxMessage))
        await _queue(sessions, "42", "case.card", BACKLOG, "backlog")
        channel = TimedChannel(watched="77")
        worker = worker_class(sessions, {"telegram": channel})
        claims = []
        for _ in range(5):
            started = time.perf_counter()
            claimed = await worker._claim(100)
            claims.append(time.perf_counter() - started)
            await worker._give_back(claimed)

        async def scheduled() -> None:
            while True:
                await worker.run_once()
                await asyncio.sleep(INTERVAL_S)

        running = asyncio.create_task(scheduled())
        await asyncio.sleep(INTERVAL_S * 1.25)  # between two runs, as a use case would
        await _queue(sessions, "77", kind, 1, "new")
        queued = time.monotonic()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(channel.arrived.wait(), GIVE_UP_S)
        await worker.close()
        running.cancel()
        waited = channel.sent_at.get("77")
        return Waited(waited - queued if waited else None), Stats.of(claims)
    finally:
        await engine.dispose()


async def run(command: str) -> Section:
    section = Section("outbox", "Outbox: one chat's backlog and everybody else", command)
    async with bench_database("outbox") as url:
        results = {}
        for label, kind, worker_class in (
            ("escalation", "case.escalate", OutboxWorker),
            ("routine card", "case.card", OutboxWorker),
            ("routine card, peer", "case.card", OldestFirstWorker),
        ):
            progress(f"outbox: {label}")
            results[label] = await _scenario(url, kind, worker_class)
    for label in ("escalation", "routine card"):
        waited, claim = results[label]
        section.rows.append(
            Row(
                f"new {label} to another chat, {BACKLOG:,} waiting for one chat",
                str(waited),
                f"≤ {TARGET_S:.0f} s",
                waited.seconds is not None and waited.seconds <= TARGET_S,
                f"claim of 100 with the backlog: {claim}",
            )
        )
    waited, claim = results["routine card, peer"]
    section.rows.append(
        Row(
            "peer: the 100 oldest due (the claim before issue 10), routine card",
            str(waited),
            note=f"claim of 100 with the backlog: {claim}",
        )
    )
    section.add(__doc__.replace("\n", " ").strip())
    return section
