"""Open311 GeoReport v2: every endpoint in JSON and XML, the spec's examples, every error."""

import io
from xml.etree import ElementTree as ET

import aiohttp
import pytest
from aiohttp.test_utils import TestClient
from PIL import Image
from sqlalchemy import func, select

from gridgov.app import App
from models import Case
from tests.dispatch.world import INSIDE_A1, World
from tests.web.helpers import picture

BASE = "/open311/v2"
LON, LAT = INSIDE_A1


def report(api_key: str, **extra: str) -> dict[str, str]:
    form = {
        "api_key": api_key,
        "jurisdiction_id": "deqing.gov.cn",
        "service_code": "0102",
        "lat": str(LAT),
        "long": str(LON),
        "address_string": "武康街道英溪社区 1 号",
        "email": "citizen@example.com",
        "phone": "13800000000",
        "first_name": "小明",
        "last_name": "王",
        "description": "路边有一堆垃圾",
    }
    form.update(extra)
    return form


async def post(client: TestClient, data: object, fmt: str = "json") -> aiohttp.ClientResponse:
    return await client.post(f"{BASE}/requests.{fmt}", data=data)


async def count_cases(app: App) -> int:
    async with app.sessions() as session:
        return await session.scalar(select(func.count()).select_from(Case)) or 0


async def test_discovery_and_services(client: TestClient) -> None:
    r = await client.get(f"{BASE}/discovery.json")
    assert r.status == 200
    assert (await r.json())["endpoints"][0]["formats"] == ["text/xml", "application/json"]
    r = await client.get(f"{BASE}/services.json")
    assert r.headers["Content-Type"] == "application/json; charset=utf-8"
    services = await r.json()
    codes = [s["service_code"] for s in services]
    assert codes == ["0102", "0103", "0501", "0701"]  # 小类 only; 大类 are groups
    first = services[0]
    assert set(first) == {
        "service_code",
        "service_name",
        "description",
        "metadata",
        "type",
        "keywords",
        "group",
    }
    assert first["service_name"] == "暴露垃圾" and first["group"] == "市容环境"
    assert first["metadata"] is False and first["type"] == "realtime"
    r = await client.get(f"{BASE}/services.json", params={"locale": "en"})
    assert (await r.json())[0]["service_name"] == "Exposed garbage"


async def test_services_xml(client: TestClient) -> None:
    r = await client.get(f"{BASE}/services.xml")
    assert r.headers["Content-Type"] == "text/xml; charset=utf-8"
    body = await r.text()
    assert body.startswith('<?xml version="1.0" encoding="utf-8"?>')
    root = ET.fromstring(body.split("\n", 1)[1])
    assert root.tag == "services"
    service = root.findall("service")[0]
    assert service.findtext("service_code") == "0102"
    assert service.findtext("metadata") == "false"


async def test_service_definition(client: TestClient, world: World, app: App) -> None:
    category = app.casework.catalog.categories["0102"]
    category.attributes = [
        {
            "variable": True,
            "code": "amount",
            "datatype": "singlevaluelist",
            "required": True,
            "datatype_description": None,
            "order": 1,
            "description": "垃圾量",
            "values": [{"key": "small", "name": "少量"}, {"key": "large", "name": "大量"}],
        }
    ]
    r = await client.get(f"{BASE}/services/0102.json")
    definition = await r.json()
    assert definition["service_code"] == "0102"
    assert definition["attributes"][0]["values"][1] == {"key": "large", "name": "大量"}
    r = await client.get(f"{BASE}/services/0102.xml")
    root = ET.fromstring((await r.text()).split("\n", 1)[1])
    assert root.tag == "service_definition"
    attr = root.find("attributes/attribute")
    assert attr is not None and attr.findtext("code") == "amount"
    assert attr.findtext("datatype_description") == ""
    assert [v.findtext("key") for v in attr.findall("values/value")] == ["small", "large"]
    r = await client.get(f"{BASE}/services/9999.json")
    assert r.status == 404
    assert (await r.json())[0]["code"] == 404


async def test_post_and_get_request(client: TestClient, api_key: str, app: App) -> None:
    r = await post(client, report(api_key))
    assert r.status == 200, await r.text()
    [created] = await r.json()
    number = created["service_request_id"]
    assert set(created) == {"service_request_id", "service_notice", "account_id"}
    r = await client.get(f"{BASE}/requests/{number}.json")
    [req] = await r.json()
    assert req["status"] == "open"
    assert req["service_code"] == "0102" and req["service_name"] == "暴露垃圾"
    assert req["description"] == "路边有一堆垃圾"
    assert req["requested_datetime"] == "2026-11-23T09:00:00+08:00"
    assert req["lat"] == LAT and req["long"] == LON
    assert req["address"] == "武康街道英溪社区 1 号"
    text = await r.text()
    for secret in ("citizen@example.com", "13800000000", "小明"):
        assert secret not in text  # never the reporter's identity
    async with app.sessions() as session:
        case = await session.scalar(select(Case).where(Case.number == number))
    assert case is not None and case.status.value == "reported"
    assert case.reporter_contact["email"] == "citizen@example.com"
    r = await client.get(f"{BASE}/requests/{number}.xml")
    root = ET.fromstring((await r.text()).split("\n", 1)[1])
    assert root.tag == "service_requests"
    assert root.findtext("request/service_request_id") == number
    assert root.findtext("request/status") == "open"
    assert root.find("request/zipcode") is not None
    r = await client.get(f"{BASE}/tokens/{number}.json")
    assert (await r.json()) == [{"service_request_id": number, "token": number}]
    r = await client.get(f"{BASE}/tokens/nope.xml")
    assert r.status == 404


async def test_post_xml_response(client: TestClient, api_key: str) -> None:
    r = await post(client, report(api_key), "xml")
    root = ET.fromstring((await r.text()).split("\n", 1)[1])
    assert root.tag == "service_requests"
    assert root.findtext("request/service_request_id")
    assert root.find("request/account_id") is not None


async def test_lifecycle_shows_in_open311(
    client: TestClient, api_key: str, world: World, app: App
) -> None:
    from dispatch.core.lifecycle import Action

    [created] = await (await post(client, report(api_key))).json()
    number = created["service_request_id"]
    case = await app.casework.find_case(number)
    dispatcher, office = world.people["dispatcher"], world.people["hw1"]
    await app.casework.steps.act(Action.FILE, case.id, dispatcher)
    await app.casework.steps.act(Action.DISPATCH, case.id, dispatcher)
    [req] = await (await client.get(f"{BASE}/requests/{number}.json")).json()
    assert req["agency_responsible"] == "环卫处"
    assert req["expected_datetime"] is not None
    await app.casework.steps.act(Action.ACCEPT, case.id, office)
    await app.casework.steps.act(Action.RESOLVE, case.id, office, "清理完毕")
    await app.casework.steps.act(Action.VERIFY, case.id, dispatcher)
    [req] = await (await client.get(f"{BASE}/requests/{number}.json")).json()
    assert req["status"] == "closed"
    r = await client.get(f"{BASE}/requests.json", params={"status": "closed"})
    assert [x["service_request_id"] for x in await r.json()] == [number]
    r = await client.get(f"{BASE}/requests.json", params={"status": "open"})
    assert await r.json() == []


async def test_multipart_media(client: TestClient, api_key: str, app: App) -> None:
    png = picture("PNG")
    data = aiohttp.FormData(report(api_key))
    data.add_field("media", png, filename="photo.png", content_type="image/png")
    r = await post(client, data)
    assert r.status == 200, await r.text()
    [created] = await r.json()
    [req] = await (await client.get(f"{BASE}/requests/{created['service_request_id']}.json")).json()
    assert req["media_url"].startswith("http://gridgov.test/media/open311/")
    path = req["media_url"].removeprefix("http://gridgov.test")
    fetched = await client.get(path)  # a signed link: no console session needed
    assert fetched.status == 200 and fetched.headers["X-Content-Type-Options"] == "nosniff"
    assert Image.open(io.BytesIO(await fetched.read())).size == (8, 6)


async def test_media_url_and_attributes(client: TestClient, api_key: str, app: App) -> None:
    app.casework.catalog.categories["0102"].attributes = [
        {"code": "amount", "datatype": "singlevaluelist", "required": True, "order": 1,
         "description": "垃圾量", "values": [{"key": "large", "name": "大量"}]},
    ]  # fmt: skip
    r = await post(client, report(api_key))
    assert r.status == 400 and "attribute[amount]" in (await r.json())[0]["description"]
    r = await post(client, report(api_key, **{"attribute[amount]": "tiny"}))
    assert r.status == 400
    r = await post(
        client,
        report(
            api_key,
            **{"attribute[amount]": "large", "media_url": "http://example.org/p.jpg"},
        ),
    )
    [created] = await r.json()
    [req] = await (await client.get(f"{BASE}/requests/{created['service_request_id']}.json")).json()
    assert req["media_url"] == "http://example.org/p.jpg"
    assert "垃圾量: 大量" in req["description"]


async def test_attribute_answers_are_checked(client: TestClient, api_key: str, app: App) -> None:
    app.casework.catalog.categories["0102"].attributes = [
        {"code": "note", "variable": False, "required": True, "description": "请拍清楚"},
        {"code": "bags", "datatype": "number", "order": 1, "description": "袋数"},
        {"code": "seen", "datatype": "datetime", "order": 2, "description": "发现时间"},
        {"code": "smell", "datatype": "string", "order": 3, "description": "气味"},
    ]  # fmt: skip
    for bad in (
        {"attribute[bags]": "nan"},
        {"attribute[bags]": "many"},
        {"attribute[seen]": "yesterday"},
        {"attribute[smell]": ["臭", "很臭"]},
        {"attribute[smell]": "臭" * 3000, "description": "垃圾" * 600},
    ):
        form = aiohttp.FormData(
            {**report(api_key), **{k: v for k, v in bad.items() if isinstance(v, str)}}
        )
        for key, value in bad.items():
            for one in value if isinstance(value, list) else []:
                form.add_field(key, one)
        r = await post(client, form)
        assert r.status == 400, bad
    assert await count_cases(app) == 0
    r = await post(
        client,
        report(
            api_key,
            **{"attribute[bags]": "3", "attribute[seen]": "2026-11-23T08:00:00+08:00",
               "attribute[note]": "ignored"},
        ),
    )  # fmt: skip
    [created] = await r.json()
    [req] = await (await client.get(f"{BASE}/requests/{created['service_request_id']}.json")).json()
    assert req["description"] == "路边有一堆垃圾\n袋数: 3\n发现时间: 2026-11-23T08:00:00+08:00"


async def test_get_requests_filters(client: TestClient, api_key: str, world: World) -> None:
    numbers = []
    for code in ("0102", "0103", "0102"):
        [c] = await (await post(client, report(api_key, service_code=code))).json()
        numbers.append(c["service_request_id"])
    r = await client.get(f"{BASE}/requests.json")
    assert len(await r.json()) == 3
    r = await client.get(f"{BASE}/requests.json", params={"service_code": "0103"})
    assert [x["service_request_id"] for x in await r.json()] == [numbers[1]]
    r = await client.get(
        f"{BASE}/requests.json",
        params={"service_request_id": f"{numbers[0]},{numbers[2]}", "service_code": "0103"},
    )
    assert sorted(x["service_request_id"] for x in await r.json()) == sorted(
        [numbers[0], numbers[2]]
    )  # the id list overrides the other filters
    r = await client.get(
        f"{BASE}/requests.json",
        params={"start_date": "2026-11-23T00:00:00Z", "end_date": "2026-11-24T00:00:00+08:00"},
    )
    assert len(await r.json()) == 3
    r = await client.get(f"{BASE}/requests.json", params={"start_date": "2026-11-24T00:00:00Z"})
    assert await r.json() == []
    r = await client.get(f"{BASE}/requests.xml", params={"end_date": "2026-01-01T00:00:00Z"})
    root = ET.fromstring((await r.text()).split("\n", 1)[1])
    assert root.tag == "service_requests" and len(root) == 0
    world.clock.now = world.clock.now.replace(year=2027, month=3)  # > 90 days later
    assert await (await client.get(f"{BASE}/requests.json")).json() == []


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"start_date": "yesterday"}, 400),
        ({"end_date": "2026-13-45T00:00:00Z"}, 400),
        ({"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-11-01T00:00:00Z"}, 400),
        ({"start_date": "2026-11-02T00:00:00Z", "end_date": "2026-11-01T00:00:00Z"}, 400),
        ({"status": "pending"}, 400),
        ({"service_code": "9999"}, 404),
    ],
)
async def test_get_requests_errors(client: TestClient, params: dict[str, str], status: int) -> None:
    for fmt in ("json", "xml"):
        r = await client.get(f"{BASE}/requests.{fmt}", params=params)
        assert r.status == status
        if fmt == "json":
            assert (await r.json())[0]["code"] == status
        else:
            root = ET.fromstring((await r.text()).split("\n", 1)[1])
            assert root.tag == "errors" and root.findtext("error/code") == str(status)


async def test_unknown_request_is_404(client: TestClient) -> None:
    r = await client.get(f"{BASE}/requests/20261123999999.json")
    assert r.status == 404
    assert (await r.json())[0]["code"] == 404


@pytest.mark.parametrize(
    ("change", "status", "fragment"),
    [
        ({"api_key": "wrong"}, 403, "api_key"),
        ({"api_key": ""}, 403, "api_key"),
        ({"service_code": ""}, 400, "service_code"),
        ({"service_code": "7777"}, 404, "7777"),
        ({"service_code": "01"}, 404, "01"),
        ({"lat": "", "long": ""}, 400, "lat"),
        ({"lat": "north"}, 400, "lat"),
        ({"lat": "10.0", "long": "10.0"}, 400, "不在辖区内"),
        ({"description": "x" * 4001}, 400, "4000"),
        ({"media_url": "javascript:alert(1)"}, 400, "media_url"),
    ],
)
async def test_post_errors_create_nothing(
    client: TestClient,
    api_key: str,
    app: App,
    change: dict[str, str],
    status: int,
    fragment: str,
) -> None:
    form = report(api_key)
    form.update(change)
    r = await post(client, form)
    assert r.status == status
    [error] = await r.json()
    assert error["code"] == status and fragment in error["description"]
    assert await count_cases(app) == 0


async def test_domain_errors_follow_the_chosen_language(client: TestClient, api_key: str) -> None:
    form = {**report(api_key), "lat": "10.0", "long": "10.0"}
    r = await client.post("/open311/v2/requests.json?locale=en", data=form)
    [error] = await r.json()
    assert (
        error["description"] == "The location (10.000000, 10.000000) is outside the jurisdiction."
    )


async def test_bad_and_oversized_media(client: TestClient, api_key: str, app: App) -> None:
    data = aiohttp.FormData(report(api_key))
    data.add_field("media", b"<?php evil(); ?>", filename="x.php", content_type="image/jpeg")
    r = await post(client, data)
    assert r.status == 400 and "media" in (await r.json())[0]["description"]
    limit = app.settings.max_upload_bytes
    data = aiohttp.FormData(report(api_key))
    data.add_field("media", b"\xff\xd8\xff" + b"0" * limit, filename="big.jpg")
    r = await post(client, data, "xml")
    assert r.status == 400
    assert "<errors>" in await r.text()
    assert await count_cases(app) == 0


async def test_revoked_key_is_refused(client: TestClient, api_key: str, app: App) -> None:
    from dispatch.registration import api_key_for

    async with app.sessions() as session, session.begin():
        key = await api_key_for(session, api_key)
        assert key is not None
        key.revoked_at = app.casework.clock()
    r = await post(client, report(api_key), "xml")
    assert r.status == 403
    assert "Invalid api_key" in await r.text()


async def test_injection_is_stored_and_escaped(client: TestClient, api_key: str) -> None:
    evil = "'; DROP TABLE cases; -- <script>alert(1)</script> & \x01"
    [c] = await (await post(client, report(api_key, description=evil))).json()
    number = c["service_request_id"]
    [req] = await (await client.get(f"{BASE}/requests/{number}.json")).json()
    assert req["description"] == evil.strip()
    xml = await (await client.get(f"{BASE}/requests/{number}.xml")).text()
    assert "<script>" not in xml and "&lt;script&gt;" in xml and "&amp;" in xml
    root = ET.fromstring(xml.split("\n", 1)[1])  # still well-formed
    assert root.findtext("request/description") == evil.replace("\x01", "")
