"""What every handler needs, injected into aiogram's workflow data as `ctx`."""

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from aiogram.utils.i18n import I18n

from dispatch.service import Dispatch

CHANNEL = "telegram"


@dataclass(frozen=True)
class BotContext:
    dispatch: Dispatch
    i18n: I18n
    max_upload_bytes: int = 10 * 1024 * 1024

    @property
    def tz(self) -> ZoneInfo:
        return self.dispatch.settings.tz
