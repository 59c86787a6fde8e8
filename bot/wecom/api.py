"""The WeCom server API over aiohttp: the access token (cached, refreshed before its expiry and
when WeCom says it is invalid or expired), messages, template card updates, media and group
chats. WeCom answers HTTP 200 with an `errcode`; a non-zero one becomes `WecomError`."""

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp

TOKEN_INVALID = 40014
TOKEN_EXPIRED = 42001
SYSTEM_BUSY = -1
FREQUENCY_LIMIT = 45009
# Refresh this long before WeCom's stated expiry (7,200 s), so no call carries a dying token.
TOKEN_MARGIN_S = 300.0


class WecomError(Exception):
    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(f"WeCom error {errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg


@dataclass(frozen=True)
class Media:
    data: bytes
    content_type: str


class WecomApi:
    def __init__(
        self,
        base: str,
        corp_id: str,
        secret: str,
        agent_id: int,
        http: aiohttp.ClientSession | None = None,
        clock: Callable[[], float] = time.monotonic,
        timeout_s: float = 10.0,
    ) -> None:
        self.base = base.rstrip("/")
        self.corp_id = corp_id
        self._secret = secret
        self.agent_id = agent_id
        self._http = http
        self.clock = clock
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._token: str | None = None
        self._token_expires = 0.0
        self._token_lock = asyncio.Lock()

    @property
    def http(self) -> aiohttp.ClientSession:
        if self._http is None:
            self._http = aiohttp.ClientSession(timeout=self.timeout)
        return self._http

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()

    # -- token -------------------------------------------------------------------------

    async def token(self) -> str:
        if self._token and self.clock() < self._token_expires:
            return self._token
        async with self._token_lock:
            if self._token and self.clock() < self._token_expires:
                return self._token
            params = {"corpid": self.corp_id, "corpsecret": self._secret}
            async with self.http.get(f"{self.base}/cgi-bin/gettoken", params=params) as r:
                answer = _checked(await r.json(content_type=None))
            self._token = str(answer["access_token"])
            lifetime = float(answer.get("expires_in", 7200))
            self._token_expires = self.clock() + max(lifetime - TOKEN_MARGIN_S, lifetime / 2)
            return self._token

    def _forget_token(self, token: str) -> None:
        if self._token == token:
            self._token = None

    async def _call(
        self,
        method: str,
        path: str,
        *,
        json: dict[str, Any] | None = None,
        params: dict[str, str] | None = None,
        form: Callable[[], aiohttp.FormData] | None = None,
        raw: bool = False,
    ) -> Any:
        """One API call; a token WeCom calls invalid or expired is renewed and the call made
        once more (`form` builds a multipart body anew for each try)."""
        for attempt in (1, 2):
            token = await self.token()
            query = {"access_token": token, **(params or {})}
            async with self.http.request(
                method,
                f"{self.base}/cgi-bin/{path}",
                params=query,
                json=json,
                data=form() if form else None,
            ) as r:
                content_type = r.headers.get("Content-Type", "")
                if raw and "json" not in content_type and "text/plain" not in content_type:
                    return Media(await r.read(), content_type.split(";")[0])
                answer = await r.json(content_type=None)
            if answer.get("errcode") in (TOKEN_INVALID, TOKEN_EXPIRED) and attempt == 1:
                self._forget_token(token)
                continue
            return _checked(answer)
        raise AssertionError("unreachable")

    # -- messages ----------------------------------------------------------------------

    async def send_message(self, touser: str, msgtype: str, body: dict[str, Any]) -> dict[str, Any]:
        """`message/send` to members (`a|b|c`); returns WeCom's answer (msgid, response_code)."""
        payload = {"touser": touser, "msgtype": msgtype, "agentid": self.agent_id, msgtype: body}
        answer: dict[str, Any] = await self._call("POST", "message/send", json=payload)
        if answer.get("invaliduser"):
            raise WecomError(81013, f"invalid user {answer['invaliduser']}")
        return answer

    async def update_template_card(
        self, userids: list[str], response_code: str, change: dict[str, Any]
    ) -> None:
        """`change`: {"template_card": a whole new card} or {"button": {"replace_name": ..}}."""
        await self._call(
            "POST",
            "message/update_template_card",
            json={
                "userids": userids,
                "agentid": self.agent_id,
                "response_code": response_code,
                **change,
            },
        )

    async def create_appchat(
        self, name: str, owner: str, userlist: list[str], chatid: str | None = None
    ) -> str:
        """`appchat/create`: a group chat of 2-500 members of the address book, owned by
        `owner`; its chatid (WeCom makes one up unless `chatid` is given)."""
        payload: dict[str, Any] = {"name": name, "owner": owner, "userlist": userlist}
        if chatid is not None:
            payload["chatid"] = chatid
        answer = await self._call("POST", "appchat/create", json=payload)
        return str(answer["chatid"])

    async def send_appchat(self, chatid: str, msgtype: str, body: dict[str, Any]) -> None:
        await self._call(
            "POST", "appchat/send", json={"chatid": chatid, "msgtype": msgtype, msgtype: body}
        )

    # -- media -------------------------------------------------------------------------

    async def upload_image(self, data: bytes, filename: str, content_type: str) -> str:
        """`media/upload` of an image; its media_id (valid three days)."""

        def form() -> aiohttp.FormData:
            body = aiohttp.FormData()
            body.add_field("media", data, filename=filename, content_type=content_type)
            return body

        answer = await self._call("POST", "media/upload", params={"type": "image"}, form=form)
        return str(answer["media_id"])

    async def get_media(self, media_id: str) -> Media:
        """`media/get`: the file a member sent (WeCom keeps it three days)."""
        found = await self._call("GET", "media/get", params={"media_id": media_id}, raw=True)
        if not isinstance(found, Media):
            raise WecomError(-2, "media/get answered without a file")
        return found


def _checked(answer: dict[str, Any]) -> dict[str, Any]:
    code = int(answer.get("errcode", 0))
    if code != 0:
        raise WecomError(code, str(answer.get("errmsg", "")))
    return answer
