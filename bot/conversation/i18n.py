"""Texts of the conversation: the gettext catalogs under bot/locales (zh_CN default, en),
read with the standard library. `_` translates into the locale of the current turn."""

import gettext
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from pathlib import Path

from dispatch.core.errors import N_, DomainError, explain

__all__ = ["N_", "_", "current_locale", "normalise_locale", "render_error", "use_locale"]

LOCALES_DIR = Path(__file__).parent.parent / "locales"
DEFAULT_LOCALE = "zh_CN"
LOCALES = ("zh_CN", "en")
_current: ContextVar[str] = ContextVar("conversation_locale", default=DEFAULT_LOCALE)


def normalise_locale(code: str | None) -> str:
    """A client's language code (en, en-US, zh-hans) to one of our catalogs."""
    if code and code.lower().startswith("en"):
        return "en"
    return DEFAULT_LOCALE


@cache
def catalog(locale: str) -> gettext.NullTranslations:
    return gettext.translation("messages", LOCALES_DIR, languages=[locale], fallback=True)


def current_locale() -> str:
    return _current.get()


@contextmanager
def use_locale(locale: str) -> Iterator[None]:
    token = _current.set(locale)
    try:
        yield
    finally:
        _current.reset(token)


def _(message: str) -> str:
    return catalog(_current.get()).gettext(message)


def translate(message: str, locale: str) -> str:
    return catalog(locale).gettext(message)


def render_error(error: DomainError) -> str:
    """A domain error in the current language, from the domain's own catalog."""
    return explain(error, _current.get())
