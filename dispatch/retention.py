"""Forgetting what only served operations, on the configured retention: delivered outbox
messages, console sessions, failed logins, chat drafts and the ids of handled chat updates.
Cases and case events are the record and are never purged; outbox messages that were not
delivered stay for the operator (`gridgov outbox`)."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dispatch import queries
from models import ConsoleSession, LoginThrottle, OutboxMessage
from models.enums import OutboxStatus

# Rows deleted per transaction: the first purge of a long backlog must not hold its locks
# (or grow the WAL) for minutes while the outbox worker is writing the same table.
PURGE_BATCH = 5000


@dataclass(frozen=True)
class Retention:
    sent_outbox: timedelta  # after delivery
    console_sessions: timedelta  # after the session expired
    login_failures: timedelta
    processed_updates: timedelta
    drafts: timedelta  # untouched conversations


@dataclass(frozen=True)
class Purged:
    sent_outbox: int
    console_sessions: int
    login_failures: int
    processed_updates: int
    drafts: int


async def purge_expired(
    sessions: async_sessionmaker[AsyncSession],
    retention: Retention,
    now: datetime,
    batch: int = PURGE_BATCH,
) -> Purged:
    """One pass over every table with a retention, each in short transactions of its own."""
    sent = 0
    while True:
        async with sessions() as session, session.begin():
            expired = (
                select(OutboxMessage.id)
                .where(
                    OutboxMessage.status == OutboxStatus.SENT,
                    OutboxMessage.sent_at < now - retention.sent_outbox,
                )
                .limit(batch)
            )
            result = await session.execute(
                delete(OutboxMessage).where(OutboxMessage.id.in_(expired.scalar_subquery()))
            )
        sent += result.rowcount or 0
        if (result.rowcount or 0) < batch:
            break
    async with sessions() as session, session.begin():
        expired_sessions = await session.execute(
            delete(ConsoleSession).where(
                ConsoleSession.expires_at < now - retention.console_sessions
            )
        )
        failures = await session.execute(
            delete(LoginThrottle).where(
                LoginThrottle.window_started_at < now - retention.login_failures
            )
        )
        updates = await queries.chats.purge_processed_updates(
            session, now - retention.processed_updates
        )
        drafts = await queries.chats.purge_chat_states(session, now - retention.drafts)
    return Purged(
        sent_outbox=sent,
        console_sessions=expired_sessions.rowcount or 0,
        login_failures=failures.rowcount or 0,
        processed_updates=updates,
        drafts=drafts,
    )
