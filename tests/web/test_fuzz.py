"""Generated requests (hypothesis) against the whole web app served over real HTTP: Open311
(JSON, XML, form, multipart; GET and POST), the console (GET and POST, logged in as each
role, the supervision pages and the web chat included), the public page and the citizens'
follow-up links, the Telegram webhook with the right secret, and the WeCom callback (sealed
callbacks with generated XML, forgeries, garbage; tests/web/fuzz_wecom.py). Not one may be
answered 5xx, and nothing the request set off, the chat handling included, may log a traceback
or fail an inbound update.

`make test` runs the "ci" profile (a fixed seed, a few hundred requests); `make fuzz` runs
the "fuzz" profile (GRIDGOV_FUZZ_EXAMPLES per test, 3,400 by default: over 10,000 in all).
The server runs on its own event loop in a thread, so that hypothesis drives it from plain
synchronous tests and can shrink a failure to its smallest request."""

import asyncio
import functools
import http.client
import json
import logging
import os
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update

from bot.telegram.webhook import add_webhook_route
from dispatch.accounts import hash_password
from dispatch.core.lifecycle import Action
from dispatch.registration import create_api_key, link_chat_identity
from dispatch.supervision.followup import link_tokens
from gridgov.app import App
from gridgov.settings import Settings
from models import Person, RectificationNotice
from models.db import create_engine, create_session_factory
from models.enums import CaseSource
from tests.bot.emulator import Emulator
from tests.conftest import _truncate_all
from tests.dispatch.supervision_helpers import all_pass, at, closed_case, with_checklist
from tests.dispatch.world import INSIDE_A1, World, build_world
from tests.web.conftest import PASSWORD
from tests.web.fuzz_wecom import REPORT_WALK, walk_step, wecom_requests
from tests.web.helpers import picture
from tests.wecom.fake_server import AES_KEY, AGENT_ID, CORP_ID, FakeWecom
from tests.wecom.fake_server import SECRET as WECOM_SECRET
from tests.wecom.fake_server import TOKEN as WECOM_TOKEN
from tests.wecom.harness import USERIDS
from web.app import create_web_app

SECRET = "fuzz-webhook-secret"
WEBHOOK = "/telegram/webhook"
ROLES = ("hw1", "dispatcher", "sup_county", "sup_comm", "admin", "worker")

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


class Failures(logging.Handler):
    """What no request may make the server log: a traceback, or a chat update whose handling
    failed (bot.inbound logs that in one line, without one)."""

    def __init__(self) -> None:
        super().__init__(logging.NOTSET)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if is_failure(record):
            self.records.append(record)


def is_failure(record: logging.LogRecord) -> bool:
    failed_update = record.name.startswith("gridgov.inbound") and record.levelno >= logging.ERROR
    return bool(record.exc_info) or failed_update


@dataclass
class Live:
    """The server on its own loop and thread; what the generated requests need to know."""

    port: int
    api_key: str
    cookies: dict[str, str] = field(default_factory=dict)  # role -> session cookie
    csrf: dict[str, str] = field(default_factory=dict)  # role -> its CSRF token
    case_numbers: list[str] = field(default_factory=list)
    notice_ids: list[str] = field(default_factory=list)
    followup_tokens: list[str] = field(default_factory=list)
    wecom_users: list[str] = field(default_factory=list)
    wecom_media: list[str] = field(default_factory=list)
    # Waits for the background work a request set off (the WeCom callback's handling).
    settle: Callable[[], None] = lambda: None
    # The keys of the buttons on the last WeCom cards the app sent to a member.
    wecom_buttons: Callable[[str], list[str]] = lambda user: []
    failures: Failures = field(default_factory=Failures)
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


async def _supervised(world: World, app: App) -> tuple[list[str], list[str], list[str]]:
    """Closed cases, a failed review with its rectification notice, and closed hotline cases
    with their follow-up links: the case numbers, the notice ids and the link tokens."""
    d, p = world.casework, world.people
    await with_checklist(world, app.supervision)
    reviewed = await closed_case(world, 23)
    open_case = (await d.intake.report(world.draft())).case
    world.clock.now = at(24, 9)
    await app.supervision.reviews.review(
        p["sup_comm"], reviewed.id, all_pass(photos="缺少处置后照片"), "复查"
    )
    numbers = [reviewed.number or "", open_case.number or ""]
    for n in range(3):
        world.clock.now = at(24, 10 + n)
        draft = world.draft("", source=CaseSource.HOTLINE, reporter_contact={"phone": "138"})
        case = (await d.intake.report(draft)).case
        await d.steps.act(Action.FILE, case.id, p["dispatcher"])
        await d.steps.act(Action.DISPATCH, case.id, p["dispatcher"])
        await d.steps.act(Action.ACCEPT, case.id, p["hw1"])
        await d.steps.act(Action.RESOLVE, case.id, p["hw1"], "已清理")
        await d.steps.act(Action.VERIFY, case.id, p["dispatcher"])
        numbers.append(case.number or "")
    world.clock.now = at(26, 10)
    async with app.sessions() as session:
        notices = [str(i) for i in await session.scalars(select(RectificationNotice.id))]
        tokens = list((await link_tokens(session, numbers)).values())
    return numbers, notices, tokens


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
        for who, userid in USERIDS.items():  # members on WeCom, everyone else a stranger
            await link_chat_identity(session, world.people[who], "wecom", userid, world.clock())
    emulator, wecom = Emulator(), FakeWecom()
    await emulator.start()
    await wecom.start()
    media = [
        wecom.add_media(picture("JPEG")),
        wecom.add_media(b"<html>not a picture</html>", "text/html"),
        wecom.add_media(b"", "image/png"),
        "MEDIA-MISSING",
    ]
    app_settings = Settings(
        wecom_corp_id=CORP_ID,
        wecom_agent_id=AGENT_ID,
        wecom_secret=WECOM_SECRET,
        wecom_token=WECOM_TOKEN,
        wecom_aes_key=AES_KEY,
        wecom_api_base=wecom.base,
        media_dir=media_dir,
        telegram_token=emulator.token,
        telegram_api_base=emulator.base,
        webhook_secret=SECRET,
        telegram_mode="webhook",
        public_url="http://gridgov.test",
        public_page=True,
        public_requests_per_minute=1_000_000,
    )
    app = App(app_settings, engine, sessions, world.casework, {})
    numbers, notices, tokens = await _supervised(world, app)
    await app.start_conversation()
    webapp = create_web_app(app.web_context())
    bot, dp = app.telegram_bot()
    add_webhook_route(webapp, bot, dp, sessions, SECRET, path=WEBHOOK, handle_in_background=False)
    runtime = app.wecom(webapp)
    runner = web.AppRunner(webapp, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    loop = asyncio.get_running_loop()

    def settle() -> None:
        asyncio.run_coroutine_threadsafe(runtime.queue.drain(), loop).result(timeout=120)

    def buttons(user: str) -> list[str]:
        cards = [_card_buttons(c.params) for c in wecom.sent("message/send", user)]
        return [b["key"] for buttons in [c for c in cards if c][-2:] for b in buttons]

    ready.set_result(
        Live(
            port,
            key,
            case_numbers=numbers,
            notice_ids=notices,
            followup_tokens=tokens,
            wecom_users=list(USERIDS.values()),
            wecom_media=media,
            settle=settle,
            wecom_buttons=buttons,
        )
    )
    await stop.wait()
    await runner.cleanup()
    await runtime.close()
    await bot.session.close()
    await emulator.close()
    await wecom.close()
    await engine.dispose()


def _card_buttons(params: dict[str, Any]) -> list[dict[str, Any]]:
    card = params.get("template_card") if params.get("msgtype") == "template_card" else None
    return list(card.get("button_list", [])) if card else []


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
        logging.getLogger().addHandler(live.failures)
        try:
            yield live
        finally:
            logging.getLogger().removeHandler(live.failures)
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
    traces = [r.getMessage() for r in caplog.records if is_failure(r)]
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
    # the supervision pages
    "month",
    "per_office",
    "all",
    "category",
    "note_photos",
    "item_photos",
    "item_in_time",
    "name_zh",
    "name_en",
    "weight",
    "position",
    "filing",
    "closing",
    "public_description",
    "satisfaction",
    "reopen",
    "level",
    "valid_from",
    "terms",
    # the web chat
    "as",
    "kind",
    "text",
    "lon",
    "lat",
    "data",
    "message_id",
]
# Values that lead past the first check of a form, drawn for their field half of the time.
FIELD_VALUES = {
    "month": ["2026-11", "2026-10", "2026-13", "0000-01", "9999-12"],
    "per_office": ["3", "0", "-1", "1000000"],
    "all": ["1"],
    "category": ["0102", "0101", "9999"],
    "item_photos": ["pass", "fail"],
    "item_in_time": ["pass", "fail"],
    "weight": ["10", "0", "-5", "1e9"],
    "filing": ["现场照片 | Photo on site", " | ", "|\n|", "a" * 3000],
    "closing": ["处置后照片", "\n\n"],
    "public_description": ["on"],
    "satisfaction": ["satisfied", "basically_satisfied", "dissatisfied"],
    "reopen": ["on"],
    "active": ["on"],
    "level": ["office", "community", "town", "grid_worker"],
    "valid_from": ["2026-11", "2026-12", "2026-13"],
    "terms": ["on_time 40 0.95\nclosure 60", "on_time 1e309", "on_time nan 1", "nope 1", "x"],
    "as": [str(n) for n in range(1, 16)],
    "kind": ["text", "location", "press", "photo", "voice"],
    "text": ["/report", "/my", "/overdue", "/stats", "/cancel", "/start", "/case 1", "路灯坏了"],
    "lon": [str(INSIDE_A1[0]), "nan", "1e400", "-181", "1e308"],
    "lat": [str(INSIDE_A1[1]), "-inf", "91", "1e-320"],
    "data": ["k:0102", "k:9999", "r:send", "r:x", "a:1:accept", "", ":::"],
}
CHARSETS = [None, "utf-8", "foo", "latin-1", "utf-16", ""]


def _encode(value: str) -> str:
    return quote(value.encode("utf-8", "surrogatepass"), safe="")


def _query(pairs: list[tuple[str, str]]) -> str:
    return "&".join(f"{_encode(k)}={_encode(v)}" for k, v in pairs)


@st.composite
def _field(draw: st.DrawFn, names: list[str]) -> tuple[str, str]:
    name = draw(st.one_of(st.sampled_from(names), st.text(max_size=12)))
    if name in FIELD_VALUES and draw(st.booleans()):
        return name, draw(st.sampled_from(FIELD_VALUES[name]))
    return name, draw(text)


fields_of = lambda names: st.lists(_field(names), max_size=8)  # noqa: E731


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
    "/console/login",
    "/console/cases",
    "/console/cases.csv",
    "/console/wall",
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


# web/console/review.py, conditions.py, followups.py, assessment.py and chat.py. Left out:
# /console/logout (it would end the role's session for the rest of the run).
SUPERVISION_GET = [
    "/console/cases/{}/file",
    "/console/cases/{}/file.json",
    "/console/reviews",
    "/console/reviews/new/{}",
    "/console/notices",
    "/console/notices/{}",
    "/console/admin/checklist",
    "/console/admin/conditions",
    "/console/assessment",
    "/console/assessment/{}.xlsx",
    "/console/admin/formulas",
    "/console/followups",
    "/console/chat",
    "/console/chat/inbox",
]
SUPERVISION_POST = [
    "/console/reviews/new/{}",
    "/console/notices/{}/{}",
    "/console/admin/checklist",
    "/console/admin/conditions/{}",
    "/console/admin/formulas",
    "/console/followups/{}",
    "/console/chat/send",
]
NOTICE_STEPS = ["answer", "accept", "send_back"]


@st.composite
def console_requests(
    draw: st.DrawFn, live: Live, get: list[str], post: list[str]
) -> tuple[str, str, bytes, dict[str, str]]:
    who = draw(st.sampled_from(ROLES))
    cookie = {"Cookie": live.cookies[who]}
    known = [*live.case_numbers, *live.notice_ids, *NOTICE_STEPS, "0102", "2026-10-01", "2026-11"]
    any_segment = st.one_of(segment, st.sampled_from(known))

    def fill(path: str) -> str:
        return path.format(*(draw(any_segment) for _ in range(path.count("{}"))))

    if draw(st.booleans()):
        path = fill(draw(st.sampled_from(get)))
        query = _query(draw(fields_of(CONSOLE_FIELDS)))
        return "GET", path + (f"?{query}" if query else ""), b"", cookie
    path = fill(draw(st.sampled_from(post)))
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


@st.composite
def public_requests(draw: st.DrawFn, live: Live) -> tuple[str, str, bytes, dict[str, str]]:
    """The public page and the citizens' follow-up links, as anyone on the internet."""
    headers = {
        k: v
        for k, v in draw(
            st.dictionaries(
                st.sampled_from(["Accept-Language", "X-Forwarded-For", "Cookie"]),
                st.one_of(st.sampled_from(["en", "zh-CN,zh;q=0.9", "*", "1.2.3.4"]), text),
                max_size=2,
            )
        ).items()
        if _header_safe(v)
    }
    query = _query(draw(fields_of(["lang", "month", "page"])))
    tail = f"?{query}" if query else ""
    if draw(st.booleans()):
        path = draw(st.sampled_from(["/public/", "/public/cases.json", "/public/grids.geojson"]))
        return "GET", path + tail, b"", headers
    token = draw(st.one_of(segment, st.sampled_from(live.followup_tokens or ["x"])))
    if draw(st.booleans()):
        return "GET", f"/followup/{token}{tail}", b"", headers
    body, body_headers = draw(bodies(["satisfaction", "note"], None))
    return "POST", f"/followup/{token}", body, {**headers, **body_headers}


def _header_safe(value: str) -> bool:
    return all(32 <= ord(c) < 127 for c in value)


def _check(live: Live, request: tuple[str, str, bytes, dict[str, str]]) -> None:
    method, path, body, headers = request
    live.failures.records.clear()
    status, answer = live.request(method, path, body or None, headers)
    live.settle()
    assert status < 500, (status, method, path, body[:300], answer[:300])
    failed = [f"{r.name}: {r.getMessage()}" for r in live.failures.records]
    assert not failed, (failed[:3], method, path, body[:300])


def test_open311_never_answers_5xx(live: Live) -> None:
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        _check(live, data.draw(open311_requests(live)))

    run()


def test_console_never_answers_5xx(live: Live) -> None:
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        _check(live, data.draw(console_requests(live, CONSOLE_GET, CONSOLE_POST)))

    run()


def test_supervision_and_chat_never_answer_5xx(live: Live) -> None:
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        _check(live, data.draw(console_requests(live, SUPERVISION_GET, SUPERVISION_POST)))

    run()


def test_public_pages_never_answer_5xx(live: Live) -> None:
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        _check(live, data.draw(public_requests(live)))

    run()


def test_webhook_never_answers_5xx(live: Live) -> None:
    @given(request=webhook_requests())
    def run(request: tuple[str, str, bytes, dict[str, str]]) -> None:
        _check(live, request)

    run()


def test_wecom_callback_never_answers_5xx(live: Live) -> None:
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        # a few callbacks in a row from one member (or a stranger), so that a report or a
        # case goes on over several of them
        user = data.draw(st.sampled_from([*live.wecom_users, "stranger"]))
        buttons = functools.partial(live.wecom_buttons, user)
        if data.draw(st.integers(0, 3)) == 0:  # the grid worker reports
            user = live.wecom_users[0]
            buttons = functools.partial(live.wecom_buttons, user)
            for step in REPORT_WALK[: data.draw(st.integers(1, len(REPORT_WALK)))]:
                _check(live, data.draw(walk_step(step, user, live.wecom_media, buttons)))
            return
        for _ in range(data.draw(st.integers(1, 4))):
            _check(live, data.draw(wecom_requests(user, live.wecom_media, buttons)))

    run()
