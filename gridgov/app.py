"""The composition root: builds the database, the dispatcher, the channels and the scheduler
from the settings, once."""

import logging
import secrets
from dataclasses import dataclass, field, replace
from datetime import timedelta
from functools import cached_property
from ipaddress import ip_network
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.conversation import ButtonSigner, Conversation, ConversationContext, DraftStore
from bot.inbound import purge_finished
from bot.webchat import WebChatChannel
from bot.wecom.api import WecomApi
from bot.wecom.group_chats import WecomGroupChats
from dispatch.accounts import Accounts, ThrottlePolicy
from dispatch.casework import Casework, CaseworkSettings
from dispatch.channels import Channel, LogChannel
from dispatch.chat_admin import GroupChats
from dispatch.core.deadlines import EscalationPolicy
from dispatch.core.workcalendar import WorkingHours
from dispatch.delivery import OutboxWorker
from dispatch.geography import GridDirectory
from dispatch.metrics_figures import RunningTotals
from dispatch.retention import Purged, Retention, purge_expired
from dispatch.secrets import instance_secret
from dispatch.supervision.service import Supervision, SupervisionSettings
from gridgov.settings import Settings
from models.db import create_engine, create_session_factory
from web.context import WebContext, WebSettings

if TYPE_CHECKING:  # the chat platforms' libraries load only where a channel is built
    from aiogram import Bot, Dispatcher

    from bot.wecom.runtime import WecomRuntime

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
        followup_days=settings.followup_days,
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
        public_page=settings.public_page,
        public_cache_seconds=settings.public_cache_seconds,
        public_requests_per_minute=settings.public_requests_per_minute,
    )


@dataclass
class App:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    casework: Casework
    channels: dict[str, Channel] = field(default_factory=dict)
    scheduler: AsyncIOScheduler | None = None
    conversation: Conversation | None = None
    webchat: WebChatChannel | None = None
    demo: bool = False  # the sample county: the console's web chat may play anyone
    worker: OutboxWorker | None = None
    metrics: RunningTotals = field(default_factory=RunningTotals)
    wecom_api: WecomApi | None = None  # one client (one access token) for all WeCom calls

    @classmethod
    def build(cls, settings: Settings) -> "App":
        engine = create_engine(settings.database_url)
        sessions = create_session_factory(engine)
        directory = GridDirectory(settings.locate_tolerance_m)
        casework = Casework(sessions, directory, casework_settings(settings))
        return cls(settings, engine, sessions, casework, {"log": LogChannel()})

    def web_context(self) -> WebContext:
        """What the web side receives: the use cases, and its settings parsed once (after
        `start_conversation`, for the console's web chat)."""
        policy = ThrottlePolicy(
            per_account=self.settings.login_max_failures,
            per_address=self.settings.login_max_failures_per_address,
        )
        casework = self.casework
        accounts = Accounts(self.sessions, casework.actor, policy, clock=lambda: casework.clock())
        return WebContext(
            casework,
            accounts,
            web_settings(self.settings),
            self.metrics,
            self.supervision,
            self.conversation,
            self.webchat,
            self.demo,
            self.group_chats(),
        )

    async def start_conversation(self) -> Conversation:
        """The chat conversation every channel shares, and the console's web chat channel.
        Buttons are signed with GRIDGOV_SECRET_KEY, else with this database's own key."""
        s = self.settings
        secret = (
            s.secret_key.get_secret_value()
            if s.secret_key
            else await instance_secret(self.sessions, "buttons", self.casework.clock())
        )
        signer = ButtonSigner(secret.encode())
        drafts = DraftStore(
            self.sessions, timedelta(minutes=s.draft_ttl_minutes), self.casework.clock
        )
        self.conversation = Conversation(
            ConversationContext(self.casework, signer, drafts, s.max_upload_bytes)
        )
        self.webchat = WebChatChannel(self.casework.settings.tz, signer)
        self.channels[self.webchat.name] = self.webchat
        return self.conversation

    def telegram_bot(self) -> tuple["Bot", "Dispatcher"]:
        """The Telegram bot over the conversation, its outbox channel registered here."""
        s = self.settings
        if s.telegram_token is None:
            raise ValueError("GRIDGOV_TELEGRAM_TOKEN is not set")
        assert self.conversation is not None, "start_conversation() first"
        from bot.telegram.runtime import TelegramConfig, build_bot

        config = TelegramConfig(
            s.telegram_token.get_secret_value(),
            s.telegram_api_base,
            Path(s.media_dir),
            s.public_url,
            webhook=s.telegram_mode == "webhook",
        )
        bot, dp, channel = build_bot(self.conversation, config)
        self.channels[channel.name] = channel
        return bot, dp

    def wecom_client(self) -> WecomApi | None:
        """The WeCom API client, when the WeCom settings are complete (`wecom_enabled`)."""
        s = self.settings
        if self.wecom_api is None and s.wecom_enabled:
            assert s.wecom_secret and s.wecom_agent_id is not None
            self.wecom_api = WecomApi(
                s.wecom_api_base,
                s.wecom_corp_id,
                s.wecom_secret.get_secret_value(),
                s.wecom_agent_id,
            )
        return self.wecom_api

    def group_chats(self) -> GroupChats | None:
        """WeCom group chats an admin creates for an office; None without WeCom."""
        api = self.wecom_client()
        return WecomGroupChats(api) if api else None

    def wecom(self, webapp: web.Application) -> "WecomRuntime":
        """The WeCom channel over the conversation (settings complete: `wecom_enabled`), its
        callback added to `webapp` and its outbox channel registered here."""
        s = self.settings
        api = self.wecom_client()
        assert api is not None and s.wecom_token and s.wecom_aes_key
        assert self.conversation is not None, "start_conversation() first"
        from bot.wecom.runtime import WecomConfig, build_wecom

        config = WecomConfig(
            s.wecom_corp_id,
            s.wecom_token.get_secret_value(),
            s.wecom_aes_key.get_secret_value(),
            Path(s.media_dir),
            s.max_upload_bytes,
        )
        runtime = build_wecom(config, self.conversation, webapp, api)
        self.channels[runtime.channel.name] = runtime.channel
        return runtime

    @cached_property
    def supervision(self) -> Supervision:
        return Supervision(
            self.casework.runtime,
            SupervisionSettings(rectification_days=self.settings.rectification_days),
        )

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
        now = self.casework.clock()
        purged = await purge_expired(self.sessions, self.retention(), now)
        async with self.sessions() as session, session.begin():  # chat updates handled
            handled = await purge_finished(session, now - self.retention().processed_updates)
        purged = replace(purged, processed_updates=purged.processed_updates + handled)
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
        if self.wecom_api:
            await self.wecom_api.close()
        await self.engine.dispose()
