"""Durable inbound updates: a chat platform's update is written to `inbound_updates` before the
platform is answered, handled in the background, and marked done. Nothing answered is lost
(at start-up the unfinished updates are handled) and a redelivered update, having the same
key, is dropped at the insert.

An update that was being handled when the process died is handled again at start-up: its
handler must tolerate a second run (the use cases do: invites are spent once, reports carry
their sender's id)."""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models import InboundUpdate, utcnow

log = logging.getLogger("gridgov.inbound")
# Each statement here commits by itself: one round trip instead of BEGIN, statement, COMMIT.
AUTOCOMMIT = {"isolation_level": "AUTOCOMMIT"}

# Handles one update's body; `retry` is True when an earlier run may have begun it.
Handler = Callable[[str, bool], Awaitable[None]]


class InboundQueue:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        channel: str,
        handler: Handler,
        clock: Callable[[], datetime] = utcnow,
        concurrency: int = 8,
    ) -> None:
        self.sessions = sessions
        self.channel = channel
        self.handler = handler
        self.clock = clock
        self._tasks: set[asyncio.Task[None]] = set()
        # Updates handled at once: a burst waits in the table, not in hundreds of tasks
        # holding database connections (and a crash cuts short only these few).
        self._slots = asyncio.Semaphore(concurrency)

    async def accept(self, key: str, body: str) -> int | None:
        """Persists the update (one statement, committed by itself); its row id, or None
        when this key came before."""
        async with self.sessions() as session:
            conn = await session.connection(execution_options=AUTOCOMMIT)
            insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
            return await conn.scalar(
                insert(InboundUpdate)
                .values(
                    channel=self.channel, key=key, body=body, received_at=self.clock(), attempts=0
                )
                .on_conflict_do_nothing()
                .returning(InboundUpdate.id)
            )

    def process_in_background(self, row_id: int) -> None:
        task = asyncio.create_task(self._process_in_turn(row_id), name=f"{self.channel}-{row_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _process_in_turn(self, row_id: int) -> None:
        async with self._slots:
            await self.process(row_id)

    async def process(self, row_id: int) -> None:
        """Handles one persisted update and marks it done; a failure is logged once and the
        update marked done with its error (a handler that fails on an update would fail on
        every retry, and the platform has been answered already)."""
        async with self.sessions() as session:
            conn = await session.connection(execution_options=AUTOCOMMIT)
            begun = (
                await conn.execute(
                    update(InboundUpdate)
                    .where(InboundUpdate.id == row_id, InboundUpdate.done_at.is_(None))
                    .values(attempts=InboundUpdate.attempts + 1)
                    .returning(InboundUpdate.body, InboundUpdate.attempts)
                )
            ).first()
        if begun is None:
            return  # done already
        error = None
        try:
            await self.handler(begun.body, begun.attempts > 1)
        except Exception as exc:
            log.error("%s update %s failed: %r", self.channel, row_id, exc)
            error = repr(exc)[:2000]
        async with self.sessions() as session:
            conn = await session.connection(execution_options=AUTOCOMMIT)
            await conn.execute(
                update(InboundUpdate)
                .where(InboundUpdate.id == row_id)
                .values(done_at=self.clock(), last_error=error)
            )

    async def resume(self) -> int:
        """Handles, in order of arrival, what an earlier run accepted and did not finish."""
        async with self.sessions() as session:
            ids = list(
                await session.scalars(
                    select(InboundUpdate.id)
                    .where(InboundUpdate.channel == self.channel, InboundUpdate.done_at.is_(None))
                    .order_by(InboundUpdate.id)
                )
            )
        for row_id in ids:
            await self.process(row_id)
        if ids:
            log.info("%s: %d unfinished updates handled at start-up", self.channel, len(ids))
        return len(ids)

    async def drain(self) -> None:
        """Waits for the updates being handled in the background."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)


async def purge_finished(session: AsyncSession, older_than: datetime) -> int:
    """Forgets updates handled before `older_than`: platforms resend within minutes
    (Telegram for a day at most), so their keys are no longer needed to drop a repeat."""
    result = await session.execute(
        delete(InboundUpdate).where(
            InboundUpdate.done_at.is_not(None), InboundUpdate.done_at < older_than
        )
    )
    return result.rowcount or 0
