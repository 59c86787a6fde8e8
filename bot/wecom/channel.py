"""The WeCom outbox channel: an outbox message as a template card (with buttons) or markdown
to one member through `message/send`, or to a bound group chat through `appchat/send`; the
case's card updated in place with `update_template_card` while its one-time response code
is unspent. WeCom's errors become the outbox's RetryAfter / Undeliverable; the outbox worker
gives the dedupe keys, leases, retries and dead letters."""

import mimetypes
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.conversation.io import Photo
from bot.conversation.render import Card
from bot.wecom.api import FREQUENCY_LIMIT, SYSTEM_BUSY, WecomApi, WecomError
from bot.wecom.translate import (
    CHANNEL,
    card_message,
    flat_buttons,
    template_card,
    text_messages,
)
from dispatch.channels import Delivered, OutgoingMessage, RetryAfter, Undeliverable
from dispatch.chat_admin import APPCHAT
from models import WecomCard, utcnow

# The member left, was never in the app's visible range, or the chat is gone.
GONE = {60111, 60020, 81013, 86003}
BUSY = {SYSTEM_BUSY, FREQUENCY_LIMIT}
MAX_BACKOFF_S = 600.0

RenderCard = Callable[[str, dict[str, Any], str], Card]


class WecomChannel:
    name = CHANNEL

    def __init__(
        self,
        api: WecomApi,
        sessions: async_sessionmaker[AsyncSession],
        render: RenderCard,
        media_dir: Path,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.api = api
        self.sessions = sessions
        self.render = render
        self.media_dir = Path(media_dir)
        self.clock = clock
        self._busy: dict[str, int] = defaultdict(int)  # WeCom "busy" answers in a row

    async def send(self, message: OutgoingMessage) -> Delivered:
        card = self.render(message.kind, message.payload, message.locale)
        try:
            delivered = None
            if message.edit_message_id and not message.address.startswith(APPCHAT):
                delivered = await self._update(message.edit_message_id, card)
            if delivered is None:
                delivered = await self._send(message, card)
        except WecomError as exc:
            if exc.errcode in BUSY:
                self._busy[message.address] += 1
                raise RetryAfter(self.backoff(message.address)) from exc
            if exc.errcode in GONE:
                raise Undeliverable(str(exc)) from exc
            raise
        self._busy.pop(message.address, None)
        return delivered

    def backoff(self, address: str) -> float:
        """2, 4, 8 ... seconds (at most ten minutes) after WeCom's busy answers in a row."""
        return min(MAX_BACKOFF_S, 2.0 ** self._busy[address])

    async def _send(self, message: OutgoingMessage, card: Card) -> Delivered:
        address = message.address
        if card.photo is not None:
            await self.send_photo(address, card.photo)
        if address.startswith(APPCHAT):  # group chats take no template cards: markdown
            plain = Card(card.title, card.text, (), None, card.status_line)
            msgtype, body = card_message(plain, "")
            await self.api.send_appchat(address.removeprefix(APPCHAT), msgtype, body)
            return Delivered()
        task_id = f"gg{message.id}"
        if "case_id" not in message.payload and flat_buttons(card.buttons):
            # A list (the alerts to one person) is read in full as text; its card holds the
            # buttons under the list's title.
            for msgtype, body in text_messages(card.text):
                await self.api.send_message(address, msgtype, body)
            card = Card(card.title, "", card.buttons, None, card.status_line)
        msgtype, body = card_message(card, task_id)
        answer = await self.api.send_message(address, msgtype, body)
        case_id = message.payload.get("case_id")
        if msgtype != "template_card" or case_id is None:
            return Delivered()
        async with self.sessions() as session, session.begin():
            session.add(
                WecomCard(
                    task_id=task_id,
                    case_id=case_id,
                    userid=address,
                    response_code=answer.get("response_code"),
                    updated_at=self.clock(),
                )
            )
        return Delivered(task_id)

    async def _update(self, task_id: str, card: Card) -> Delivered | None:
        """Updates the member's card; None when its response code is spent (send anew)."""
        async with self.sessions() as session:
            known = await session.get(WecomCard, task_id)
        if known is None or not known.response_code:
            return None
        buttons = flat_buttons(card.buttons)
        if buttons:
            change = {"template_card": template_card(card.title, card.text, buttons, task_id)}
            change["template_card"]["main_title"]["desc"] = card.status_line
        else:
            change = {"button": {"replace_name": card.status_line or card.title}}
        await self.api.update_template_card([known.userid], known.response_code, change)
        async with self.sessions() as session, session.begin():
            await session.execute(
                update(WecomCard)
                .where(WecomCard.task_id == task_id)
                .values(response_code=None, updated_at=self.clock())  # a code serves once
            )
        return Delivered(task_id)

    async def send_photo(self, address: str, photo: Photo) -> None:
        """A stored photo uploaded with `media/upload`, then sent as an image message."""
        if photo.storage != "local":
            return  # a Telegram file id means nothing to WeCom
        path = self.media_dir / photo.ref
        content_type = photo.content_type or mimetypes.guess_type(path.name)[0] or "image/jpeg"
        media_id = await self.api.upload_image(path.read_bytes(), path.name, content_type)
        if address.startswith(APPCHAT):
            await self.api.send_appchat(
                address.removeprefix(APPCHAT), "image", {"media_id": media_id}
            )
        else:
            await self.api.send_message(address, "image", {"media_id": media_id})
