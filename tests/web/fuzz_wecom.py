"""Generated WeCom callbacks for the fuzz suite (tests/web/test_fuzz.py): callbacks encrypted
and signed as WeCom does, whose XML is generated (every message type and event, unknown types,
missing, repeated and nested fields, huge and nasty values, bad coordinates), and requests a
WeCom server would never send (a wrong signature, garbage XML, an Encrypt that does not
decrypt, URL-verification GETs with generated parameters)."""

import base64
import hashlib
import itertools
import time
from collections.abc import Callable
from urllib.parse import urlencode
from xml.sax.saxutils import escape

from hypothesis import strategies as st
from wechatpy.enterprise.crypto import PrpCrypto

from bot.wecom.callback import CALLBACK_PATH
from geo.coords import wgs84_to_gcj02
from tests.dispatch.world import INSIDE_A1
from tests.wecom.fake_server import AES_KEY, AGENT_ID, CORP_ID, TOKEN

Request = tuple[str, str, bytes, dict[str, str]]
KEY = base64.b64decode(AES_KEY + "=")


class Sealer(PrpCrypto):
    """wechatpy's crypto with a fixed random prefix: hypothesis replays what it generates."""

    def get_random_string(self) -> str:
        return "0123456789abcdef"


SEALER = Sealer(KEY)
# A place inside the test county as WeCom sends it (GCJ-02), and places that are not places.
INSIDE = wgs84_to_gcj02(*INSIDE_A1)
COORDINATES = [
    str(INSIDE[0]),
    str(INSIDE[1]),
    "30.505",
    "120.005",
    "0",
    "-0",
    "90",
    "-90.0001",
    "180",
    "-181",
    "1e308",
    "-1e309",
    "nan",
    "NaN",
    "inf",
    "-Infinity",
    "",
    " ",
    "30,5",
    "abc",
    "0x1p3",
    "١٢٣",  # Arabic-Indic digits: Python's float() takes them
    "1_000",
]
MSG_TYPES = [
    "text",
    "image",
    "location",
    "event",
    "voice",
    "video",
    "shortvideo",
    "file",
    "link",
    "update_button",
    "TEXT",
    "Event",
    "",
    "unknown",
]
TAME_TYPES = ["text", "text", "location", "image", "event", "event", "voice"]
EVENTS = [
    "enter_agent",
    "click",
    "view",
    "template_card_event",
    "template_card_menu_event",
    "LOCATION",
    "location",
    "subscribe",
    "unsubscribe",
    "scancode_push",
    "pic_photo_or_album",
    "location_select",
    "batch_job_result",
    "change_contact",
    "open_approval_change",
    "",
    "no_such_event",
]
COMMANDS = [
    "/start",
    "/start abcdef123456",
    "/report",
    "/my",
    "/case",
    "/case 20261123000001",
    "/case ' OR 1=1",
    "/overdue",
    "/stats",
    "/cancel",
    "/lang en",
    "/lang xx",
    "/bind",
    "/help",
    "/",
    "//",
    "abcdef123456",  # looks like an invite code
]
NASTY = [
    "",
    " ",
    "\x00",
    "\x1b[31m",
    "]]>",
    "<![CDATA[x]]>",
    "&amp;",
    "&bogus;",
    "<b>",
    "' OR 1=1 --",
    "../../etc/passwd",
    "\u202e",
    "\ufeff",
    "😀" * 50,
    "x" * 5000,
    "网格" * 8000,  # 48 KB of UTF-8: just inside the callback's size limit once encrypted
    "-1",
    "99999999999999999999",
]
FIELDS = [
    "ToUserName",
    "FromUserName",
    "CreateTime",
    "MsgType",
    "AgentID",
    "MsgId",
    "Content",
    "MediaId",
    "PicUrl",
    "Format",
    "ThumbMediaId",
    "Location_X",
    "Location_Y",
    "Scale",
    "Label",
    "Title",
    "Description",
    "Url",
    "Event",
    "EventKey",
    "TaskId",
    "CardType",
    "ResponseCode",
    "Latitude",
    "Longitude",
    "Precision",
]
EVENT_FIELDS = [
    "Event",
    "EventKey",
    "TaskId",
    "CardType",
    "ResponseCode",
    "Latitude",
    "Longitude",
    "Precision",
]
# WeCom's message ids and creation times, new for each callback: a repeated one is a resend,
# handled once (those come from the wild callbacks).
SERIAL = itertools.count(int(time.time()))
fresh = st.builds(lambda: str(next(SERIAL)))
text = st.one_of(st.sampled_from(NASTY), st.text(max_size=40))
number = st.one_of(
    st.integers(-(2**70), 2**70).map(str), st.sampled_from(COORDINATES), st.floats().map(str)
)


def sealed(xml: str, nonce: str = "n0nce", corp_id: str = CORP_ID) -> tuple[bytes, dict[str, str]]:
    """The body and query WeCom sends for this plain callback XML (for `corp_id`: another
    corporation's callback does not decrypt as ours)."""
    encrypt = SEALER.encrypt(xml, corp_id).decode()
    timestamp = str(int(time.time()))
    body = (
        f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName><AgentID>{AGENT_ID}</AgentID>"
        f"<Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
    )
    return body.encode(), _signed(timestamp, nonce, encrypt)


def _signed(timestamp: str, nonce: str, encrypt: str) -> dict[str, str]:
    signature = hashlib.sha1("".join(sorted([TOKEN, timestamp, nonce, encrypt])).encode())
    return {"msg_signature": signature.hexdigest(), "timestamp": timestamp, "nonce": nonce}


@st.composite
def _value(draw: st.DrawFn, name: str, user: str, media: list[str], wild: bool) -> str:
    tame: dict[str, st.SearchStrategy[str]] = {
        "ToUserName": st.sampled_from([CORP_ID, "wwother"]),
        "FromUserName": st.just(user),
        "CreateTime": fresh,
        "AgentID": st.sampled_from([str(AGENT_ID), "0", "x"]),
        "MsgId": fresh,
        "Content": st.sampled_from(["/report"] * 4 + [*COMMANDS, "路灯坏了", "已处理", "1"]),
        "MediaId": st.sampled_from(media),
        "Location_X": st.sampled_from(COORDINATES),
        "Location_Y": st.sampled_from(COORDINATES),
        "Latitude": st.sampled_from(COORDINATES),
        "Longitude": st.sampled_from(COORDINATES),
        "Precision": st.sampled_from(COORDINATES),
        "Event": st.sampled_from(["template_card_event"] * 3 + EVENTS),
        "EventKey": st.sampled_from(COMMANDS),
    }
    if name in tame and not (wild and draw(st.booleans())):
        return draw(tame[name])
    return draw(st.one_of(text, number) if wild else st.text(max_size=20))


@st.composite
def _button(draw: st.DrawFn, buttons: Callable[[], list[str]]) -> str:
    """A button the app sent before (or one it never did). The keys depend on what the app
    answered so far: an index is drawn, so that hypothesis sees the same draws on a replay."""
    index = draw(st.integers(0, 11))
    keys = buttons() or ["r:done:x"]
    return keys[index % len(keys)]


def _element(name: str, value: str, style: str) -> str:
    if style == "cdata":
        return f"<{name}><![CDATA[{value}]]></{name}>"
    if style == "escaped":
        return f"<{name}>{escape(value)}</{name}>"
    if style == "raw":
        return f"<{name}>{value}</{name}>"
    if style == "empty":
        return f"<{name}/>"
    return f"<{name}><{name}>{escape(value)}</{name}></{name}>"  # nested


@st.composite
def callback_xml(
    draw: st.DrawFn, user: str, media: list[str], buttons: Callable[[], list[str]]
) -> str:
    """The plain XML of a callback. Mostly one shaped like WeCom's, from `user`, with a place
    in the county or a button the app sent them, so that a conversation goes on; else a wild
    one: fields missing, repeated, empty, nested or
    unescaped, nasty values, or no message at all."""
    wild = draw(st.integers(0, 2)) == 0
    if wild and draw(st.integers(0, 9)) == 0:
        return draw(
            st.sampled_from(["", "<xml/>", "<xml>text</xml>", "<other/>", "not xml", "<xml>"])
        )
    kind = draw(st.sampled_from(MSG_TYPES if wild else TAME_TYPES))
    names = ["ToUserName", "FromUserName", "CreateTime", "MsgType", "AgentID"]
    names += {
        "text": ["Content", "MsgId"],
        "image": ["PicUrl", "MediaId", "MsgId"],
        "location": ["Location_X", "Location_Y", "Scale", "Label", "MsgId"],
        "event": EVENT_FIELDS,
    }.get(kind, ["MediaId", "MsgId"])
    if wild:
        names = [n for n in names if draw(st.integers(0, 9))]  # each one sometimes missing
        names += draw(st.lists(st.sampled_from(FIELDS), max_size=3))  # extra or repeated
    place = {"Location_X": INSIDE[1], "Location_Y": INSIDE[0]}
    place |= {"Latitude": INSIDE[1], "Longitude": INSIDE[0]}
    inside = draw(st.booleans())  # a place in the county, when the message has one
    parts = []
    for name in names:
        if name == "MsgType":
            value = kind
        elif name in place and inside:
            value = str(place[name])
        elif name == "EventKey" and draw(st.booleans()):
            value = draw(_button(buttons))
        else:
            value = draw(_value(name, user, media, wild))
        styles = ["cdata"] * 5 + ["escaped", "raw", "empty", "nested"] if wild else ["cdata"]
        parts.append(_element(name, value, draw(st.sampled_from(styles))))
    return f"<xml>{''.join(parts)}</xml>"


@st.composite
def wecom_requests(
    draw: st.DrawFn, user: str, media: list[str], buttons: Callable[[], list[str]]
) -> Request:
    """A request at the callback URL: mostly callbacks sealed as WeCom does, from `user` (with
    `buttons` the keys on the cards the app sent them), also forgeries and garbage."""
    kind = draw(
        st.sampled_from(
            ["sealed"] * 6 + ["wrong_signature", "garbage", "bad_encrypt", "verify", "other_corp"]
        )
    )
    headers = {"Content-Type": draw(st.sampled_from(["text/xml", "application/xml", ""]))}
    if kind == "verify":
        return "GET", f"{CALLBACK_PATH}?{urlencode(draw(_verification()))}", b"", {}
    if kind == "garbage":
        body = draw(st.one_of(st.binary(max_size=300), text.map(str.encode)))
        query = draw(_query())
        return "POST", f"{CALLBACK_PATH}?{urlencode(query)}", body, headers
    if kind == "bad_encrypt":  # signed right, but the ciphertext is not WeCom's
        encrypt = draw(
            st.one_of(
                st.binary(max_size=120).map(lambda b: base64.b64encode(b).decode()),
                st.text(alphabet="ABCDabcd0123+/=", max_size=80),
                text,
            )
        )
        query = _signed(str(int(time.time())), "n0nce", encrypt)
        body = f"<xml><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>".encode()
        return "POST", f"{CALLBACK_PATH}?{urlencode(query)}", body, headers
    xml = draw(callback_xml(user, media, buttons))
    body, query = sealed(xml, corp_id="wwother" if kind == "other_corp" else CORP_ID)
    if kind == "wrong_signature":
        query = {**query, **draw(_query())}
    return "POST", f"{CALLBACK_PATH}?{urlencode(query)}", body, headers


@st.composite
def _query(draw: st.DrawFn) -> dict[str, str]:
    names = st.sampled_from(["msg_signature", "timestamp", "nonce"])
    return draw(st.dictionaries(names, st.one_of(text, st.just("0" * 40)), max_size=3))


@st.composite
def _verification(draw: st.DrawFn) -> dict[str, str]:
    """URL verification: a signed echostr (one that decrypts, one that does not) or a forged
    query."""
    if draw(st.booleans()):
        echo = draw(text)
        encrypt = (
            SEALER.encrypt(echo, CORP_ID).decode()
            if draw(st.booleans())
            else draw(st.one_of(text, st.binary(max_size=60).map(lambda b: base64.b64encode(b))))
        )
        encrypt = encrypt.decode() if isinstance(encrypt, bytes) else encrypt
        timestamp, nonce = draw(text), draw(text)
        return {**_signed(timestamp, nonce, encrypt), "echostr": encrypt}
    names = st.sampled_from(["msg_signature", "timestamp", "nonce", "echostr"])
    return draw(st.dictionaries(names, text, max_size=4))


# A grid worker's report as WeCom brings it, one callback a step: the words, the place and the
# buttons pressed are generated (a button from the cards the app sent, at random).
REPORT_WALK = ["/report", "location", "image", "press", "press", "press", "words", "press"]


@st.composite
def walk_step(
    draw: st.DrawFn, step: str, user: str, media: list[str], buttons: Callable[[], list[str]]
) -> Request:
    head = (
        f"<ToUserName><![CDATA[{CORP_ID}]]></ToUserName>"
        f"<FromUserName><![CDATA[{user}]]></FromUserName>"
        f"<CreateTime>{next(SERIAL)}</CreateTime><AgentID>{AGENT_ID}</AgentID>"
    )
    msg_id = f"<MsgId>{next(SERIAL)}</MsgId>"
    if step == "location":
        lon, lat = (
            (str(INSIDE[0]), str(INSIDE[1]))
            if draw(st.integers(0, 4))
            else draw(st.tuples(st.sampled_from(COORDINATES), st.sampled_from(COORDINATES)))
        )
        body = (
            f"<MsgType><![CDATA[location]]></MsgType><Location_X>{escape(lat)}</Location_X>"
            f"<Location_Y>{escape(lon)}</Location_Y><Scale>15</Scale>"
            f"<Label><![CDATA[{draw(text)}]]></Label>{msg_id}"
        )
    elif step == "image":
        media_id = media[0] if draw(st.integers(0, 3)) else draw(st.sampled_from(media))
        body = f"<MsgType><![CDATA[image]]></MsgType><MediaId><![CDATA[{media_id}]]></MediaId>"
        body += msg_id
    elif step == "press":
        body = (
            "<MsgType><![CDATA[event]]></MsgType>"
            "<Event><![CDATA[template_card_event]]></Event>"
            f"<EventKey><![CDATA[{draw(_button(buttons))}]]></EventKey>"
            f"<TaskId><![CDATA[{draw(st.text(max_size=20))}]]></TaskId>"
            f"<ResponseCode><![CDATA[{draw(st.text(max_size=20))}]]></ResponseCode>"
        )
    else:
        words = step if step.startswith("/") else draw(text)
        body = f"<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{words}]]></Content>"
        body += msg_id
    payload, query = sealed(f"<xml>{head}{body}</xml>")
    return "POST", f"{CALLBACK_PATH}?{urlencode(query)}", payload, {"Content-Type": "text/xml"}
