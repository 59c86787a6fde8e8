"""Handles one persisted WeCom callback: translates it, fetches a picture, asks the shared
conversation (the same one as Telegram and the web chat), and sends what it answers through
the WeCom API."""

import logging
import mimetypes
import re
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import aiohttp
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.conversation import Conversation
from bot.conversation.i18n import translate
from bot.conversation.io import Command, Edit, Inbound, Outbound, Photo, Reply, Sender, Text, Toast
from bot.wecom.api import WecomApi, WecomError
from bot.wecom.channel import WecomChannel
from bot.wecom.translate import (
    CardPress,
    ImageToFetch,
    NotTaken,
    field,
    inbound,
    parse,
    reply_messages,
    sender,
    text_messages,
)
from dispatch.core.errors import N_
from dispatch.registration import person_for_chat
from models import WecomCard, utcnow

log = logging.getLogger("gridgov.wecom")
IMAGE_TYPES = {"image/jpeg", "image/png", "image/gif", "image/webp"}
# What `gridgov invite` hands out; sent as plain text by someone not yet registered.
INVITE_CODE = re.compile(r"[A-Za-z0-9_-]{6,64}")


class PhotoUnavailable(Exception):
    """The picture a member sent cannot be fetched or is not an image we keep."""


class WecomAdapter:
    def __init__(
        self,
        api: WecomApi,
        channel: WecomChannel,
        conversation: Conversation,
        sessions: async_sessionmaker[AsyncSession],
        media_dir: Path,
        max_photo_bytes: int,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.api = api
        self.channel = channel
        self.conversation = conversation
        self.sessions = sessions
        self.media_dir = Path(media_dir)
        self.max_photo_bytes = max_photo_bytes
        self.clock = clock

    async def process(self, xml: str) -> None:
        """One callback, already decrypted and persisted (handled a second time after a crash
        mid-way: the conversation's steps tolerate it)."""
        message = parse(xml)
        who = sender(message)
        event = inbound(message)
        if event is None:
            log.info("WeCom event %r from %s dropped", field(message, "Event"), who.user_id)
            return
        if isinstance(event, NotTaken):
            await self._say(who, event.hint)
            return
        if isinstance(event, CardPress):
            await self._remember_code(who, event)
            event = event.press
        if isinstance(event, Text) and await self._invite_code(who, event):
            event = Command("start", event.text.strip())
        if isinstance(event, ImageToFetch):
            if not await self._registered(who):  # nothing is fetched or kept for a stranger
                await self._say(
                    who,
                    N_("You are not registered yet. Send the invite code from your administrator."),
                )
                return
            try:
                event = await self._fetch_photo(event.media_id)
            except PhotoUnavailable as exc:
                log.warning("WeCom picture from %s not fetched: %s", who.user_id, exc)
                await self._say(who, N_("The photo could not be received. Please send it again."))
                return
        await self.deliver(who, await self.conversation.handle(who, event))

    async def deliver(self, who: Sender, answers: list[Outbound]) -> None:
        for answer in answers:
            if isinstance(answer, Reply):
                if answer.photo is not None:
                    await self.channel.send_photo(who.chat_id, answer.photo)
                messages = reply_messages(answer, f"r{uuid.uuid4().hex[:24]}")
                if answer.ask_location:
                    hint = N_("Send your location: tap ＋ below the input box and choose Location.")
                    messages += text_messages(translate(hint, await self._locale(who)))
            elif isinstance(answer, Toast):
                messages = text_messages(answer.text)
            elif isinstance(answer, Edit) and (answer.text or answer.buttons):
                # A template card changes only once per press code, which the outbox keeps
                # for the case cards: the pressed message's new state comes as a new one.
                edited = Reply(answer.text or "", answer.buttons)
                messages = reply_messages(edited, f"r{uuid.uuid4().hex[:24]}")
            else:  # ClearButtons, an empty Edit: the pressed card shows WeCom's own state
                continue
            for msgtype, body in messages:
                await self.api.send_message(who.chat_id, msgtype, body)

    async def _say(self, who: Sender, text: str) -> None:
        for msgtype, body in text_messages(translate(text, await self._locale(who))):
            await self.api.send_message(who.chat_id, msgtype, body)

    async def _registered(self, who: Sender) -> bool:
        async with self.sessions() as session:
            return await person_for_chat(session, who.channel, who.user_id) is not None

    async def _locale(self, who: Sender) -> str:
        return await self.conversation.locale_of(who)

    async def _invite_code(self, who: Sender, event: Inbound) -> bool:
        """Words that look like an invite code, from someone not registered yet."""
        return (
            isinstance(event, Text)
            and INVITE_CODE.fullmatch(event.text.strip()) is not None
            and not await self._registered(who)
        )

    async def _remember_code(self, who: Sender, press: CardPress) -> None:
        """The press brought a fresh one-time code for this member's card."""
        if not press.response_code:
            return
        async with self.sessions() as session, session.begin():
            await session.execute(
                update(WecomCard)
                .where(WecomCard.task_id == press.press.message_id, WecomCard.userid == who.user_id)
                .values(response_code=press.response_code, updated_at=self.clock())
            )

    async def _fetch_photo(self, media_id: str) -> Photo:
        try:
            media = await self.api.get_media(media_id)
        except (WecomError, aiohttp.ClientError, TimeoutError) as exc:
            raise PhotoUnavailable(str(exc)) from exc
        if media.content_type not in IMAGE_TYPES:
            raise PhotoUnavailable(f"not an image: {media.content_type}")
        if not media.data or len(media.data) > self.max_photo_bytes:
            raise PhotoUnavailable(f"size {len(media.data)} bytes")
        ext = mimetypes.guess_extension(media.content_type) or ".jpg"
        ref = f"wecom/{uuid.uuid4().hex}{ext}"
        path = self.media_dir / ref
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(media.data)
        return Photo("local", ref, media.content_type, len(media.data))
