"""What the web side receives from the composition root: the use cases, the read queries'
sessions and the settings it needs, parsed once. Handlers reach it with `context_of`."""

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from ipaddress import IPv4Network, IPv6Network
from pathlib import Path
from zoneinfo import ZoneInfo

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dispatch.accounts import Accounts
from dispatch.casework import Casework
from dispatch.metrics_figures import RunningTotals

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

    @property
    def secure_cookies(self) -> bool:
        return self.public_url.startswith("https://")


@dataclass(frozen=True)
class WebContext:
    casework: Casework
    accounts: Accounts
    settings: WebSettings
    metrics: RunningTotals  # this process's running totals behind /metrics

    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]:
        """For the read queries (`dispatch.queries`)."""
        return self.casework.sessions

    def now(self) -> datetime:
        return self.casework.clock()


CONTEXT = web.AppKey("context", WebContext)


def context_of(request: web.Request) -> WebContext:
    return request.app[CONTEXT]
