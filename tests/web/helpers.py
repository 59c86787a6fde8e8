"""Console helpers for the HTTP tests: log in, and read the CSRF token off a page."""

import io
import re

from aiohttp.test_utils import TestClient
from PIL import Image

from tests.web.conftest import PASSWORD

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    match = CSRF.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)


async def login(client: TestClient, username: str, password: str = PASSWORD) -> int:
    page = await (await client.get("/console/login")).text()
    r = await client.post(
        "/console/login",
        data={"username": username, "password": password, "csrf_token": csrf_of(page)},
        allow_redirects=False,
    )
    return r.status


def picture(fmt: str = "PNG", size: tuple[int, int] = (8, 6)) -> bytes:
    """A small real image file."""
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, fmt)
    return out.getvalue()
