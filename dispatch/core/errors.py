"""Domain errors. Each message is an English msgid with named parameters, translated from
the domain's own gettext catalog (`dispatch/locales`, domain "dispatch") by `explain`, so
every front end shows the same words."""

import gettext
from functools import cache
from pathlib import Path
from typing import Any

LOCALES_DIR = Path(__file__).parent.parent / "locales"


def N_(message: str) -> str:
    """Marks a msgid for extraction without translating it here."""
    return message


class Term(str):
    """A message parameter that is itself a msgid (an action's or a status's name, the
    system as an actor): translated along with the message."""


class DomainError(Exception):
    message: str = N_("The request cannot be carried out.")

    def __init__(self, message: str | None = None, **params: Any) -> None:
        self.message = message or self.message
        self.params = params
        super().__init__(self.render())

    def render(self, translate: Any = None) -> str:
        if not translate:
            return self.message % self.params if self.params else self.message
        params = {
            key: translate(value) if isinstance(value, Term) else value
            for key, value in self.params.items()
        }
        text = translate(self.message)
        return text % params if params else text


class NotFound(DomainError):
    message = N_("Not found.")


class PermissionDenied(DomainError):
    message = N_("You are not allowed to do this.")


class IllegalTransition(DomainError):
    message = N_("Case %(number)s is %(status)s; this step is not possible now.")


class InvalidInput(DomainError):
    message = N_("Invalid input.")


class ConcurrentUpdate(DomainError):
    message = N_("Case %(number)s was changed by someone else at the same time; please look again.")


class OutsideJurisdiction(DomainError):
    message = N_("The location (%(lon).6f, %(lat).6f) is outside the jurisdiction.")


@cache
def _catalog(locale: str) -> gettext.NullTranslations:
    return gettext.translation("dispatch", LOCALES_DIR, languages=[locale], fallback=True)


def explain(error: DomainError, locale: str) -> str:
    """The error in the reader's language (zh_CN, or English: the msgids themselves)."""
    return error.render(_catalog(locale).gettext)
