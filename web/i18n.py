"""The web front end's gettext catalogs (zh_CN by default, English) and locale choice."""

import gettext
from collections.abc import Callable
from functools import cache
from pathlib import Path

from aiohttp import web

LOCALES_DIR = Path(__file__).parent / "locales"
LOCALES = ("zh_CN", "en")
LANG_COOKIE = "gridgov_lang"

Translate = Callable[[str], str]


@cache
def translations(locale: str) -> gettext.NullTranslations:
    return gettext.translation("messages", LOCALES_DIR, languages=[locale], fallback=True)


def translator(locale: str) -> Translate:
    return translations(locale).gettext


def choose_locale(request: web.Request, default: str) -> str:
    """The `locale` query parameter, then the console's language cookie, then the configured
    default: zh_CN unless someone chooses English (browsers' Accept-Language is not asked)."""
    wanted = request.query.get("locale") or request.cookies.get(LANG_COOKIE)
    if wanted in LOCALES:
        return wanted
    return default if default in LOCALES else LOCALES[0]
