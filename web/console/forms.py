"""Reading console form fields, and the message shown when a form cannot be carried out."""

from datetime import date
from enum import StrEnum
from typing import Any, TypeVar

from aiohttp import web
from multidict import MultiDictProxy

from dispatch.core.errors import DomainError, NotFound, explain
from web.console.base import gettext_of, locale_of

E = TypeVar("E", bound=StrEnum)
Form = MultiDictProxy[Any]
MAX_INT = 2**31 - 1  # the database's integer columns


def N_(message: str) -> str:
    """Marks a msgid of the web catalog for extraction."""
    return message


class FormError(ValueError):
    """A field that cannot be read; the message is a msgid of the web catalog."""

    def __init__(self, message: str, **params: Any) -> None:
        self.message, self.params = message, params
        super().__init__(message % params)


def text(form: Form, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def optional_int(form: Form, name: str) -> int | None:
    value = text(form, name)
    if not value:
        return None
    try:
        number = int(value)
    except ValueError:
        raise FormError(N_("“%(value)s” is not a whole number."), value=value) from None
    if not -MAX_INT <= number <= MAX_INT:
        raise FormError(N_("“%(value)s” is out of range."), value=value)
    return number


def required_int(form: Form, name: str) -> int:
    value = optional_int(form, name)
    if value is None:
        raise FormError(N_("A required field is empty."))
    return value


def optional_float(form: Form, name: str) -> float | None:
    value = text(form, name)
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        raise FormError(N_("“%(value)s” is not a number."), value=value) from None


def choice(form: Form, name: str, kind: type[E]) -> E:
    value = text(form, name)
    try:
        return kind(value)
    except ValueError:
        raise FormError(N_("“%(value)s” is not one of the choices offered."), value=value) from None


def optional_choice(form: Form, name: str, kind: type[E]) -> E | None:
    return choice(form, name, kind) if text(form, name) else None


def day(form: Form, name: str) -> date:
    value = text(form, name)
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise FormError(N_("“%(value)s” is not a date (YYYY-MM-DD)."), value=value) from None


def problem(request: web.Request, error: DomainError | FormError) -> tuple[str, int]:
    """The message in the reader's language, and the HTTP status to answer with."""
    if isinstance(error, FormError):
        translated = gettext_of(request)(error.message)
        return (translated % error.params if error.params else translated), 400
    return explain(error, locale_of(request)), 404 if isinstance(error, NotFound) else 400
