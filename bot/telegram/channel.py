"""The Telegram outbox channel: renders an outbox message and sends it with aiogram, or edits
the case's card in place. Telegram's errors become the outbox's RetryAfter / Undeliverable;
a group that became a supergroup is followed to its new id. A message longer than Telegram
takes has its free text (a citizen's long description, a note) shortened to fit, with a pointer
to the console for the rest."""

import html
import re
from collections.abc import Awaitable, Callable
from html import escape
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNotFound,
    TelegramRetryAfter,
)
from aiogram.types import FSInputFile, InlineKeyboardMarkup, Message

from bot.conversation.buttons import ButtonSigner
from bot.conversation.i18n import N_, normalise_locale, translate
from bot.conversation.io import Photo
from bot.conversation.render import Card, render
from bot.telegram.answers import inline
from dispatch.channels import Delivered, OutgoingMessage, RetryAfter, Undeliverable

GONE = ("chat not found", "bot was kicked", "user is deactivated", "have no rights to send")
CAPTION_LIMIT = 1024
TEXT_LIMIT = 4096  # Telegram counts UTF-16 code units
TAG = re.compile(r"<[^>]*>")
FREE_TEXT = ("description", "note")  # what may be shortened, in this order
# Moves a chat's binding and waiting messages from the old chat id to the new one.
Migrate = Callable[[str, str], Awaitable[object]]
TelegramPhoto = str | FSInputFile


class TelegramChannel:
    name = "telegram"

    def __init__(
        self,
        bot: Bot,
        tz: ZoneInfo,
        signer: ButtonSigner,
        migrate: Migrate,
        media_dir: Path | None = None,
        console_url: str = "",
    ) -> None:
        self.bot = bot
        self.tz = tz
        self.signer = signer
        self.migrate = migrate
        self.media_dir = media_dir
        self.console_url = console_url.rstrip("/")  # the public base URL of the console

    def _photo(self, photo: Photo | None) -> TelegramPhoto | None:
        """A Telegram file id, or a photo stored here (uploaded in the web chat)."""
        if photo is None:
            return None
        if photo.storage == "telegram":
            return photo.ref
        if photo.storage == "local" and self.media_dir is not None:
            path = self.media_dir / photo.ref
            if path.resolve().is_relative_to(self.media_dir.resolve()) and path.is_file():
                return FSInputFile(path)
        return None

    async def send(self, message: OutgoingMessage) -> Delivered:
        card = self._render_to_fit(message.kind, message.payload, normalise_locale(message.locale))
        text, photo, markup = escape(card.text), self._photo(card.photo), inline(card.buttons)
        try:
            if message.edit_message_id:
                edited = await self._edit(message, text, photo, markup)
                if edited is not None:
                    return edited
            sent = await self._send(message.address, text, photo, markup)
        except TelegramRetryAfter as exc:
            raise RetryAfter(exc.retry_after) from exc
        except TelegramMigrateToChat as exc:
            # The update announcing the upgrade may never have come: move the chat now, and
            # this message (re-addressed with the others) goes out again at once.
            await self.migrate(message.address, str(exc.migrate_to_chat_id))
            raise RetryAfter(0) from exc
        except (TelegramForbiddenError, TelegramNotFound) as exc:
            raise Undeliverable(exc.message) from exc
        except TelegramBadRequest as exc:
            if any(reason in exc.message.lower() for reason in GONE):
                raise Undeliverable(exc.message) from exc
            raise
        return Delivered(str(sent.message_id), has_photo=bool(sent.photo))

    def _render_to_fit(self, kind: str, payload: dict[str, Any], locale: str) -> Card:
        """The rendered card, its free text shortened until it fits Telegram's limit. The text
        is cut before it is escaped, so no character or HTML entity is ever split."""
        card = render(kind, payload, locale, self.tz, self.signer)
        number = payload.get("number")
        if number and self.console_url:
            where = translate(N_("the rest is in the console: {url}"), locale).format(
                url=f"{self.console_url}/console/cases/{number}"
            )
        else:
            where = translate(N_("the rest is in the console"), locale)
        marker = f"… [{where}]"
        for field in FREE_TEXT:
            text = str(payload.get(field) or "")
            while text and (over := visible_length(escape(card.text)) - TEXT_LIMIT) > 0:
                text = text[: max(0, len(text) - over - len(marker))].rstrip()
                payload = {**payload, field: text + marker}
                card = render(kind, payload, locale, self.tz, self.signer)
        return card

    async def _send(
        self,
        chat_id: str,
        text: str,
        photo: TelegramPhoto | None,
        markup: InlineKeyboardMarkup | None,
    ) -> Message:
        if photo and len(text) <= CAPTION_LIMIT:
            return await self.bot.send_photo(
                chat_id, photo, caption=text, reply_markup=markup, parse_mode="HTML"
            )
        if photo:  # too long for a caption: the photo alone, then the words and buttons
            await self.bot.send_photo(chat_id, photo)
        return await self.bot.send_message(chat_id, text, reply_markup=markup, parse_mode="HTML")

    async def _edit(
        self,
        message: OutgoingMessage,
        text: str,
        photo: TelegramPhoto | None,
        markup: InlineKeyboardMarkup | None,
    ) -> Delivered | None:
        """Edits the card; None when it cannot be edited any more (deleted): send anew."""
        chat_id, message_id = message.address, int(message.edit_message_id or 0)
        has_photo = bool(photo) and len(text) <= CAPTION_LIMIT
        try:
            if has_photo:
                await self.bot.edit_message_caption(
                    chat_id=chat_id,
                    message_id=message_id,
                    caption=text,
                    reply_markup=markup,
                    parse_mode="HTML",
                )
            else:
                await self.bot.edit_message_text(
                    chat_id=chat_id,
                    message_id=message_id,
                    text=text,
                    reply_markup=markup,
                    parse_mode="HTML",
                )
        except TelegramBadRequest as exc:
            reason = exc.message.lower()
            if "message is not modified" not in reason:
                if "message to edit not found" in reason or "there is no" in reason:
                    return None
                raise
        return Delivered(str(message_id), has_photo=has_photo)


def visible_length(text: str) -> int:
    """Telegram's measure of an HTML message: UTF-16 code units once tags and entities are
    parsed."""
    shown = html.unescape(TAG.sub("", text))
    return len(shown.encode("utf-16-le")) // 2
