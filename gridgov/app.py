"""The composition root: builds the database, the dispatcher, the channels and the scheduler
from the settings, once."""

import logging
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from ipaddress import ip_network
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from dispatch.accounts import Accounts, ThrottlePolicy
from dispatch.casework import Casework, CaseworkSettings
from dispatch.channels import Channel, LogChannel
from dispatch.core.deadlines import EscalationPolicy
from dispatch.core.workcalendar import WorkingHours
from dispatch.delivery import OutboxWorker
from dispatch.geography import GridDirectory
from dispatch.metrics_figures import RunningTotals
from dispatch.retention import Purged, Retention, purge_expired
from gridgov.settings import Settings
from models.db import create_engine, create_session_factory
from web.context import WebContext, WebSettings

log = logging.getLogger("gridgov")
MISFIRE_GRACE_S = 6 * 3600


def casework_settings(settings: Settings) -> CaseworkSettings:
    return CaseworkSettings(
        tz=ZoneInfo(settings.tz),
        working_hours=WorkingHours.from_spec(settings.working_hours),
        policy=EscalationPolicy(
            yellow_ratio=settings.yellow_ratio,
            level2_after_seconds=round(settings.escalation_level2_after_hours * 3600),
            level3_after_seconds=round(settings.escalation_level3_after_hours * 3600),
        ),
        reopen_days=settings.reopen_days,
        duplicate_radius_m=settings.duplicate_radius_m,
        duplicate_window=timedelta(hours=settings.duplicate_window_hours),
        max_extension=timedelta(days=settings.max_extension_days),
    )


def web_settings(settings: Settings) -> WebSettings:
    secret = settings.media_link_secret
    return WebSettings(
        tz=ZoneInfo(settings.tz),
        default_locale=settings.default_locale,
        public_url=settings.public_url,
        media_dir=settings.media_dir,
        max_upload_bytes=settings.max_upload_bytes,
        trusted_proxies=tuple(
            ip_network(p.strip(), strict=False)
            for p in settings.trusted_proxies.split(",")
            if p.strip()
        ),
        media_link_secret=(
            secret.get_secret_value().encode() if secret else secrets.token_bytes(32)
        ),
        media_link_ttl=timedelta(hours=settings.media_link_ttl_hours),
    )


@dataclass
class App:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    casework: Casework
    channels: dict[str, Channel] = field(default_factory=dict)
    scheduler: AsyncIOScheduler | None = None
    worker: OutboxWorker | None = None
    metrics: RunningTotals = field(default_factory=RunningTotals)

    @classmethod
    def build(cls, settings: Settings) -> "App":
        engine = create_engine(settings.database_url)
        sessions = create_session_factory(engine)
        directory = GridDirectory(settings.locate_tolerance_m)
        casework = Casework(sessions, directory, casework_settings(settings))
        return cls(settings, engine, sessions, casework, {"log": LogChannel()})

    def web_context(self) -> WebContext:
        """What the web side receives: the use cases, and its settings parsed once."""
        policy = ThrottlePolicy(
            per_account=self.settings.login_max_failures,
            per_address=self.settings.login_max_failures_per_address,
        )
        casework = self.casework
        accounts = Accounts(self.sessions, casework.actor, policy, clock=lambda: casework.clock())
        return WebContext(casework, accounts, web_settings(self.settings), self.metrics)

    def outbox_worker(self) -> OutboxWorker:
        return OutboxWorker(
            self.sessions, self.channels, max_attempts=self.settings.outbox_max_attempts
        )

    async def refresh_configuration(self) -> None:
        """Takes up what another instance or an admin changed: categories, rules, the
        calendar (a few small queries) and a new grid layer (only when there is one)."""
        layer = self.casework.directory.layer_id
        await self.casework.refresh()
        if self.casework.directory.layer_id != layer:
            log.info("grid layer %s loaded", self.casework.directory.layer_id)

    def retention(self) -> Retention:
        s = self.settings
        return Retention(
            sent_outbox=timedelta(days=s.retention_sent_outbox_days),
            console_sessions=timedelta(days=s.retention_console_sessions_days),
            login_failures=timedelta(days=s.retention_login_failures_days),
            processed_updates=timedelta(days=s.retention_processed_updates_days),
            drafts=timedelta(minutes=s.draft_ttl_minutes),
        )

    async def purge_expired_records(self) -> Purged:
        """Forgets delivered messages, old sessions and failed logins, chat drafts past their
        TTL and update ids Telegram can no longer redeliver; keeps cases and their events."""
        purged = await purge_expired(self.sessions, self.retention(), self.casework.clock())
        if any(vars(purged).values()):
            log.info("purged %s", purged)
        return purged

    def start_scheduler(self) -> AsyncIOScheduler:
        """Periodic jobs only, in-process and in memory: one sweep finds every due case
        (no job per case), and no job store is shared between processes."""
        s = self.settings
        scheduler = AsyncIOScheduler(timezone=ZoneInfo(s.tz))
        worker = self.worker = self.outbox_worker()
        # A job held up by a busy loop or a restart still runs when it can (within the grace
        # time) rather than being dropped: the digest is deduplicated per area and day.
        common = dict(max_instances=1, coalesce=True, misfire_grace_time=MISFIRE_GRACE_S)
        scheduler.add_job(
            self.casework.escalation.sweep,
            "interval",
            seconds=s.sweep_interval_s,
            id="sweep",
            **common,
        )
        scheduler.add_job(
            worker.run_once, "interval", seconds=s.outbox_interval_s, id="outbox", **common
        )
        scheduler.add_job(
            self.refresh_configuration,
            "interval",
            seconds=s.config_check_interval_s,
            id="configuration",
            **common,
        )
        hour, minute = (int(x) for x in s.digest_time.split(":"))
        scheduler.add_job(
            self.casework.digests.queue, "cron", hour=hour, minute=minute, id="digest", **common
        )
        scheduler.add_job(
            self.purge_expired_records,
            "interval",
            minutes=s.retention_interval_minutes,
            id="purge",
            **common,
        )
        scheduler.start()
        self.scheduler = scheduler
        return scheduler

    async def close(self) -> None:
        """Stops cleanly: the outbox worker finishes its current send and gives back the
        rest of its batch before the scheduler and the database go."""
        if self.worker:
            await self.worker.close()
        if self.scheduler:
            self.scheduler.shutdown(wait=False)
        await self.engine.dispose()
