"""A local fake of the WeCom server API for the tests, over real HTTP (aiohttp on 127.0.0.1):
gettoken with expiry, message/send, message/update_template_card, media/upload, media/get,
appchat/create (checking its arguments as WeCom does) and appchat/send. It records every
call, can be told to answer the next call of a method with an errcode (40014, 42001, 45009,
-1 ...), and can expire its tokens at once.

`CallbackClient` plays WeCom's side of the callback URL: it builds real encrypted callbacks
with wechatpy's crypto and posts them to the app."""

import itertools
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import aiohttp
import xmltodict
from aiohttp import web
from aiohttp.test_utils import TestServer
from wechatpy.enterprise.crypto import WeChatCrypto

CORP_ID = "wwfakecorp0001"
SECRET = "fake-agent-secret"
AGENT_ID = 1000002
TOKEN = "callbacktoken"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"  # 43 characters


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    token: str


@dataclass
class FakeWecom:
    token_lifetime_s: int = 7200
    calls: list[Call] = field(default_factory=list)
    media: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    failures: dict[str, list[int]] = field(default_factory=dict)
    tokens: dict[str, float] = field(default_factory=dict)  # token -> expiry (monotonic)
    response_codes: dict[str, str] = field(default_factory=dict)  # unspent code -> userid
    # The corp's address book: appchat/create refuses other userids (None: anyone).
    address_book: set[str] | None = None
    chats: dict[str, dict[str, Any]] = field(default_factory=dict)  # chatid -> create's body
    server: TestServer | None = None
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    async def start(self) -> str:
        app = web.Application()
        app.router.add_get("/cgi-bin/gettoken", self._gettoken)
        app.router.add_post("/cgi-bin/message/send", self._api("message/send", self._send))
        app.router.add_post(
            "/cgi-bin/message/update_template_card",
            self._api("message/update_template_card", self._update_card),
        )
        app.router.add_post("/cgi-bin/media/upload", self._api("media/upload", self._upload))
        app.router.add_get("/cgi-bin/media/get", self._api("media/get", self._media_get))
        app.router.add_post(
            "/cgi-bin/appchat/create", self._api("appchat/create", self._create_chat)
        )
        app.router.add_post("/cgi-bin/appchat/send", self._api("appchat/send", self._ok))
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

    # -- test controls -----------------------------------------------------------------

    def fail_next(self, method: str, errcode: int) -> None:
        """The next call of `method` (e.g. "message/send") answers with this errcode."""
        self.failures.setdefault(method, []).append(errcode)

    def expire_tokens(self) -> None:
        """Every token issued so far expires now (WeCom answers 42001 to it)."""
        self.tokens = {t: 0.0 for t in self.tokens}

    def add_media(self, data: bytes, content_type: str = "image/jpeg") -> str:
        media_id = f"MEDIA{next(self._ids)}"
        self.media[media_id] = (data, content_type)
        return media_id

    def sent(self, method: str | None = None, to: str | None = None) -> list[Call]:
        return [
            c
            for c in self.calls
            if (method is None or c.method == method)
            and (to is None or to in (c.params.get("touser"), c.params.get("chatid")))
        ]

    def texts(self, to: str) -> list[str]:
        found = []
        for c in self.sent("message/send", to):
            body = c.params.get(c.params["msgtype"], {})
            if c.params["msgtype"] == "template_card":
                found.append(body["main_title"]["title"] + "\n" + body.get("sub_title_text", ""))
            elif "content" in body:
                found.append(body["content"])
        return found

    def cards(self, to: str) -> list[dict[str, Any]]:
        return [
            c.params["template_card"]
            for c in self.sent("message/send", to)
            if c.params["msgtype"] == "template_card"
        ]

    def card_code(self, userid: str, task_id: str) -> str:
        """A fresh response code, as WeCom puts into the callback of a press on a card."""
        code = f"RC-{uuid.uuid4().hex}"
        self.response_codes[code] = userid
        return code

    # -- the API -----------------------------------------------------------------------

    async def _gettoken(self, request: web.Request) -> web.Response:
        q = request.query
        self.calls.append(Call("gettoken", dict(q), ""))
        if q.get("corpid") != CORP_ID or q.get("corpsecret") != SECRET:
            return web.json_response({"errcode": 40001, "errmsg": "invalid credential"})
        token = f"TOKEN-{next(self._ids)}"
        self.tokens[token] = time.monotonic() + self.token_lifetime_s
        return web.json_response(
            {
                "errcode": 0,
                "errmsg": "ok",
                "access_token": token,
                "expires_in": self.token_lifetime_s,
            }
        )

    def _api(self, method: str, handler: Any) -> Any:
        async def handle(request: web.Request) -> web.StreamResponse:
            token = request.query.get("access_token", "")
            if token not in self.tokens:
                return web.json_response({"errcode": 40014, "errmsg": "invalid access_token"})
            if self.tokens[token] <= time.monotonic():
                return web.json_response({"errcode": 42001, "errmsg": "access_token expired"})
            if self.failures.get(method):
                errcode = self.failures[method].pop(0)
                self.calls.append(Call(method, {"failed": errcode}, token))
                return web.json_response({"errcode": errcode, "errmsg": "injected"})
            return await handler(request, token)

        return handle

    async def _send(self, request: web.Request, token: str) -> web.Response:
        params = await request.json()
        self.calls.append(Call("message/send", params, token))
        answer: dict[str, Any] = {"errcode": 0, "errmsg": "ok", "msgid": f"MSG{next(self._ids)}"}
        if params["msgtype"] == "template_card":
            code = f"RC-{uuid.uuid4().hex}"
            self.response_codes[code] = params["touser"]
            answer["response_code"] = code
        return web.json_response(answer)

    async def _update_card(self, request: web.Request, token: str) -> web.Response:
        params = await request.json()
        code = params.get("response_code", "")
        if code not in self.response_codes:
            return web.json_response({"errcode": 40058, "errmsg": "response_code used or unknown"})
        del self.response_codes[code]
        self.calls.append(Call("message/update_template_card", params, token))
        return web.json_response({"errcode": 0, "errmsg": "ok", "invaliduser": []})

    async def _upload(self, request: web.Request, token: str) -> web.Response:
        form = await request.post()
        media = form["media"]
        assert isinstance(media, web.FileField)
        data = media.file.read()
        media_id = self.add_media(data, media.content_type)
        self.calls.append(Call("media/upload", {"size": len(data)}, token))
        return web.json_response(
            {"errcode": 0, "errmsg": "ok", "type": "image", "media_id": media_id}
        )

    async def _media_get(self, request: web.Request, token: str) -> web.Response:
        media_id = request.query.get("media_id", "")
        self.calls.append(Call("media/get", {"media_id": media_id}, token))
        if media_id not in self.media:
            return web.json_response({"errcode": 40007, "errmsg": "invalid media_id"})
        data, content_type = self.media[media_id]
        return web.Response(body=data, content_type=content_type)

    async def _create_chat(self, request: web.Request, token: str) -> web.Response:
        """WeCom's checks, with its error codes: 86204 no members, 86006 fewer than 2 or more
        than 500, 86216 a userid not in the address book, 86207 an owner who is no member,
        86001/86205 a bad or too long chatid, 86215 a chatid taken."""
        params = await request.json()
        self.calls.append(Call("appchat/create", params, token))
        members = params.get("userlist") or []
        owner = params.get("owner") or (members[0] if members else "")
        chatid = params.get("chatid") or f"wr{uuid.uuid4().hex[:24]}"
        unknown = [
            m for m in members if self.address_book is not None and m not in self.address_book
        ]
        checks = [
            (not members, 86204, "userlist is required"),
            (not 2 <= len(set(members)) <= 500, 86006, "invalid chat member count"),
            (bool(unknown), 86216, f"invalid userid {unknown[:1]}"),
            (owner not in members, 86207, "owner not in userlist"),
            (len(chatid) > 32, 86205, "chatid too long"),
            (not re.fullmatch(r"[0-9A-Za-z]+", chatid), 86001, "invalid chatid"),
            (chatid in self.chats, 86215, "chatid exists"),
        ]
        refusal = next(((code, why) for failed, code, why in checks if failed), None)
        if refusal:
            return web.json_response({"errcode": refusal[0], "errmsg": refusal[1]})
        self.chats[chatid] = {
            "name": str(params.get("name", ""))[:50],
            "owner": owner,
            "userlist": members,
        }
        return web.json_response({"errcode": 0, "errmsg": "ok", "chatid": chatid})

    async def _ok(self, request: web.Request, token: str) -> web.Response:
        self.calls.append(Call("appchat/send", await request.json(), token))
        return web.json_response({"errcode": 0, "errmsg": "ok"})


class CallbackClient:
    """WeCom's side of the callback URL: encrypted, signed callbacks posted to the app."""

    def __init__(self, http: aiohttp.ClientSession, url: str) -> None:
        self.http = http
        self.url = url
        self.crypto = WeChatCrypto(TOKEN, AES_KEY, CORP_ID)
        self._msg_ids = itertools.count(int(time.time() * 1000))

    def encrypt(self, xml: str) -> tuple[bytes, dict[str, str]]:
        """The POST body and query WeCom would send for this plain callback XML."""
        nonce, timestamp = uuid.uuid4().hex[:10], str(int(time.time()))
        envelope = xmltodict.parse(self.crypto.encrypt_message(xml, nonce, timestamp))["xml"]
        body = (
            f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName>"
            f"<AgentID><![CDATA[{AGENT_ID}]]></AgentID>"
            f"<Encrypt><![CDATA[{envelope['Encrypt']}]]></Encrypt></xml>"
        )
        query = {"msg_signature": envelope["MsgSignature"], "timestamp": timestamp, "nonce": nonce}
        return body.encode(), query

    async def post_raw(self, body: bytes, query: dict[str, str]) -> int:
        async with self.http.post(f"{self.url}?{urlencode(query)}", data=body) as r:
            return r.status

    async def post(self, xml: str) -> int:
        return await self.post_raw(*self.encrypt(xml))

    async def verify_url(self, echo: str, signature: str | None = None) -> tuple[int, str]:
        nonce, timestamp = "n0nce", str(int(time.time()))
        envelope = xmltodict.parse(self.crypto.encrypt_message(echo, nonce, timestamp))["xml"]
        query = {
            "msg_signature": signature or envelope["MsgSignature"],
            "timestamp": timestamp,
            "nonce": nonce,
            "echostr": envelope["Encrypt"],
        }
        async with self.http.get(self.url, params=query) as r:
            return r.status, await r.text()

    # -- callbacks as WeCom writes them --------------------------------------------------

    def _head(self, user: str, msgtype: str, create_time: int | None = None) -> str:
        return (
            f"<ToUserName><![CDATA[{CORP_ID}]]></ToUserName>"
            f"<FromUserName><![CDATA[{user}]]></FromUserName>"
            f"<CreateTime>{create_time or int(time.time())}</CreateTime>"
            f"<MsgType><![CDATA[{msgtype}]]></MsgType><AgentID>{AGENT_ID}</AgentID>"
        )

    def _message(self, user: str, msgtype: str, body: str, msg_id: int | None) -> str:
        msg_id = next(self._msg_ids) if msg_id is None else msg_id
        return f"<xml>{self._head(user, msgtype)}{body}<MsgId>{msg_id}</MsgId></xml>"

    def text(self, user: str, content: str, msg_id: int | None = None) -> str:
        return self._message(user, "text", f"<Content><![CDATA[{content}]]></Content>", msg_id)

    def image(self, user: str, media_id: str, msg_id: int | None = None) -> str:
        body = (
            "<PicUrl><![CDATA[http://example.invalid/p.jpg]]></PicUrl>"
            f"<MediaId><![CDATA[{media_id}]]></MediaId>"
        )
        return self._message(user, "image", body, msg_id)

    def location(
        self, user: str, lon: float, lat: float, label: str = "", msg_id: int | None = None
    ) -> str:
        body = (
            f"<Location_X>{lat}</Location_X><Location_Y>{lon}</Location_Y><Scale>15</Scale>"
            f"<Label><![CDATA[{label}]]></Label>"
        )
        return self._message(user, "location", body, msg_id)

    def voice(self, user: str, msg_id: int | None = None) -> str:
        body = "<MediaId><![CDATA[VOICE1]]></MediaId><Format><![CDATA[amr]]></Format>"
        return self._message(user, "voice", body, msg_id)

    def event(self, user: str, event: str, create_time: int | None = None, **fields: str) -> str:
        head = self._head(user, "event", create_time)
        extra = "".join(f"<{k}><![CDATA[{v}]]></{k}>" for k, v in fields.items())
        return f"<xml>{head}<Event><![CDATA[{event}]]></Event>{extra}</xml>"

    def card_press(self, user: str, key: str, task_id: str, response_code: str) -> str:
        return self.event(
            user,
            "template_card_event",
            EventKey=key,
            TaskId=task_id,
            CardType="button_interaction",
            ResponseCode=response_code,
        )
