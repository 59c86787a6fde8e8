"""The outbox delivery worker: claims due messages, sends them through their channel, and
records the outcome. Retries back off exponentially, a channel's retry-after is honoured,
messages are dead-lettered after the allowed attempts, and a lease on each claimed row
keeps two workers from sending the same message.

Fairness: a claim takes at most a few messages per chat (the most urgent, then the oldest), so
one chat's backlog never fills the batch and holds back everybody else's messages. The lease
is renewed while a batch is sent, and a send never outlasts half a lease. A card for a case is
skipped once a newer card for that case and chat exists, so an office's card never goes back
to an earlier state."""

import asyncio
import logging
import time
from collections import defaultdict, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, case, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from dispatch.channels import Channel, Delivered, OutgoingMessage, RetryAfter, Undeliverable
from models import CaseChatMessage, OutboxMessage, utcnow
from models.enums import OutboxStatus

log = logging.getLogger("gridgov.delivery")
CARD = "case.card"
# Per-recipient windows (messages, seconds) of channels that are not Telegram.
CHANNEL_LIMITS: dict[str, tuple[tuple[int, float], ...]] = {
    "wecom": ((30, 60.0), (1000, 3600.0)),
}

# Alerts to one chat that are claimed together go out as one message: a list (kind ALERTS).
ALERT_KINDS = frozenset({"case.escalate", "case.remind", "case.overdue"})
ALERTS = "alerts"


def combine_alerts(claimed: Sequence[OutboxMessage]) -> list[list[OutboxMessage]]:
    """The batch as deliveries: each message alone, except a chat's alerts, which are
    gathered where its first alert stands."""
    deliveries: list[list[OutboxMessage]] = []
    alerts: dict[tuple[str, str], list[OutboxMessage]] = {}
    for m in claimed:
        if m.kind not in ALERT_KINDS:
            deliveries.append([m])
        elif (m.channel, m.address) in alerts:
            alerts[m.channel, m.address].append(m)
        else:
            alerts[m.channel, m.address] = [m]
            deliveries.append(alerts[m.channel, m.address])
    return deliveries


class RateLimiter:
    """Sliding-window limits: per bot (30/s) and per chat (20/min for groups, 1/s else), or
    a channel's own per-recipient windows (WeCom: 30/min and 1,000/h per member)."""

    def __init__(
        self,
        global_per_second: int = 30,
        group_per_minute: int = 20,
        private_per_second: int = 1,
        clock: Callable[[], float] = time.monotonic,
        channel_limits: dict[str, tuple[tuple[int, float], ...]] | None = None,
    ) -> None:
        self.global_per_second = global_per_second
        self.group_per_minute = group_per_minute
        self.private_per_second = private_per_second
        self.clock = clock
        self.channel_limits = CHANNEL_LIMITS if channel_limits is None else channel_limits
        self._global: deque[float] = deque()
        self._per_chat: dict[tuple[str, str], deque[float]] = defaultdict(deque)

    def _limits(self, channel: str, address: str) -> tuple[tuple[int, float], ...]:
        if channel in self.channel_limits:
            return self.channel_limits[channel]
        # Telegram group and channel ids are negative.
        if address.startswith("-"):
            return ((self.group_per_minute, 60.0),)
        return ((self.private_per_second, 1.0),)

    def wait_time(self, address: str, channel: str = "telegram") -> float:
        """Seconds until a message to `address` may go; 0 when it may go now."""
        now = self.clock()
        limits = self._limits(channel, address)
        span = max(s for _, s in limits)
        chat = self._per_chat[channel, address]
        while chat and chat[0] <= now - span:
            chat.popleft()
        while self._global and self._global[0] <= now - 1.0:
            self._global.popleft()
        waits = [0.0]
        if len(self._global) >= self.global_per_second:
            waits.append(self._global[0] + 1.0 - now)
        for limit, window in limits:
            recent = [t for t in chat if t > now - window] if window < span else chat
            if len(recent) >= limit:
                waits.append(recent[len(recent) - limit] + window - now)
        return max(waits)

    def record(self, address: str, channel: str = "telegram") -> None:
        now = self.clock()
        self._global.append(now)
        self._per_chat[channel, address].append(now)


@dataclass(frozen=True)
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    dead: int = 0
    undeliverable: int = 0
    deferred: int = 0
    superseded: int = 0


class OutboxWorker:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        channels: dict[str, Channel],
        max_attempts: int = 8,
        base_backoff: float = 2.0,
        max_backoff: float = 3600.0,
        lease: timedelta = timedelta(minutes=2),
        rate_limiter: RateLimiter | None = None,
        clock: Callable[[], datetime] = utcnow,
        worker_id: str = "worker",
        per_chat: int = 20,  # what a Telegram group takes in a minute
    ) -> None:
        self.sessions = sessions
        self.channels = channels
        self.max_attempts = max_attempts
        self.base_backoff = base_backoff
        self.max_backoff = max_backoff
        self.lease = lease
        self.rate = rate_limiter or RateLimiter()
        self.clock = clock
        self.worker_id = worker_id
        self.per_chat = per_chat
        self._stopping = False
        self._idle = asyncio.Event()
        self._idle.set()

    def backoff(self, attempts: int) -> timedelta:
        return timedelta(seconds=min(self.max_backoff, self.base_backoff * 2 ** (attempts - 1)))

    async def _claim(self, batch: int) -> list[OutboxMessage]:
        """Up to `batch` due messages, at most `per_chat` of them for any one chat: the most
        urgent first, then round-robin (every chat's first message, then every chat's
        second...), so a new chat's message never waits behind a backlog.

        Two statements: the ranking (one scan of the due rows, through the per-chat index)
        picks twice the batch, then those rows are locked, skipping any another worker holds,
        so two workers claiming at once each get a batch. The due conditions are on the
        locking query too, so PostgreSQL re-checks them on a row another worker just took."""
        now = self.clock()
        m = OutboxMessage
        due = and_(
            m.status == OutboxStatus.PENDING,
            m.next_attempt_at <= now,
            m.channel.in_(list(self.channels)),
            or_(m.claimed_until.is_(None), m.claimed_until < now),
        )
        rank = func.row_number().over(
            partition_by=(m.channel, m.address), order_by=(m.priority.desc(), m.id)
        )
        ranked = select(m.id, m.priority, rank.label("rank")).where(due).subquery()
        candidates = (
            select(ranked.c.id)
            .where(ranked.c.rank <= self.per_chat)
            .order_by(ranked.c.priority.desc(), ranked.c.rank, ranked.c.id)
            .limit(2 * batch)
        )
        async with self.sessions() as session, session.begin():
            order = {id_: n for n, id_ in enumerate((await session.scalars(candidates)).all())}
            if not order:
                return []
            # In the ranking's order and only a batch of them: rows beyond the batch stay
            # unlocked for the other worker.
            query = (
                select(m)
                .where(m.id.in_(list(order)), due)
                .order_by(case(order, value=m.id))
                .limit(batch)
            )
            if session.bind.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            messages = list((await session.scalars(query)).all())
            for message in messages:
                message.claimed_until = now + self.lease
            return messages

    async def _superseded(self, messages: Sequence[OutboxMessage]) -> set[int]:
        """The claimed cards that a newer card for the same case and chat makes obsolete."""
        cards = [m.id for m in messages if m.kind == CARD and m.case_id is not None]
        if not cards:
            return set()
        newer = aliased(OutboxMessage)
        async with self.sessions() as session:
            ids = await session.scalars(
                select(OutboxMessage.id).where(
                    OutboxMessage.id.in_(cards),
                    exists().where(
                        newer.kind == CARD,
                        newer.case_id == OutboxMessage.case_id,
                        newer.channel == OutboxMessage.channel,
                        newer.address == OutboxMessage.address,
                        newer.id > OutboxMessage.id,
                    ),
                )
            )
            return set(ids.all())

    async def _hold(self, claimed: list[OutboxMessage]) -> list[OutboxMessage]:
        """Renews the lease on the batch's unsent messages once half of it is used; returns
        those still held (a row whose lease was lost is left to its new owner)."""
        now = self.clock()
        held_until = claimed[0].claimed_until
        if held_until is not None and held_until - now > self.lease / 2:
            return claimed
        renewed = now + self.lease
        async with self.sessions() as session, session.begin():
            result = await session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.id.in_([m.id for m in claimed]),
                    OutboxMessage.claimed_until == held_until,
                )
                .values(claimed_until=renewed)
                .returning(OutboxMessage.id)
                .execution_options(synchronize_session=False)
            )
            kept = set(result.scalars().all())
        for m in claimed:
            m.claimed_until = renewed
        return [m for m in claimed if m.id in kept]

    async def _give_back(self, claimed: list[OutboxMessage]) -> None:
        """Releases unsent messages at once (on stop), for any worker to take."""
        if not claimed:
            return
        async with self.sessions() as session, session.begin():
            await session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.id.in_([m.id for m in claimed]),
                    OutboxMessage.claimed_until == claimed[0].claimed_until,
                )
                .values(claimed_until=None)
                .execution_options(synchronize_session=False)
            )

    def stop(self) -> None:
        """No new batch is claimed; the running one ends after its current send."""
        self._stopping = True

    async def close(self) -> None:
        """Stops and waits until the running batch has given back what it did not send."""
        self.stop()
        await self._idle.wait()

    async def _card_message_id(self, session: AsyncSession, m: OutboxMessage) -> str | None:
        if m.kind != CARD or m.case_id is None:
            return None
        return await session.scalar(
            select(CaseChatMessage.message_id).where(
                CaseChatMessage.case_id == m.case_id,
                CaseChatMessage.channel == m.channel,
                CaseChatMessage.chat_id == m.address,
            )
        )

    async def run_once(self, batch: int = 100) -> DeliveryReport:
        if self._stopping:
            return DeliveryReport()
        self._idle.clear()
        try:
            return await self._run(batch)
        finally:
            self._idle.set()

    async def _run(self, batch: int) -> DeliveryReport:
        claimed = await self._claim(batch)
        superseded = await self._superseded(claimed)
        counts = dict(sent=0, retried=0, dead=0, undeliverable=0, deferred=0, superseded=0)
        blocked: set[str] = set()  # chats told to wait: keep their later messages in order
        pending = combine_alerts(claimed)
        while pending:
            unsent = [m for group in pending for m in group]
            if self._stopping:
                await self._give_back(unsent)
                break
            held = {m.id for m in await self._hold(unsent)}
            pending = [kept for group in pending if (kept := [m for m in group if m.id in held])]
            if not pending:
                break
            group = pending.pop(0)
            if group[0].id in superseded:
                await self._finish(group[0], OutboxStatus.SUPERSEDED, count=False)
                outcome = "superseded"
            else:
                outcome = await self._deliver(group, blocked)
            counts[outcome] += len(group)
        return DeliveryReport(**counts)

    async def _outgoing(self, group: list[OutboxMessage]) -> OutgoingMessage:
        m = group[0]
        if len(group) > 1:
            alerts = [{"kind": a.kind, **a.payload} for a in group]
            return OutgoingMessage(m.id, ALERTS, m.address, m.locale, {"alerts": alerts})
        async with self.sessions() as session:
            edit_id = await self._card_message_id(session, m)
        return OutgoingMessage(m.id, m.kind, m.address, m.locale, m.payload, edit_id)

    async def _deliver(self, group: list[OutboxMessage], blocked: set[str]) -> str:
        """Sends one message (or several alerts as one) and records the outcome on each row."""
        now = self.clock()
        m = group[0]
        key = f"{m.channel}:{m.address}"
        wait = self.rate.wait_time(m.address, m.channel)
        if key in blocked or wait > 0:
            for row in group:
                await self._release(row, now + timedelta(seconds=max(wait, 1.0)))
            blocked.add(key)
            return "deferred"
        message = await self._outgoing(group)
        self.rate.record(m.address, m.channel)
        try:
            async with asyncio.timeout(self.lease.total_seconds() / 2):
                delivered = await self.channels[m.channel].send(message)
        except RetryAfter as exc:
            blocked.add(key)
            for row in group:
                await self._fail(row, str(exc), now + timedelta(seconds=exc.seconds), count=False)
            return "retried"
        except Undeliverable as exc:
            for row in group:
                await self._finish(
                    row, OutboxStatus.UNDELIVERABLE, error=str(exc) or "undeliverable"
                )
            return "undeliverable"
        except Exception as exc:  # a channel failure of any kind: retry later
            log.warning("delivery of outbox message %s failed: %r", m.id, exc)
            if m.attempts + 1 >= self.max_attempts:
                for row in group:
                    await self._finish(row, OutboxStatus.DEAD, error=repr(exc), count=True)
                return "dead"
            for row in group:
                at = now + self.backoff(row.attempts + 1)
                await self._fail(row, repr(exc), at, count=True)
            return "retried"
        for row in group:
            await self._finish(row, OutboxStatus.SENT, delivered=delivered)
        return "sent"

    async def _owned(self, session: AsyncSession, m: OutboxMessage, **values: object) -> None:
        """Writes the outcome only while this worker's lease on the row holds."""
        await session.execute(
            update(OutboxMessage)
            .where(and_(OutboxMessage.id == m.id, OutboxMessage.claimed_until == m.claimed_until))
            .values(claimed_until=None, **values)
        )

    async def _release(self, m: OutboxMessage, at: datetime) -> None:
        async with self.sessions() as session, session.begin():
            await self._owned(session, m, next_attempt_at=at)

    async def _fail(self, m: OutboxMessage, error: str, at: datetime, count: bool) -> None:
        async with self.sessions() as session, session.begin():
            await self._owned(
                session,
                m,
                next_attempt_at=at,
                last_error=error[:2000],
                attempts=m.attempts + (1 if count else 0),
            )

    async def _finish(
        self,
        m: OutboxMessage,
        status: OutboxStatus,
        error: str | None = None,
        delivered: Delivered | None = None,
        count: bool = True,
    ) -> None:
        async with self.sessions() as session, session.begin():
            await self._owned(
                session,
                m,
                status=status,
                last_error=error,
                attempts=m.attempts + (1 if count else 0),
                sent_at=self.clock() if status is OutboxStatus.SENT else None,
                external_message_id=delivered.message_id if delivered else None,
            )
            if delivered and delivered.message_id and m.kind == CARD and m.case_id:
                await self._remember_card(session, m, delivered)

    async def _remember_card(self, session: AsyncSession, m: OutboxMessage, d: Delivered) -> None:
        card = await session.scalar(
            select(CaseChatMessage).where(
                CaseChatMessage.case_id == m.case_id,
                CaseChatMessage.channel == m.channel,
                CaseChatMessage.chat_id == m.address,
            )
        )
        if card is None:
            session.add(
                CaseChatMessage(
                    case_id=m.case_id,
                    channel=m.channel,
                    chat_id=m.address,
                    message_id=d.message_id,
                    has_photo=d.has_photo,
                )
            )
        else:
            card.message_id, card.has_photo = d.message_id or card.message_id, d.has_photo
