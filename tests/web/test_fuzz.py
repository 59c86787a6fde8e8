"""Generated requests (hypothesis) against the whole web app served over real HTTP: Open311
(JSON, XML, form, multipart; GET and POST), the console (GET and POST, logged in as each
role) and the Telegram webhook with the right secret. Not one may be answered 5xx.

`make test` runs the "ci" profile (a fixed seed, a few hundred requests); `make fuzz` runs
the "fuzz" profile (GRIDGOV_FUZZ_EXAMPLES per test, 3,400 by default: over 10,000 in all).
The server runs on its own event loop in a thread, so that hypothesis drives it from plain
synchronous tests and can shrink a failure to its smallest request."""

import asyncio
import http.client
import json
import os
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import update

from bot.telegram.webhook import add_webhook_route
from dispatch.accounts import hash_password
from dispatch.registration import create_api_key
from gridgov.app import App
from gridgov.settings import Settings
from models import Person
from models.db import create_engine, create_session_factory
from tests.bot.emulator import Emulator
from tests.conftest import _truncate_all
from tests.dispatch.world import INSIDE_A1, build_world
from tests.web.conftest import PASSWORD
from tests.web.helpers import picture
from web.app import create_web_app

SECRET = "fuzz-webhook-secret"
WEBHOOK = "/telegram/webhook"
ROLES = ("hw1", "dispatcher", "sup_county", "admin", "worker")

settings.register_profile(
    "ci",
    max_examples=120,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.register_profile(
    "fuzz",
    max_examples=int(os.environ.get("GRIDGOV_FUZZ_EXAMPLES", "3400")),
    derandomize=False,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
pytestmark = pytest.mark.timeout(3600)  # `make fuzz` sends thousands of requests per test


@dataclass
class Live:
    """The server on its own loop and thread; what the generated requests need to know."""

    port: int
    api_key: str
    cookies: dict[str, str] = field(default_factory=dict)  # role -> session cookie
    csrf: dict[str, str] = field(default_factory=dict)  # role -> its CSRF token
    case_numbers: list[str] = field(default_factory=list)
    answered: int = 0

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            data = response.read()
        finally:
            conn.close()
        self.answered += 1
        return response.status, data


async def _serve(
    engine_url: str, media_dir: Path, ready: "asyncio.Future[Live]", stop: asyncio.Event
) -> None:
    engine = create_engine(engine_url)
    await _truncate_all(engine)
    world = await build_world(engine)
    sessions = create_session_factory(engine)
    async with sessions() as session, session.begin():
        await session.execute(update(Person).values(password_hash=hash_password(PASSWORD)))
        key = await create_api_key(session, "fuzz", world.clock())
    case = (await world.casework.intake.report(world.draft())).case
    emulator = Emulator()
    await emulator.start()
    app_settings = Settings(
        telegram_token=emulator.token,
        telegram_api_base=emulator.base,
        webhook_secret=SECRET,
        telegram_mode="webhook",
        public_url="http://gridgov.test",
        media_dir=media_dir,
    )
    app = App(app_settings, engine, sessions, world.casework, {})
    await app.start_conversation()
    webapp = create_web_app(app.web_context())
    bot, dp = app.telegram_bot()
    add_webhook_route(webapp, bot, dp, sessions, SECRET, path=WEBHOOK, handle_in_background=False)
    runner = web.AppRunner(webapp, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    ready.set_result(Live(port, key, case_numbers=[case.number]))
    await stop.wait()
    await runner.cleanup()
    await bot.session.close()
    await emulator.close()
    await engine.dispose()


def _log_in(live: Live, who: str) -> None:
    """Logs in over HTTP, keeping the session cookie and the CSRF token of the role."""
    conn = http.client.HTTPConnection("127.0.0.1", live.port, timeout=60)

    def call(method: str, path: str, body: str | None, headers: dict[str, str]) -> Any:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        response.body = response.read()
        return response

    page = call("GET", "/console/login", None, {})
    login_cookie = page.getheader("Set-Cookie", "").split(";")[0]
    token = re.search(rb'name="csrf_token" value="([^"]+)"', page.body)
    assert token
    form = urlencode({"username": who, "password": PASSWORD, "csrf_token": token.group(1)})
    form_type = "application/x-www-form-urlencoded"
    answer = call(
        "POST", "/console/login", form, {"Content-Type": form_type, "Cookie": login_cookie}
    )
    assert answer.status == 303, (who, answer.status)
    cookies = answer.headers.get_all("Set-Cookie") or []
    session = next(c.split(";")[0] for c in cookies if c.startswith("gridgov_session="))
    page = call("GET", "/console/cases", None, {"Cookie": session})
    conn.close()
    csrf = re.search(rb'name="csrf_token" value="([^"]+)"', page.body)
    assert csrf, who
    live.cookies[who] = session
    live.csrf[who] = csrf.group(1).decode()


@pytest.fixture(scope="module")
def live(pg_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """One server for the module: it empties the database and builds its county on its own
    loop and thread."""
    tmp_path = tmp_path_factory.mktemp("fuzz-media")
    loop = asyncio.new_event_loop()
    ready: asyncio.Future[Live] = loop.create_future()
    stop = asyncio.Event()
    thread = threading.Thread(
        target=loop.run_until_complete, args=(_serve(pg_url, tmp_path, ready, stop),)
    )
    thread.start()
    try:
        live = asyncio.run_coroutine_threadsafe(_wait(ready), loop).result(timeout=120)
        for who in ROLES:
            _log_in(live, who)
        yield live
        print(f"\nfuzz: {live.answered} requests answered, none with a 5xx")
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=60)
        loop.close()


async def _wait(ready: "asyncio.Future[Live]") -> Live:
    return await ready


@pytest.fixture(autouse=True)
def no_tracebacks(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    yield
    traces = [r.getMessage() for r in caplog.records if r.exc_info and r.name != "gridgov.bot"]
    assert not traces, traces[:3]


# -- what the requests are made of -----------------------------------------------------------

NASTY = [
    "",
    "\x00",
    "a\x00b",
    "9999-12-31T23:59:59",
    "0001-01-01T00:00:00+14:00",
    "0001-01-01",
    "9999-12-31",
    "2026-02-30",
    "99999999999999999999",
    "-99999999999999999999",
    "-1",
    "0",
    "1e309",
    "NaN",
    "inf",
    "' OR 1=1 --",
    "<script>alert(1)</script>",
    "../../../../etc/passwd",
    "%ff%fe",
    "x" * 5000,
    "0102",
    "open",
    "closed",
    "en",
    "zh_CN",
    str(INSIDE_A1[0]),
    str(INSIDE_A1[1]),
]
text = st.one_of(st.sampled_from(NASTY), st.text(max_size=30))
OPEN311_FIELDS = [
    "api_key",
    "service_code",
    "lat",
    "long",
    "description",
    "address_string",
    "email",
    "phone",
    "first_name",
    "last_name",
    "device_id",
    "account_id",
    "media_url",
    "attribute[amount]",
    "jurisdiction_id",
    "start_date",
    "end_date",
    "status",
    "service_request_id",
    "locale",
]
CONSOLE_FIELDS = [
    "action",
    "version",
    "note",
    "department_id",
    "until",
    "into",
    "q",
    "page",
    "name",
    "person_id",
    "code",
    "day",
    "kind",
    "category_code",
    "area_code",
    "limit_value",
    "limit_unit",
    "active",
    "chat_kind",
    "chat_id",
    "userid",
    "title",
    "start",
    "end",
    "dimension",
    "light",
    "status",
    "to",
]
CHARSETS = [None, "utf-8", "foo", "latin-1", "utf-16", ""]


def _encode(value: str) -> str:
    return quote(value.encode("utf-8", "surrogatepass"), safe="")


def _query(pairs: list[tuple[str, str]]) -> str:
    return "&".join(f"{_encode(k)}={_encode(v)}" for k, v in pairs)


fields_of = lambda names: st.lists(  # noqa: E731
    st.tuples(st.one_of(st.sampled_from(names), st.text(max_size=12)), text), max_size=8
)


@st.composite
def bodies(draw: st.DrawFn, names: list[str], key: str | None) -> tuple[bytes, dict[str, str]]:
    """A body in one of the encodings a client might send (or get wrong)."""
    pairs = draw(fields_of(names))
    if key is not None:
        pairs.insert(draw(st.integers(0, len(pairs))), ("api_key", key))
    kind = draw(st.sampled_from(["form", "multipart", "json", "xml", "raw", "none"]))
    charset = draw(st.sampled_from(CHARSETS))
    suffix = f"; charset={charset}" if charset is not None else ""
    if kind == "form":
        return _query(pairs).encode(), {
            "Content-Type": "application/x-www-form-urlencoded" + suffix
        }
    if kind == "multipart":
        boundary = draw(st.sampled_from(["b0undary", ""]))
        parts = [
            f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode(
                "utf-8", "surrogatepass"
            )
            for k, v in pairs
        ]
        if draw(st.booleans()):
            media = draw(
                st.sampled_from(
                    [picture("PNG"), picture("JPEG") + b"<html>", b"\xff\xd8\xff<x>", b""]
                )
            )
            name = draw(st.sampled_from(["media", "photo", "file"]))
            head = (
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}";'
                ' filename="p.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'
            )
            parts.append(head.encode() + media + b"\r\n")
        body = b"".join(parts) + (f"--{boundary}--\r\n".encode() if draw(st.booleans()) else b"")
        header = "multipart/form-data" + (f"; boundary={boundary}" if boundary else "")
        return body, {"Content-Type": header + suffix}
    if kind == "json":
        return json.dumps(dict(pairs)).encode(), {"Content-Type": "application/json" + suffix}
    if kind == "xml":
        inner = "".join(f"<{k}>{v}</{k}>" for k, v in pairs if re.fullmatch(r"[a-z_]+", k))
        return f"<request>{inner}</request>".encode("utf-8", "surrogatepass"), {
            "Content-Type": "text/xml" + suffix
        }
    if kind == "raw":
        return draw(st.binary(max_size=300)), {
            "Content-Type": draw(st.sampled_from(["", "application/octet-stream", "text/plain"]))
            + suffix
        }
    return b"", {}


segment = st.one_of(
    st.sampled_from(
        ["1", "%00", "0102", "x.y", "%ff", "..", "99999999999999999999", "20261123000001"]
    ),
    st.text(
        alphabet=st.characters(codec="ascii", exclude_characters="/?#"), min_size=1, max_size=12
    ).map(_encode),
)


@st.composite
def open311_requests(draw: st.DrawFn, live: Live) -> tuple[str, str, bytes, dict[str, str]]:
    fmt = draw(st.sampled_from(["json", "xml", "json", "xml", "html"]))
    resource = draw(
        st.sampled_from(
            ["discovery", "services", "services/{}", "requests", "requests/{}", "tokens/{}"]
        )
    )
    if "{}" in resource:
        resource = resource.format(draw(st.one_of(segment, st.sampled_from(live.case_numbers))))
    query = _query(draw(fields_of(OPEN311_FIELDS)))
    path = f"/open311/v2/{resource}.{fmt}" + (f"?{query}" if query else "")
    if resource == "requests" and draw(st.booleans()):
        key = draw(st.sampled_from([live.api_key, live.api_key, "wrong", None]))
        body, headers = draw(bodies(OPEN311_FIELDS, key))
        if draw(st.booleans()):
            headers["Idempotency-Key"] = draw(st.sampled_from(["k1", "k2", "a b", "x" * 300]))
        return "POST", path, body, headers
    return "GET", path, b"", {}


CONSOLE_GET = [
    "/console/",
    "/console/cases",
    "/console/cases/{}",
    "/console/queue",
    "/console/dashboard",
    "/console/dashboard.csv",
    "/console/map.json",
    "/console/grids.geojson",
    "/console/admin",
    "/console/admin/categories",
    "/console/admin/categories/{}",
    "/console/admin/routing",
    "/console/admin/calendar",
    "/console/admin/chats",
    "/console/admin/outbox",
    "/console/admin/grids",
    "/console/media/{}",
    "/console/lang",
]
CONSOLE_POST = [
    "/console/cases/{}/act",
    "/console/admin/apikeys",
    "/console/admin/apikeys/{}/revoke",
    "/console/admin/invites",
    "/console/admin/categories/{}",
    "/console/admin/routing",
    "/console/admin/routing/{}/delete",
    "/console/admin/calendar",
    "/console/admin/calendar/{}/delete",
    "/console/admin/chats/invites",
    "/console/admin/chats/{}/delete",
    "/console/admin/chats/wecom/create",
    "/console/admin/chats/wecom/bind",
    "/console/admin/people/{}/wecom",
    "/console/admin/people/{}/wecom/delete",
    "/console/admin/outbox/{}/retry",
    "/console/admin/grids",
]


@st.composite
def console_requests(draw: st.DrawFn, live: Live) -> tuple[str, str, bytes, dict[str, str]]:
    who = draw(st.sampled_from(ROLES))
    cookie = {"Cookie": live.cookies[who]}
    any_segment = st.one_of(segment, st.sampled_from([*live.case_numbers, "0102", "2026-10-01"]))
    if draw(st.booleans()):
        path = draw(st.sampled_from(CONSOLE_GET))
        path = path.format(draw(any_segment)) if "{}" in path else path
        query = _query(draw(fields_of(CONSOLE_FIELDS)))
        return "GET", path + (f"?{query}" if query else ""), b"", cookie
    path = draw(st.sampled_from(CONSOLE_POST))
    path = path.format(draw(any_segment)) if "{}" in path else path
    csrf = draw(st.sampled_from([live.csrf[who], live.csrf[who], "wrong"]))
    body, headers = draw(bodies([*CONSOLE_FIELDS, "csrf_token"], None))
    if headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
        body = body + b"&csrf_token=" + csrf.encode()
    return "POST", path, body, {**headers, **cookie}


@st.composite
def webhook_requests(draw: st.DrawFn) -> tuple[str, str, bytes, dict[str, str]]:
    update: Any = draw(
        st.one_of(
            st.fixed_dictionaries(
                {
                    "update_id": st.integers(-(2**63), 2**63),
                    "message": st.fixed_dictionaries(
                        {
                            "message_id": st.integers(0, 2**31),
                            "date": st.integers(-(2**40), 2**40),
                            "chat": st.fixed_dictionaries(
                                {
                                    "id": st.integers(-(2**52), 2**52),
                                    "type": st.sampled_from(["private", "group", "x"]),
                                }
                            ),
                            "from": st.fixed_dictionaries(
                                {
                                    "id": st.integers(1, 2**52),
                                    "is_bot": st.booleans(),
                                    "first_name": text,
                                }
                            ),
                            "text": text,
                        }
                    ),
                }
            ),
            st.dictionaries(st.text(max_size=10), st.integers() | st.text(max_size=10), max_size=4),
            st.lists(st.integers(), max_size=3),
        )
    )
    body = draw(st.one_of(st.just(json.dumps(update).encode()), st.binary(max_size=200)))
    return (
        "POST",
        WEBHOOK,
        body,
        {
            "Content-Type": "application/json",
            "X-Telegram-Bot-Api-Secret-Token": SECRET,
        },
    )


def _check(live: Live, request: tuple[str, str, bytes, dict[str, str]]) -> None:
    method, path, body, headers = request
    status, answer = live.request(method, path, body or None, headers)
    assert status < 500, (status, method, path, body[:300], answer[:300])


def test_open311_never_answers_5xx(live: Live) -> None:
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        _check(live, data.draw(open311_requests(live)))

    run()


def test_console_never_answers_5xx(live: Live) -> None:
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        _check(live, data.draw(console_requests(live)))

    run()


def test_webhook_never_answers_5xx(live: Live) -> None:
    @given(request=webhook_requests())
    def run(request: tuple[str, str, bytes, dict[str, str]]) -> None:
        _check(live, request)

    run()
