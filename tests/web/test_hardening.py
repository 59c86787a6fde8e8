"""Issue 10 from outside: inputs that crashed handlers, bodies sent with a wrong key,
retried reports, uploads of failed reports, who may fetch a photo, and the headers."""

import asyncio
import io
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestClient
from PIL import Image
from sqlalchemy import select

from gridgov.app import App
from models import Attachment
from tests.dispatch.world import World
from tests.web.helpers import csrf_of, login, picture
from tests.web.test_open311 import BASE, count_cases, post, report

FORM = "application/x-www-form-urlencoded"
BAD_OPEN311 = [
    ("GET", f"{BASE}/requests/%00.json", {}),
    ("GET", f"{BASE}/tokens/%00.json", {}),
    ("GET", f"{BASE}/requests.xml?service_request_id=%00", {}),
    ("GET", f"{BASE}/requests.json?start_date=9999-12-31T23:59:59", {}),
    ("GET", f"{BASE}/requests.json?end_date=0001-01-01T00:00:00", {}),
    ("GET", f"{BASE}/requests.json?start_date=0001-01-01T00:00:00%2B14:00", {}),
    (
        "POST",
        f"{BASE}/requests.json",
        {"data": b"api_key=x", "headers": {"Content-Type": f"{FORM}; charset=foo"}},
    ),
    (
        "POST",
        f"{BASE}/requests.json",
        {"data": b"--x\r\n", "headers": {"Content-Type": "multipart/form-data"}},
    ),
    (
        "POST",
        f"{BASE}/requests.xml",
        {"data": b"description=\xff\xfe", "headers": {"Content-Type": FORM}},
    ),
]


def _server_failures(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


@pytest.mark.parametrize(("method", "path", "kwargs"), BAD_OPEN311)
async def test_open311_answers_bad_input_with_its_error_list(
    client: TestClient, caplog: pytest.LogCaptureFixture, method: str, path: str, kwargs: dict
) -> None:
    caplog.set_level(logging.INFO)
    r = await client.request(method, path, **kwargs)
    assert r.status in (400, 403, 404)
    body = await r.text()
    if path.split("?")[0].endswith(".xml"):
        assert "<errors>" in body
    else:
        [error] = await r.json()
        assert error["code"] == r.status and error["description"]
    assert not _server_failures(caplog)
    lines = [r for r in caplog.records if r.name == "gridgov.web"]
    assert len(lines) <= 1


@pytest.mark.parametrize("field", ["description", "email"])
async def test_a_nul_byte_in_a_report_is_refused(
    client: TestClient, api_key: str, app: App, field: str
) -> None:
    r = await post(client, report(api_key, **{field: "a\x00b"}))
    assert r.status == 400 and "NUL" in (await r.json())[0]["description"]
    assert await count_cases(app) == 0


@pytest.mark.parametrize(
    "path",
    [
        "/console/cases?q=%00",
        "/console/cases/%00",
        "/console/dashboard?end=9999-12-31",
        "/console/dashboard?start=0001-01-01&end=0001-01-02",
        "/console/cases?page=99999999999999999999",
        "/console/queue?to_file=-99999999999999999999",
    ],
)
async def test_console_never_fails_on_odd_queries(
    client: TestClient, caplog: pytest.LogCaptureFixture, path: str
) -> None:
    assert await login(client, "dispatcher") == 303
    r = await client.get(path)
    assert r.status < 500
    if r.status >= 400:
        assert 'id="error"' in await r.text()  # the console's error page
    assert not _server_failures(caplog)


async def test_console_post_with_a_broken_body_is_a_400_page(client: TestClient) -> None:
    assert await login(client, "hw1") == 303
    r = await client.post(
        "/console/logout",
        data=b"csrf_token=\xff",
        headers={"Content-Type": f"{FORM}; charset=foo"},
    )
    assert r.status == 400 and 'id="error"' in await r.text()


async def test_an_unexpected_fault_is_one_log_line_without_traceback(
    client: TestClient, app: App, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk on fire\nsecond line")

    monkeypatch.setattr("web.open311.views.service_request", broken)
    r = await client.get(f"{BASE}/requests/1.json")
    assert r.status == 500 and (await r.json())[0]["code"] == 500
    [line] = [r for r in caplog.records if r.name == "gridgov.web"]
    assert line.exc_info is None and "\n" not in line.getMessage()
    assert "RuntimeError: disk on fire second line" in line.getMessage()
    assert not [r for r in caplog.records if r.exc_info]


# -- a wrong api_key costs nothing ---------------------------------------------------------


MB = 2**20
BOUNDARY = "b0undary"


async def _body(head: bytes, size: int) -> AsyncIterator[bytes]:
    """A body streamed from here, so that the client holds none of it in memory."""
    yield head
    chunk = b"x" * 65536
    for _ in range(size // len(chunk)):
        yield chunk


def _multipart_head() -> bytes:
    return (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="api_key"\r\n\r\nwrong\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="media"; filename="p.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode()


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


async def test_24_big_posts_with_a_wrong_key_do_not_fill_the_memory(client: TestClient) -> None:
    """Issue 10: 24 concurrent 11 MB POSTs with a wrong api_key grew the server by 609 MB.
    Here the key comes in the query string, in a form body and in a multipart body; the
    test server runs in this process, whose memory is sampled while they are answered."""
    form = "application/x-www-form-urlencoded"
    requests = [
        (f"{BASE}/requests.json?api_key=wrong", b"description=", form),
        (f"{BASE}/requests.json", b"api_key=wrong&description=", form),
        (f"{BASE}/requests.xml", _multipart_head(), f"multipart/form-data; boundary={BOUNDARY}"),
    ]
    baseline = peak = _rss_mb()
    done = asyncio.Event()

    async def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _rss_mb())
            await asyncio.sleep(0.005)

    async def one(i: int) -> int:
        path, head, content_type = requests[i % 3]
        try:
            r = await client.post(
                path, data=_body(head, 11 * MB), headers={"Content-Type": content_type}
            )
            return r.status
        except aiohttp.ClientError:
            return 0  # the server stopped reading the body: refused

    sampler = asyncio.create_task(sample())
    statuses = await asyncio.gather(*(one(i) for i in range(24)))
    done.set()
    await sampler
    assert set(statuses) <= {403, 413, 0} and statuses.count(0) < 24
    print(f"24 x 11 MB with a wrong key: RSS {baseline:.0f} MB -> peak {peak:.0f} MB")
    assert peak - baseline <= 50, f"{baseline:.0f} MB -> {peak:.0f} MB"


# -- Idempotency-Key -------------------------------------------------------------------------


async def test_a_retried_report_with_the_same_key_creates_nothing(
    client: TestClient, api_key: str, app: App
) -> None:
    headers = {"Idempotency-Key": "retry-7f3a"}
    form = report(api_key, account_id="acc-1")
    first = await client.post(f"{BASE}/requests.json", data=form, headers=headers)
    again = await client.post(f"{BASE}/requests.json", data=form, headers=headers)
    assert first.status == again.status == 200
    assert await first.json() == await again.json()
    assert (await first.json())[0]["account_id"] == "acc-1"
    assert await count_cases(app) == 1
    other = await client.post(
        f"{BASE}/requests.json", data=form, headers={"Idempotency-Key": "retry-other"}
    )
    assert (await other.json())[0]["service_request_id"] != (await first.json())[0][
        "service_request_id"
    ]
    assert await count_cases(app) == 2


async def test_parallel_repeats_of_one_key_create_one_case(
    client: TestClient, api_key: str, app: App
) -> None:
    headers = {"Idempotency-Key": "burst"}
    path = f"{BASE}/requests.json"
    answers = await asyncio.gather(
        *(client.post(path, data=report(api_key), headers=headers) for _ in range(6))
    )
    numbers = {(await r.json())[0]["service_request_id"] for r in answers}
    assert len(numbers) == 1 and await count_cases(app) == 1


async def test_a_bad_idempotency_key_is_refused(client: TestClient, api_key: str) -> None:
    r = await client.post(
        f"{BASE}/requests.json", data=report(api_key), headers={"Idempotency-Key": "a b"}
    )
    assert r.status == 400 and "Idempotency-Key" in (await r.json())[0]["description"]


# -- no orphan media -----------------------------------------------------------------------


def _stored(app: App) -> list[Path]:
    return [p for p in Path(app.settings.media_dir).rglob("*") if p.is_file()]


async def test_a_failed_report_leaves_no_file_behind(
    client: TestClient, api_key: str, app: App, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def failing(*args: object) -> None:
        raise RuntimeError("database gone")

    monkeypatch.setattr(world.casework.intake, "report", failing)
    data = aiohttp.FormData(report(api_key))
    data.add_field("media", picture("JPEG"), filename="p.jpg", content_type="image/jpeg")
    r = await post(client, data)
    assert r.status == 500
    assert _stored(app) == []


async def test_a_repeated_report_keeps_only_the_first_photo(
    client: TestClient, api_key: str, app: App
) -> None:
    for _ in range(2):
        data = aiohttp.FormData(report(api_key))
        data.add_field("media", picture("PNG"), filename="p.png", content_type="image/png")
        r = await client.post(f"{BASE}/requests.json", data=data, headers={"Idempotency-Key": "k"})
        assert r.status == 200
    [kept] = _stored(app)
    async with app.sessions() as session:
        refs = (await session.scalars(select(Attachment.ref))).all()
    assert refs == [str(kept.relative_to(app.settings.media_dir))]


async def test_a_refused_step_leaves_no_console_upload(
    client: TestClient, world: World, app: App
) -> None:
    case = (await world.casework.intake.report(world.draft())).case
    await login(client, "hw1")
    page = await (await client.get(f"/console/cases/{case.number}")).text()
    data = aiohttp.FormData(
        {"csrf_token": csrf_of(page), "action": "resolve", "version": str(case.version)}
    )  # not accepted yet: resolving is refused
    data.add_field("photo", picture("JPEG"), filename="fix.jpg", content_type="image/jpeg")
    r = await client.post(f"/console/cases/{case.number}/act", data=data)
    assert r.status in (400, 403)
    assert _stored(app) == []


# -- photos: verified, re-encoded, served to console users only --------------------------


async def test_html_after_jpeg_magic_is_not_stored_as_is(
    client: TestClient, api_key: str, app: App
) -> None:
    polyglot = picture("JPEG") + b"<html><script>alert(document.cookie)</script></html>"
    data = aiohttp.FormData(report(api_key))
    data.add_field("media", polyglot, filename="p.jpg", content_type="image/jpeg")
    assert (await post(client, data)).status == 200
    [stored] = _stored(app)
    content = stored.read_bytes()
    assert b"<script>" not in content
    assert Image.open(io.BytesIO(content)).format == "JPEG"
    fake = aiohttp.FormData(report(api_key))
    fake.add_field("media", b"\xff\xd8\xff<html>", filename="x.jpg", content_type="image/jpeg")
    assert (await post(client, fake)).status == 400


async def test_media_needs_a_console_session_or_a_signed_link(
    client: TestClient, api_key: str, app: App
) -> None:
    data = aiohttp.FormData(report(api_key))
    data.add_field("media", picture("PNG"), filename="p.png", content_type="image/png")
    [created] = await (await post(client, data)).json()
    number = created["service_request_id"]
    [req] = await (await client.get(f"{BASE}/requests/{number}.json")).json()
    signed = req["media_url"].removeprefix("http://gridgov.test")
    bare = signed.split("?")[0]
    assert (await client.get(bare)).status == 403
    assert (await client.get(bare + "?expires=99999999999&sig=0000")).status == 403
    assert (await client.get(signed)).status == 200
    console = bare.replace("/media/", "/console/media/")
    r = await client.get(console, allow_redirects=False)
    assert r.status == 303  # to the login page
    await login(client, "dispatcher")
    r = await client.get(console)
    assert r.status == 200 and r.headers["X-Content-Type-Options"] == "nosniff"
    page = await (await client.get(f"/console/cases/{number}")).text()
    assert f'<img src="{console}"' in page


async def test_a_signed_link_expires(client: TestClient, api_key: str, world: World) -> None:
    data = aiohttp.FormData(report(api_key))
    data.add_field("media", picture("PNG"), filename="p.png", content_type="image/png")
    [created] = await (await post(client, data)).json()
    [req] = await (await client.get(f"{BASE}/requests/{created['service_request_id']}.json")).json()
    world.clock.now += timedelta(days=8)
    r = await client.get(req["media_url"].removeprefix("http://gridgov.test"))
    assert r.status == 403


async def test_a_clients_media_url_is_a_link_not_an_image(client: TestClient, api_key: str) -> None:
    tracker = "http://tracker.example.org/pixel.gif"
    [created] = await (await post(client, report(api_key, media_url=tracker))).json()
    await login(client, "dispatcher")
    page = await (await client.get(f"/console/cases/{created['service_request_id']}")).text()
    assert f'href="{tracker}"' in page
    assert f'src="{tracker}"' not in page


@pytest.mark.parametrize("path", ["/console/login", "/console/cases", "/console/dashboard"])
async def test_console_pages_carry_the_security_headers(client: TestClient, path: str) -> None:
    await login(client, "dispatcher")
    r = await client.get(path)
    assert r.status == 200
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["X-Frame-Options"] == "DENY"
    policy = r.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    page = await r.text()
    assert "<script>" not in page and " style=" not in page and " onclick=" not in page


async def test_open311_answers_carry_nosniff(client: TestClient) -> None:
    r = await client.get(f"{BASE}/services.json")
    assert r.headers["X-Content-Type-Options"] == "nosniff"


async def test_a_non_ascii_csrf_token_is_refused_not_a_crash(client: TestClient) -> None:
    """Found by `make fuzz`: comparing the tokens raised TypeError on non-ASCII text."""
    assert await login(client, "admin") == 303
    r = await client.post("/console/admin/apikeys", data={"csrf_token": "\x80", "name": "k"})
    assert r.status == 403


async def test_a_request_line_too_long_is_logged_in_one_line(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    """Found by `make fuzz`: aiohttp's parser answers 400 itself and logged a traceback."""
    caplog.set_level(logging.INFO)
    r = await client.get("/console/cases?q=" + "x" * 9000)
    assert r.status == 400
    assert not [r for r in caplog.records if r.exc_info]
    assert any("malformed request" in r.getMessage() for r in caplog.records)


async def test_ids_beyond_the_integer_columns_are_refused(
    client: TestClient, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    """Found by `make fuzz`: an id over 2**31 reached PostgreSQL and failed there."""
    assert await login(client, "admin") == 303
    page = await (await client.get("/console/admin")).text()
    r = await client.post(
        "/console/admin/apikeys/20261123000001/revoke", data={"csrf_token": csrf_of(page)}
    )
    assert r.status == 404
    r = await client.post(
        "/console/admin/invites", data={"csrf_token": csrf_of(page), "person_id": "9" * 12}
    )
    assert r.status == 200 and "9" * 12 in await r.text()  # the form's error message
    case = (await world.casework.intake.report(world.draft())).case
    await login(client, "dispatcher")
    page = await (await client.get(f"/console/cases/{case.number}")).text()
    form = {
        "csrf_token": csrf_of(page),
        "action": "dispatch",
        "version": str(case.version),
        "department_id": "9" * 12,
    }
    r = await client.post(f"/console/cases/{case.number}/act", data=form)
    assert r.status == 400 and "9" * 12 in await r.text()
    assert not _server_failures(caplog)
