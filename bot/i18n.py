"""Texts: gettext catalogs under bot/locales (zh_CN default, en), shared by the handlers and
the outbox channel; domain errors are translated with the same catalog."""

from pathlib import Path

from aiogram.utils.i18n import I18n
from aiogram.utils.i18n.context import get_i18n

from dispatch.core.errors import DomainError, explain

LOCALES_DIR = Path(__file__).parent / "locales"
DEFAULT_LOCALE = "zh_CN"
LOCALES = ("zh_CN", "en")


def build_i18n(default_locale: str = DEFAULT_LOCALE) -> I18n:
    return I18n(path=LOCALES_DIR, default_locale=default_locale, domain="messages")


def normalise_locale(code: str | None) -> str:
    """A Telegram language code (en, en-US, zh-hans) to one of our catalogs."""
    if code and code.lower().startswith("en"):
        return "en"
    return DEFAULT_LOCALE


def render_error(error: DomainError) -> str:
    """A domain error in the user's language, from the domain's own catalog."""
    return explain(error, get_i18n().current_locale)
