"""The WeCom callback URL (`/wecom/callback`): the URL-verification GET, and the encrypted
messages and events POSTed by WeCom. `msg_signature` is checked on every request (403, nothing
written, on a mismatch); a callback is decrypted, persisted and answered at once, and handled
in the background (WeCom waits 5 s, then resends: the same MsgId or event is handled once)."""

import logging

from aiohttp import web
from wechatpy.enterprise.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidSignatureException

from bot.inbound import InboundQueue
from bot.wecom.translate import NotAMessage, idempotency_key, parse

log = logging.getLogger("gridgov.wecom")
CALLBACK_PATH = "/wecom/callback"
MAX_BODY_BYTES = 64 * 1024  # a callback is a few hundred bytes of XML


class WecomCallback:
    def __init__(self, crypto: WeChatCrypto, queue: InboundQueue) -> None:
        self.crypto = crypto
        self.queue = queue

    async def verify_url(self, request: web.Request) -> web.Response:
        """WeCom checks the URL when it is saved: echo the decrypted `echostr`."""
        q = request.query
        try:
            echo = self.crypto.check_signature(
                q.get("msg_signature", ""),
                q.get("timestamp", ""),
                q.get("nonce", ""),
                q.get("echostr", ""),
            )
        except InvalidSignatureException:
            return web.Response(status=403, text="bad signature")
        except Exception:  # wechatpy raises a variety of errors on a body that does not decrypt
            return web.Response(status=400, text="echostr does not decrypt")
        return web.Response(text=echo.decode() if isinstance(echo, bytes) else str(echo))

    async def receive(self, request: web.Request) -> web.Response:
        if request.content_length and request.content_length > MAX_BODY_BYTES:
            return web.Response(status=413, text="too large")
        body = await request.content.read(MAX_BODY_BYTES + 1)
        if len(body) > MAX_BODY_BYTES:
            return web.Response(status=413, text="too large")
        q = request.query
        try:
            xml = self.crypto.decrypt_message(
                body, q.get("msg_signature", ""), q.get("timestamp", ""), q.get("nonce", "")
            )
        except InvalidSignatureException:
            return web.Response(status=403, text="bad signature")
        except Exception:  # no XML, no Encrypt element, bad padding, another corp's message
            log.info("a WeCom callback that does not decrypt was refused")
            return web.Response(status=400, text="does not decrypt")
        try:
            message = parse(xml)
        except NotAMessage as exc:
            log.info("a WeCom callback that is not a message was refused: %s", exc)
            return web.Response(status=400, text="not a WeCom message")
        row_id = await self.queue.accept(idempotency_key(message), xml)
        if row_id is not None:
            self.queue.handle_in_background(row_id, xml)
        return web.Response(text="")  # WeCom takes an empty answer as "received"


def add_callback_routes(webapp: web.Application, callback: WecomCallback) -> None:
    webapp.router.add_get(CALLBACK_PATH, callback.verify_url)
    webapp.router.add_post(CALLBACK_PATH, callback.receive)
