"""The load generator for the benchmarks against whole `gridgov serve` processes, run as its
own process (`python -m bench.serve_load`), so the servers' CPU is not shared with the
client's event loop in one process.

It also plays the Telegram Bot API and the WeCom API (lean bench stand-ins of
tests/bot/emulator.py and tests/wecom/fake_server.py: every call answers OK, nothing is kept)
and notes when the app's answer to each update arrives. On start it prints one JSON line,
`{"emulator": BASE_URL}` (both APIs live there: `/bot{token}/…` and `/cgi-bin/…`); then for
each JSON line on stdin (a run) it sends the requests and prints one JSON line of results. A run
is

    {"kind": "open311", "url": URL, "clients": N, "requests": [FORM, ...]}
    {"kind": "telegram", "url": URL, "secret": S, "clients": N, "updates": [UPDATE, ...]}
    {"kind": "wecom", "url": URL, "clients": N, "updates": [CALLBACK, ...]}

where a CALLBACK is `{"user": USERID, "query": {...}, "body": ENCRYPTED_XML}`, encrypted and
signed beforehand as WeCom's servers would send it. Open311 POSTs are timed to their
response. A chat update is timed from the POST to the app's first API call about it:
`answerCallbackQuery` for a Telegram button press, any call naming the chat for a Telegram
message, `message/send` to the member for a WeCom callback (both webhooks answer before the
update is handled). Each client sends its next request when the previous one is answered."""

import asyncio
import json
import sys
import time
from typing import Any

import aiohttp
from aiohttp import web

TOKEN = "999000:BENCH-TOKEN"
BOT = {"id": 999000, "is_bot": True, "first_name": "gridgov", "username": "gridgov_bot"}
ANSWER_TIMEOUT_S = 30.0


class BotApi:
    """Answers the bot's calls and resolves the waiters of the updates they answer."""

    def __init__(self) -> None:
        self.waiting: dict[str, asyncio.Future[float]] = {}
        self.message_ids = iter(range(1, 10**9))

    def expect(self, key: str) -> asyncio.Future[float]:
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.waiting[key] = future
        return future

    def _arrived(self, key: str) -> None:
        future = self.waiting.pop(key, None)
        if future is not None and not future.done():
            future.set_result(time.perf_counter())

    async def handle(self, request: web.Request) -> web.Response:
        if request.content_type == "application/json":
            params = dict(await request.json())
        else:
            params = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
        method = request.match_info["method"]
        if "callback_query_id" in params:
            self._arrived(f"cb:{params['callback_query_id']}")
        if "chat_id" in params:
            self._arrived(f"chat:{params['chat_id']}")
        if method == "getMe":
            return web.json_response({"ok": True, "result": BOT})
        if method.startswith(("send", "edit")) and "chat_id" in params:
            chat_id = int(params["chat_id"])
            kind = "private" if chat_id > 0 else "group"
            message = {
                "message_id": next(self.message_ids),
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": kind, "title": "bench"},
                "from": BOT,
                "text": str(params.get("text", "")),
            }
            return web.json_response({"ok": True, "result": message})
        return web.json_response({"ok": True, "result": True})

    async def wecom(self, request: web.Request) -> web.Response:
        """WeCom's API: a token, and OK for every call; a message to a member answers the
        waiter of that member's callback."""
        if request.match_info["method"] == "gettoken":
            return web.json_response({"errcode": 0, "access_token": "bench", "expires_in": 7200})
        params = await request.json() if request.content_type == "application/json" else {}
        if "touser" in params:
            self._arrived(f"wecom:{params['touser']}")
        return web.json_response({"errcode": 0, "errmsg": "ok", "msgid": "bench", "media_id": "m"})


def _answer_key(update: dict[str, Any]) -> str:
    if "callback_query" in update:
        return f"cb:{update['callback_query']['id']}"
    return f"chat:{update['message']['chat']['id']}"


async def _closed_loop(clients: int, items: list[Any], send: Any) -> dict[str, Any]:
    queue = iter(items)
    latencies: list[float] = []
    errors: list[str] = []

    async def client() -> None:
        for item in queue:
            try:
                latencies.append(await send(item))
            except Exception as exc:  # counted and reported: the run goes on
                errors.append(f"{type(exc).__name__}: {exc}"[:200])

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    seconds = time.perf_counter() - started
    return {"n": len(latencies), "seconds": seconds, "latencies": latencies, "errors": errors}


async def open311(http: aiohttp.ClientSession, run: dict[str, Any]) -> dict[str, Any]:
    async def send(form: dict[str, str]) -> float:
        started = time.perf_counter()
        async with http.post(run["url"], data=form) as response:
            body = await response.read()
            if response.status != 200:
                raise RuntimeError(f"HTTP {response.status}: {body[:120]!r}")
        return time.perf_counter() - started

    return await _closed_loop(run["clients"], run["requests"], send)


async def telegram(http: aiohttp.ClientSession, api: BotApi, run: dict[str, Any]) -> dict:
    headers = {"X-Telegram-Bot-Api-Secret-Token": run["secret"]}

    async def send(update: dict[str, Any]) -> float:
        answered = api.expect(_answer_key(update))
        started = time.perf_counter()
        async with http.post(run["url"], json=update, headers=headers) as response:
            await response.read()
            if response.status != 200:
                raise RuntimeError(f"HTTP {response.status}")
        return await asyncio.wait_for(answered, ANSWER_TIMEOUT_S) - started

    return await _closed_loop(run["clients"], run["updates"], send)


async def wecom(http: aiohttp.ClientSession, api: BotApi, run: dict[str, Any]) -> dict:
    async def send(callback: dict[str, Any]) -> float:
        answered = api.expect(f"wecom:{callback['user']}")
        started = time.perf_counter()
        async with http.post(
            run["url"], params=callback["query"], data=callback["body"].encode()
        ) as response:
            await response.read()
            if response.status != 200:
                raise RuntimeError(f"HTTP {response.status}")
        return await asyncio.wait_for(answered, ANSWER_TIMEOUT_S) - started

    return await _closed_loop(run["clients"], run["updates"], send)


RUNS = {"telegram": telegram, "wecom": wecom}


async def main() -> None:
    api = BotApi()
    app = web.Application()
    app.router.add_route("*", "/bot{token}/{method}", api.handle)
    app.router.add_route("*", "/cgi-bin/{method:.+}", api.wecom)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    print(json.dumps({"emulator": f"http://127.0.0.1:{port}"}), flush=True)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=2**26)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as http:
        while line := await reader.readline():
            run = json.loads(line)
            if run["kind"] == "open311":
                result = await open311(http, run)
            else:
                result = await RUNS[run["kind"]](http, api, run)
            print(json.dumps(result), flush=True)
    await runner.cleanup()


if __name__ == "__main__":
    asyncio.run(main())
