"""A local Telegram Bot API emulator for the bot tests: an aiohttp server on 127.0.0.1 that
implements the methods the bot uses, records every call, keeps the messages it "sent" (so
tests can press their buttons), and can be told to answer with a 429 or a 403."""

import asyncio
import contextlib
import html
import itertools
import json
import re
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

BOT_ID = 999000
JSON_FIELDS = ("reply_markup", "allowed_updates", "commands", "entities", "link_preview_options")
TEXT_LIMIT, CAPTION_LIMIT = 4096, 1024


def visible_length(params: dict[str, Any], key: str) -> int:
    """Telegram's measure: UTF-16 code units of the text once its HTML is parsed."""
    text = str(params.get(key) or "")
    if params.get("parse_mode") == "HTML":
        text = html.unescape(re.sub(r"<[^>]*>", "", text))
    return len(text.encode("utf-16-le")) // 2


@dataclass
class Call:
    method: str
    params: dict[str, Any]


@dataclass
class Emulator:
    token: str = "999000:TEST-TOKEN"
    calls: list[Call] = field(default_factory=list)
    messages: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)
    failures: dict[str, list[tuple[int, str, dict[str, Any]]]] = field(default_factory=dict)
    webhook: dict[str, Any] | None = None
    _updates: list[dict[str, Any]] = field(default_factory=list)
    _new_update: asyncio.Event = field(default_factory=asyncio.Event)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    _update_ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    server: TestServer | None = None

    # -- server --------------------------------------------------------------------

    async def start(self) -> str:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._api)
        app.router.add_get("/file/bot{token}/{path:.*}", self._file)
        self.server = TestServer(app, host="127.0.0.1")
        await self.server.start_server()
        return self.base

    @property
    def base(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.port}"

    async def close(self) -> None:
        if self.server is not None:
            await self.server.close()

    # -- test controls ---------------------------------------------------------------

    def fail_next(self, method: str, status: int, description: str, **parameters: Any) -> None:
        """The next call of `method` gets this error (e.g. 429 with retry_after, 403)."""
        self.failures.setdefault(method, []).append((status, description, parameters))

    def push_update(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queues an update for getUpdates (polling); returns it with its update_id."""
        update = {"update_id": next(self._update_ids), **update}
        self._updates.append(update)
        self._new_update.set()
        return update

    def next_update_id(self) -> int:
        return next(self._update_ids)

    def sent(self, method: str | None = None, chat_id: int | None = None) -> list[Call]:
        return [
            c
            for c in self.calls
            if (method is None or c.method == method)
            and (chat_id is None or c.params.get("chat_id") == chat_id)
        ]

    def last_message(self, chat_id: int) -> dict[str, Any]:
        found = [m for (chat, _mid), m in self.messages.items() if chat == chat_id]
        return max(found, key=lambda m: m["message_id"])

    def texts(self, chat_id: int) -> list[str]:
        ids = sorted(mid for (chat, mid) in self.messages if chat == chat_id)
        return [
            self.messages[(chat_id, mid)].get("text")
            or self.messages[(chat_id, mid)].get("caption", "")
            for mid in ids
        ]

    def alerts(self) -> list[str]:
        return [c.params.get("text", "") for c in self.sent("answerCallbackQuery")]

    # -- the API ---------------------------------------------------------------------

    async def _params(self, request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            return dict(await request.json())
        params: dict[str, Any] = {}
        for key, value in (await request.post()).items():
            text = value if isinstance(value, str) else "<file>"
            if key in JSON_FIELDS or text[:1] in "{[":
                text = json.loads(text)
            params[key] = text
        for key in ("chat_id", "message_id", "offset", "timeout", "limit", "from_chat_id"):
            if key in params and str(params[key]).lstrip("-").isdigit():
                params[key] = int(params[key])
        return params

    async def _api(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return self._error(401, "Unauthorized")
        method = request.match_info["method"]
        params = await self._params(request)
        if method != "getUpdates":
            self.calls.append(Call(method, params))
        queued = self.failures.get(method)
        if queued:
            status, description, parameters = queued.pop(0)
            return self._error(status, description, parameters)
        if visible_length(params, "text") > TEXT_LIMIT:
            return self._error(400, "Bad Request: message is too long")
        if visible_length(params, "caption") > CAPTION_LIMIT:
            return self._error(400, "Bad Request: message caption is too long")
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return self._ok(True)
        return await handler(params)

    def _ok(self, result: Any) -> web.Response:
        return web.json_response({"ok": True, "result": result})

    def _error(
        self, status: int, description: str, parameters: dict[str, Any] | None = None
    ) -> web.Response:
        body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
        if parameters:
            body["parameters"] = parameters
        return web.json_response(body, status=status)

    def _message(self, params: dict[str, Any], **content: Any) -> dict[str, Any]:
        chat_id = params["chat_id"]
        message = {
            "message_id": next(self._ids),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "group", "title": "t"},
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "gridgov"},
            **content,
        }
        if params.get("reply_markup") and "inline_keyboard" in params["reply_markup"]:
            message["reply_markup"] = params["reply_markup"]
        self.messages[(chat_id, message["message_id"])] = message
        return message

    async def _m_getMe(self, params: dict[str, Any]) -> web.Response:
        return self._ok(
            {"id": BOT_ID, "is_bot": True, "first_name": "gridgov", "username": "gridgov_bot"}
        )

    async def _m_getUpdates(self, params: dict[str, Any]) -> web.Response:
        offset = params.get("offset", 0)
        deadline = time.monotonic() + min(float(params.get("timeout", 0)), 2.0)
        while True:
            ready = [u for u in self._updates if u["update_id"] >= offset]
            if ready or time.monotonic() >= deadline:
                return self._ok(ready)
            self._new_update.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new_update.wait(), deadline - time.monotonic())

    async def _m_setWebhook(self, params: dict[str, Any]) -> web.Response:
        self.webhook = params
        return self._ok(True)

    async def _m_deleteWebhook(self, params: dict[str, Any]) -> web.Response:
        self.webhook = None
        return self._ok(True)

    async def _m_sendMessage(self, params: dict[str, Any]) -> web.Response:
        return self._ok(self._message(params, text=params["text"]))

    async def _m_sendPhoto(self, params: dict[str, Any]) -> web.Response:
        photo = {"file_id": params["photo"], "file_unique_id": "u", "width": 800, "height": 600}
        return self._ok(self._message(params, photo=[photo], caption=params.get("caption", "")))

    async def _m_sendLocation(self, params: dict[str, Any]) -> web.Response:
        location = {"latitude": float(params["latitude"]), "longitude": float(params["longitude"])}
        return self._ok(self._message(params, location=location))

    def _existing(self, params: dict[str, Any]) -> dict[str, Any] | None:
        return self.messages.get((params["chat_id"], params["message_id"]))

    async def _edit(self, params: dict[str, Any], key: str, value: Any) -> web.Response:
        message = self._existing(params)
        if message is None:
            return self._error(400, "Bad Request: message to edit not found")
        markup = params.get("reply_markup")
        if message.get(key) == value and message.get("reply_markup") == markup:
            return self._error(400, "Bad Request: message is not modified")
        if key:
            message[key] = value
        if markup and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        else:
            message.pop("reply_markup", None)
        return self._ok(message)

    async def _m_editMessageText(self, params: dict[str, Any]) -> web.Response:
        return await self._edit(params, "text", params["text"])

    async def _m_editMessageCaption(self, params: dict[str, Any]) -> web.Response:
        return await self._edit(params, "caption", params.get("caption", ""))

    async def _m_editMessageReplyMarkup(self, params: dict[str, Any]) -> web.Response:
        message = self._existing(params)
        return (
            await self._edit(params, "", None)
            if message
            else self._error(400, "Bad Request: message to edit not found")
        )

    async def _m_getFile(self, params: dict[str, Any]) -> web.Response:
        file_id = params["file_id"]
        if file_id not in self.files:
            return self._error(400, "Bad Request: invalid file_id")
        return self._ok(
            {
                "file_id": file_id,
                "file_unique_id": f"u{file_id}",
                "file_size": len(self.files[file_id]),
                "file_path": f"photos/{file_id}.jpg",
            }
        )

    async def _file(self, request: web.Request) -> web.Response:
        name = request.match_info["path"].rsplit("/", 1)[-1].removesuffix(".jpg")
        if name not in self.files:
            return web.Response(status=404)
        return web.Response(body=self.files[name], content_type="image/jpeg")
