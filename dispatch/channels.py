"""How an outbox message leaves the building: the protocol a chat channel implements, the
errors it may raise, and the logging channel."""

import logging
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class OutgoingMessage:
    id: int
    kind: str
    address: str
    locale: str
    payload: dict[str, Any]
    # The chat message that already shows this case in this chat, to be edited in place.
    edit_message_id: str | None = None


@dataclass(frozen=True)
class Delivered:
    message_id: str | None = None  # the chat's id of what was sent, for later edits
    has_photo: bool = False


class RetryAfter(Exception):
    """The channel says: too many requests, try again in `seconds`."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"retry after {seconds} s")
        self.seconds = seconds


class Undeliverable(Exception):
    """The recipient cannot be reached for good (blocked the bot, chat deleted)."""


class Channel(Protocol):
    name: str

    async def send(self, message: OutgoingMessage) -> Delivered: ...


class LogChannel:
    """Writes messages to the log: for recipients without a chat, and for development."""

    name = "log"

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self.logger = logger or logging.getLogger("gridgov.outbox")

    async def send(self, message: OutgoingMessage) -> Delivered:
        p = message.payload
        if "alerts" in p:
            numbers = ", ".join(str(a.get("number")) for a in p["alerts"])
            self.logger.info("%s → %s: cases %s", message.kind, message.address, numbers)
            return Delivered()
        self.logger.info(
            "%s → %s: case %s %s %s",
            message.kind,
            message.address,
            p.get("number"),
            p.get("status"),
            p.get("note") or "",
        )
        return Delivered()
