"""The Telegram outbox channel: renders an outbox message and sends it with aiogram, or edits
the case's card in place. Telegram's errors become the outbox's RetryAfter / Undeliverable;
a group that became a supergroup is followed to its new id. A message longer than Telegram
takes has its free text (a citizen's long description, a note) shortened to fit, with a pointer
to the console for the rest."""

import html
import re
from collections.abc import Awaitable, Callable
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
from aiogram.types import Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.i18n import normalise_locale
from bot.texts import Rendered, render
from dispatch.channels import Delivered, OutgoingMessage, RetryAfter, Undeliverable

GONE = ("chat not found", "bot was kicked", "user is deactivated", "have no rights to send")
CAPTION_LIMIT = 1024
TEXT_LIMIT = 4096  # Telegram counts UTF-16 code units
TAG = re.compile(r"<[^>]*>")
FREE_TEXT = ("description", "note")  # what may be shortened, in this order
# Moves a chat's binding and waiting messages from the old chat id to the new one.
Migrate = Callable[[str, str], Awaitable[object]]


class TelegramChannel:
    name = "telegram"

    def __init__(
        self, bot: Bot, i18n: I18n, tz: ZoneInfo, migrate: Migrate, console_url: str = ""
    ) -> None:
        self.bot = bot
        self.i18n = i18n
        self.tz = tz
        self.migrate = migrate
        self.console_url = console_url.rstrip("/")  # the public base URL of the console

    async def send(self, message: OutgoingMessage) -> Delivered:
        locale = normalise_locale(message.locale)
        with self.i18n.context(), self.i18n.use_locale(locale):
            rendered = self._render_to_fit(message.kind, message.payload, locale)
        try:
            if message.edit_message_id:
                edited = await self._edit(message, rendered)
                if edited is not None:
                    return edited
            sent = await self._send(message.address, rendered)
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

    def _render_to_fit(self, kind: str, payload: dict[str, Any], locale: str) -> Rendered:
        """The rendered message, its free text shortened until it fits Telegram's limit. The
        text is cut before it is escaped, so no character or HTML entity is ever split."""
        rendered = render(kind, payload, locale, self.tz)
        number = payload.get("number")
        if number and self.console_url:
            where = _("the rest is in the console: {url}").format(
                url=f"{self.console_url}/console/cases/{number}"
            )
        else:
            where = _("the rest is in the console")
        marker = f"… [{where}]"
        for field in FREE_TEXT:
            text = str(payload.get(field) or "")
            while text and (over := visible_length(rendered.text) - TEXT_LIMIT) > 0:
                text = text[: max(0, len(text) - over - len(marker))].rstrip()
                payload = {**payload, field: text + marker}
                rendered = render(kind, payload, locale, self.tz)
        return rendered

    async def _send(self, chat_id: str, r: Rendered) -> Message:
        if r.photo and len(r.text) <= CAPTION_LIMIT:
            return await self.bot.send_photo(
                chat_id, r.photo, caption=r.text, reply_markup=r.markup, parse_mode="HTML"
            )
        if r.photo:  # too long for a caption: the photo alone, then the words and buttons
            await self.bot.send_photo(chat_id, r.photo)
        return await self.bot.send_message(
            chat_id, r.text, reply_markup=r.markup, parse_mode="HTML"
        )

    async def _edit(self, message: OutgoingMessage, r: Rendered) -> Delivered | None:
        """Edits the card; None when it cannot be edited any more (deleted): send anew."""
        chat_id, message_id = message.address, int(message.edit_message_id or 0)
        has_photo = bool(r.photo) and len(r.text) <= CAPTION_LIMIT
        try:
            if has_photo:
                await self.bot.edit_message_caption(
                    chat_id=chat_id,
                    message_id=message_id,
                    caption=r.text,
                    reply_markup=r.markup,
                    parse_mode="HTML",
                )
            else:
                await self.bot.edit_message_text(
                    chat_id=chat_id,
                    message_id=message_id,
                    text=r.text,
                    reply_markup=r.markup,
                    parse_mode="HTML",
                )
        except TelegramBadRequest as exc:
            text = exc.message.lower()
            if "message is not modified" not in text:
                if "message to edit not found" in text or "there is no" in text:
                    return None
                raise
        return Delivered(str(message_id), has_photo=has_photo)


def visible_length(text: str) -> int:
    """Telegram's measure of an HTML message: UTF-16 code units once tags and entities are
    parsed."""
    shown = html.unescape(TAG.sub("", text))
    return len(shown.encode("utf-16-le")) // 2
