"""Builds the WeCom channel: the API client, the outbox channel, and the callback routes whose
updates are persisted before they are answered. Events go to the shared conversation; the
composition root (`App.wecom`) passes in what the settings say."""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web
from wechatpy.enterprise.crypto import WeChatCrypto

from bot.conversation import Conversation
from bot.conversation.i18n import normalise_locale
from bot.conversation.render import Card, render
from bot.inbound import InboundQueue
from bot.wecom.adapter import WecomAdapter
from bot.wecom.api import WecomApi
from bot.wecom.callback import WecomCallback, add_callback_routes
from bot.wecom.channel import WecomChannel


@dataclass(frozen=True)
class WecomConfig:
    corp_id: str
    token: str
    aes_key: str  # the 43-character EncodingAESKey
    media_dir: Path
    max_photo_bytes: int


@dataclass
class WecomRuntime:
    api: WecomApi
    adapter: WecomAdapter
    channel: WecomChannel
    queue: InboundQueue

    async def close(self) -> None:
        await self.queue.drain()
        await self.api.close()


def build_wecom(
    config: WecomConfig, conversation: Conversation, webapp: web.Application, api: WecomApi
) -> WecomRuntime:
    """The WeCom channel over the conversation and the API client (shared with the admin's
    group chats), its callback routes added to `webapp`; the caller registers
    `runtime.channel` with the outbox."""
    ctx = conversation.ctx
    sessions, clock = ctx.casework.sessions, ctx.casework.clock

    def render_card(kind: str, payload: dict[str, Any], locale: str) -> Card:
        return render(kind, payload, normalise_locale(locale), ctx.tz, ctx.signer)

    channel = WecomChannel(api, sessions, render_card, config.media_dir, clock)
    adapter = WecomAdapter(
        api, channel, conversation, sessions, config.media_dir, config.max_photo_bytes, clock
    )
    queue = InboundQueue(sessions, channel.name, adapter.process, clock)
    crypto = WeChatCrypto(config.token, config.aes_key, config.corp_id)
    add_callback_routes(webapp, WecomCallback(crypto, queue))
    return WecomRuntime(api, adapter, channel, queue)
