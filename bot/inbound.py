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

from dispatch.autocommit import autocommit
from models import InboundUpdate, utcnow

log = logging.getLogger("gridgov.inbound")

# Handles one update's body (a second time, after a crash mid-way: see above).
Handler = Callable[[str], Awaitable[None]]


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
        """Persists the update (one statement, committed by itself) as begun by this process
        (`handle` follows); its row id, or None when this key came before."""
        async with autocommit(self.sessions) as conn:
            insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
            return await conn.scalar(
                insert(InboundUpdate)
                .values(
                    channel=self.channel, key=key, body=body, received_at=self.clock(), attempts=1
                )
                .on_conflict_do_nothing()
                .returning(InboundUpdate.id)
            )

    def handle_in_background(self, row_id: int, body: str) -> None:
        """`handle`, a few at a time, after the platform has been answered."""
        task = asyncio.create_task(
            self._handle_in_turn(row_id, body), name=f"{self.channel}-{row_id}"
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _handle_in_turn(self, row_id: int, body: str) -> None:
        async with self._slots:
            await self.handle(row_id, body)

    async def handle(self, row_id: int, body: str) -> None:
        """Handles an accepted update and marks it done; a failure is logged once and the
        update marked done with its error (a handler that fails on an update would fail on
        every retry, and the platform has been answered already)."""
        error = None
        try:
            await self.handler(body)
        except Exception as exc:
            log.error("%s update %s failed: %r", self.channel, row_id, exc)
            error = repr(exc)[:2000]
        async with autocommit(self.sessions) as conn:
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
            await self._resume(row_id)
        if ids:
            log.info("%s: %d unfinished updates handled at start-up", self.channel, len(ids))
        return len(ids)

    async def _resume(self, row_id: int) -> None:
        """An update an earlier run accepted, and may have begun, but did not finish."""
        async with autocommit(self.sessions) as conn:
            begun = (
                await conn.execute(
                    update(InboundUpdate)
                    .where(InboundUpdate.id == row_id, InboundUpdate.done_at.is_(None))
                    .values(attempts=InboundUpdate.attempts + 1)
                    .returning(InboundUpdate.body)
                )
            ).first()
        if begun is not None:  # else another instance finished it meanwhile
            await self.handle(row_id, begun.body)

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
