"""The web chat's outbox channel (channel "web"): outbox messages to a person playing in the
console's 对话演示 page wait here, rendered, until the page polls for them."""

import itertools
from collections import defaultdict, deque
from typing import Any
from zoneinfo import ZoneInfo

from bot.conversation.buttons import ButtonSigner
from bot.conversation.i18n import normalise_locale
from bot.conversation.io import Buttons, Photo
from bot.conversation.render import render
from dispatch.channels import Delivered, OutgoingMessage

MEDIA_PREFIX = "/console/media/"  # the chat plays inside the console, behind its log-in


def buttons_json(buttons: Buttons) -> list[list[dict[str, str]]]:
    return [[{"label": b.label, "data": b.data} for b in row] for row in buttons]


def photo_url(photo: Photo | None) -> str | None:
    return MEDIA_PREFIX + photo.ref if photo is not None and photo.storage == "local" else None


class WebChatChannel:
    """The outbox channel of the web chat: rendered cards wait here until the page takes
    them. An edit of a card carries the id of the card it replaces."""

    name = "web"

    def __init__(self, tz: ZoneInfo, signer: ButtonSigner, keep: int = 100) -> None:
        self.tz = tz
        self.signer = signer
        self.waiting: defaultdict[str, deque[dict[str, Any]]] = defaultdict(
            lambda: deque(maxlen=keep)
        )
        self.ids = itertools.count(1)

    async def send(self, message: OutgoingMessage) -> Delivered:
        card = render(
            message.kind, message.payload, normalise_locale(message.locale), self.tz, self.signer
        )
        message_id = message.edit_message_id or f"out{next(self.ids)}"
        self.waiting[message.address].append(
            {
                "id": message_id,
                "title": card.title,
                "text": card.text,
                "buttons": buttons_json(card.buttons),
                "photo": photo_url(card.photo),
                "status": card.status_line,
            }
        )
        return Delivered(message_id, has_photo=card.photo is not None)

    def take(self, address: str) -> list[dict[str, Any]]:
        found = list(self.waiting.pop(address, ()))
        return found
