"""Domain errors. Each message is an English msgid with named parameters; front ends
translate it with their gettext catalog (`error.message % error.params`)."""

from typing import Any


def N_(message: str) -> str:
    """Marks a msgid for extraction without translating it here."""
    return message


class DomainError(Exception):
    message: str = N_("The request cannot be carried out.")

    def __init__(self, message: str | None = None, **params: Any) -> None:
        self.message = message or self.message
        self.params = params
        super().__init__(self.render())

    def render(self, translate: Any = None) -> str:
        text = translate(self.message) if translate else self.message
        return text % self.params if self.params else text


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
