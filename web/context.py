"""What the web side receives from the composition root: the use cases, the read queries'
sessions and the settings it needs, parsed once. Handlers reach it with `context_of`."""

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from ipaddress import IPv4Network, IPv6Network
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dispatch.accounts import Accounts
from dispatch.casework import Casework
from dispatch.chat_admin import ChatAdmin, GroupChats
from dispatch.metrics_figures import RunningTotals
from dispatch.supervision.service import Supervision

if TYPE_CHECKING:
    from bot.conversation import Conversation
    from bot.webchat import WebChatChannel

Network = IPv4Network | IPv6Network


@dataclass(frozen=True)
class WebSettings:
    tz: ZoneInfo
    default_locale: str = "zh_CN"
    public_url: str = ""  # the address the world sees, for links
    media_dir: Path = Path("media")
    max_upload_bytes: int = 10 * 1024 * 1024
    trusted_proxies: tuple[Network, ...] = ()
    media_link_secret: bytes = field(default_factory=lambda: secrets.token_bytes(32), repr=False)
    media_link_ttl: timedelta = timedelta(days=7)
    # The public page of closed cases (公开): off unless the county publishes it.
    public_page: bool = False
    public_cache_seconds: float = 300.0
    public_requests_per_minute: int = 60  # per client address

    @property
    def secure_cookies(self) -> bool:
        return self.public_url.startswith("https://")


@dataclass(frozen=True)
class WebContext:
    casework: Casework
    accounts: Accounts
    settings: WebSettings
    metrics: RunningTotals  # this process's running totals behind /metrics
    supervision: Supervision
    conversation: "Conversation | None" = None  # the chat every channel shares
    webchat: "WebChatChannel | None" = None  # the console's web chat, an outbox channel
    demo: bool = False  # the sample county: the console's web chat may play anyone
    # WeCom group chats an admin creates for an office; None when WeCom is off.
    group_chats: GroupChats | None = None

    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]:
        """For the read queries (`dispatch.queries`)."""
        return self.casework.sessions

    @property
    def chat_admin(self) -> ChatAdmin:
        return ChatAdmin(self.casework, self.group_chats)

    def now(self) -> datetime:
        return self.casework.clock()


CONTEXT = web.AppKey("context", WebContext)


def context_of(request: web.Request) -> WebContext:
    return request.app[CONTEXT]
