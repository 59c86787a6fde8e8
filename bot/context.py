"""What every handler needs, injected into aiogram's workflow data as `ctx`."""

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from aiogram.utils.i18n import I18n

from dispatch.casework import Casework

CHANNEL = "telegram"


@dataclass(frozen=True)
class BotContext:
    casework: Casework
    i18n: I18n
    max_upload_bytes: int = 10 * 1024 * 1024

    @property
    def tz(self) -> ZoneInfo:
        return self.casework.settings.tz
