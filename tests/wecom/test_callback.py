"""The WeCom callback URL against real encrypted callbacks: URL verification, signatures,
bodies that do not decrypt, registration by invite code, message types, pictures,
locations (GCJ-02) and resent callbacks."""

import base64
import os

from sqlalchemy import func, select
from wechatpy.crypto import _get_signature
from wechatpy.enterprise.crypto import WeChatCrypto

from geo.coords import wgs84_to_gcj02
from models import ChatState, InboundUpdate
from tests.dispatch.world import INSIDE_A1
from tests.wecom.fake_server import CORP_ID, TOKEN, CallbackClient
from tests.wecom.harness import USERIDS, WecomHarness

WORKER = USERIDS["worker"]


async def inbound_rows(wx: WecomHarness) -> int:
    async with wx.app.sessions() as session:
        return await session.scalar(select(func.count()).select_from(InboundUpdate)) or 0


async def test_url_verification_echoes_the_decrypted_echostr(wx: WecomHarness) -> None:
    assert await wx.client.verify_url("1616140317555161061") == (200, "1616140317555161061")
    status, _ = await wx.client.verify_url("1616140317555161061", signature="0" * 40)
    assert status == 403


async def test_a_bad_signature_is_refused_and_nothing_is_written(wx: WecomHarness) -> None:
    body, query = wx.client.encrypt(wx.client.text(WORKER, await wx.invite("worker")))
    assert await wx.client.post_raw(body, {**query, "msg_signature": "f" * 40}) == 403
    assert await wx.client.post_raw(body, {k: v for k, v in query.items() if k != "nonce"}) == 403
    await wx.runtime.queue.drain()
    assert await inbound_rows(wx) == 0
    assert await wx.identities() == []
    assert wx.fake.calls == []


async def test_a_body_that_does_not_decrypt_is_refused(wx: WecomHarness) -> None:
    # correctly signed with the callback token, but not our key's ciphertext
    other_key = base64.b64encode(os.urandom(32)).decode().rstrip("=")
    stranger = CallbackClient(wx.http, wx.client.url)
    stranger.crypto = WeChatCrypto(TOKEN, other_key, CORP_ID)
    assert await stranger.post(stranger.text(WORKER, "hello")) == 400
    # ciphertext that is not even a whole AES block, and a body that is not XML
    junk = base64.b64encode(b"not a ciphertext").decode()[:-2]
    _, query = wx.client.encrypt("<xml/>")
    for encrypt in (junk, ""):
        query["msg_signature"] = _get_signature(TOKEN, query["timestamp"], query["nonce"], encrypt)
        xml = f"<xml><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>".encode()
        assert await wx.client.post_raw(xml, query) == 400
    assert await wx.client.post_raw(b"no xml at all", query) == 400
    await wx.runtime.queue.drain()
    assert await inbound_rows(wx) == 0
    assert wx.fake.calls == []


async def test_registration_by_invite_code(wx: WecomHarness) -> None:
    await wx.say("worker", "/report")
    assert "邀请码" in wx.texts("worker")[-1]
    await wx.say("worker", "WRONGCODE1")
    assert "邀请码无效" in wx.texts("worker")[-1]
    assert await wx.identities() == []
    await wx.say("worker", await wx.invite("worker"))
    assert "注册成功" in wx.texts("worker")[-1]
    assert await wx.identities() == [(WORKER, wx.world.people["worker"])]


async def test_an_unknown_userid_gets_a_clear_answer_and_nothing_is_written(
    wx: WecomHarness,
) -> None:
    await wx.say("stranger", "你好")
    await wx.post(wx.client.location("stranger", 120.01, 30.50))
    await wx.post(wx.client.image("stranger", wx.fake.add_media(b"\xff\xd8\xff\xe0" + b"0" * 99)))
    assert all("尚未注册" in t for t in wx.texts("stranger")) and len(wx.texts("stranger")) == 3
    assert wx.fake.sent("media/get") == []
    media = wx.app.settings.media_dir
    assert not media.exists() or not any(media.rglob("*.*"))
    assert await wx.identities() == []
    async with wx.app.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(ChatState)) == 0


async def test_an_unhandled_message_type_gets_a_polite_answer(wx: WecomHarness) -> None:
    await wx.register("worker")
    assert await wx.post(wx.client.voice(WORKER)) == 200
    assert "暂不支持" in wx.texts("worker")[-1]


async def test_a_photo_that_cannot_be_fetched_gets_a_clear_answer(wx: WecomHarness) -> None:
    await wx.register("worker")
    assert await wx.post(wx.client.image(WORKER, "EXPIRED-MEDIA")) == 200
    assert "照片未能接收" in wx.texts("worker")[-1]
    not_an_image = wx.fake.add_media(b"%PDF-1.4", "application/pdf")
    assert await wx.post(wx.client.image(WORKER, not_an_image)) == 200
    assert "照片未能接收" in wx.texts("worker")[-1]
    media = wx.app.settings.media_dir
    assert not media.exists() or not any(media.rglob("*.*"))


async def test_a_photo_is_fetched_and_stored(wx: WecomHarness) -> None:
    await wx.register("worker")
    jpeg = b"\xff\xd8\xff\xe0" + os.urandom(2000)
    assert await wx.post(wx.client.image(WORKER, wx.fake.add_media(jpeg))) == 200
    stored = list(wx.app.settings.media_dir.rglob("*.jpg"))
    assert [p.read_bytes() for p in stored] == [jpeg]
    assert wx.fake.sent("media/get")[0].params["media_id"].startswith("MEDIA")


async def test_a_resent_callback_has_one_effect(wx: WecomHarness) -> None:
    xml = wx.client.text(WORKER, await wx.invite("worker"), msg_id=777001)
    for _ in range(3):  # WeCom resends what it thinks failed; each is encrypted anew
        assert await wx.post(xml) == 200
    assert len(wx.texts("worker")) == 1 and "注册成功" in wx.texts("worker")[0]
    assert len(await wx.identities()) == 1
    # an event has no MsgId: user + CreateTime + event decide
    event = wx.client.event(WORKER, "enter_agent", create_time=1764650000, EventKey="")
    assert await wx.post(event) == 200
    assert await wx.post(event) == 200
    assert len(wx.texts("worker")) == 2
    assert await inbound_rows(wx) == 2


async def test_decrypted_xml_that_is_not_a_message_is_refused(wx: WecomHarness) -> None:
    """Found by the fuzz suite: these were answered 500 (wechatpy trusts the XML's shape)."""
    head = f"<FromUserName>{WORKER}</FromUserName><CreateTime>1</CreateTime>"
    not_messages = [
        "",
        "<xml/>",
        "<xml>text only</xml>",
        "<other><MsgType>text</MsgType></other>",
        f"<xml>{head}</xml>",  # no MsgType
        f"<xml>{head}<MsgType/></xml>",
        f"<xml>{head}<MsgType>text</MsgType><MsgType>text</MsgType></xml>",
        f"<xml>{head}<MsgType><MsgType>text</MsgType></MsgType></xml>",
        f"<xml>{head}<MsgType>event</MsgType></xml>",  # no Event
        f"<xml>{head}<MsgType>event</MsgType><Event/></xml>",
        "<xml><FromUserName/><MsgType>text</MsgType><Content>hi</Content></xml>",
        f"<xml><FromUserName>{'u' * 65}</FromUserName><MsgType>text</MsgType></xml>",
    ]
    for xml in not_messages:
        assert await wx.post(xml) == 400, xml
    assert await inbound_rows(wx) == 0
    assert wx.fake.calls == []


async def test_an_event_with_a_long_key_is_handled_once(wx: WecomHarness) -> None:
    """Found by the fuzz suite: the event's idempotency key outgrew its column (a 500)."""
    await wx.register("worker")
    event = wx.client.event(WORKER, "click", create_time=1764650000, EventKey="/my " + "x" * 300)
    for _ in range(2):
        assert await wx.post(event) == 200
    assert await inbound_rows(wx) == 2  # the invite code, and the event once
    assert len(wx.texts("worker")) == 2


async def test_a_location_that_is_not_a_place_gets_a_clear_answer(wx: WecomHarness) -> None:
    """Found by the fuzz suite: float() failed in the background, the member heard nothing."""
    await wx.register("worker")
    await wx.say("worker", "/report")
    for lon, lat in [("", "30.5"), ("abc", "30.5"), ("nan", "30.5"), ("120", "inf"), ("181", "0")]:
        xml = wx.client.location(WORKER, 0, 0).replace(
            "<Location_X>0</Location_X><Location_Y>0</Location_Y>",
            f"<Location_X>{lat}</Location_X><Location_Y>{lon}</Location_Y>",
        )
        assert await wx.post(xml) == 200
        assert "无法识别这个位置" in wx.texts("worker")[-1], (lon, lat)
    # the report goes on with a real place
    gcj_lon, gcj_lat = wgs84_to_gcj02(*INSIDE_A1)
    assert await wx.post(wx.client.location(WORKER, gcj_lon, gcj_lat)) == 200
    assert "已收到位置" in "\n".join(wx.texts("worker")[-2:])


async def test_events_nobody_sent_are_dropped_without_an_answer(wx: WecomHarness) -> None:
    await wx.register("worker")
    said = len(wx.texts("worker"))
    for event, fields in [
        ("LOCATION", {"Latitude": "nan", "Longitude": "120", "Precision": "x"}),
        ("subscribe", {}),
        ("change_contact", {"ChangeType": "update_user"}),
        ("click", {"EventKey": ""}),
    ]:
        assert await wx.post(wx.client.event(WORKER, event, **fields)) == 200
    assert len(wx.texts("worker")) == said
