"""Translation between WeCom and the conversation interface: a parsed callback (wechatpy) to
`Sender` + `Inbound`; a `Reply` or an outbox `Card` to `message/send` and template card
payloads. Pure functions, no I/O."""

import hashlib
import math
from dataclasses import dataclass
from typing import Any
from xml.parsers.expat import ExpatError

import xmltodict
from wechatpy.enterprise import parse_message

from bot.conversation.io import (
    Button,
    Command,
    Inbound,
    Location,
    Press,
    Reply,
    Sender,
    Text,
)
from bot.conversation.render import Card
from dispatch.core.errors import N_

CHANNEL = "wecom"
TEXT_LIMIT_BYTES = 2048  # message/send text.content
MARKDOWN_LIMIT_BYTES = 2048
CARD_BUTTONS = 6  # button_interaction: at most 6 buttons
CARD_TITLE_CHARS = 36
CARD_DESC_CHARS = 44
CARD_BODY_CHARS = 112  # sub_title_text
USERID_CHARS = 64  # a member's userid in WeCom (and chat_identities.external_id)
KEY_CHARS = 200  # inbound_updates.key
SOURCE = "网格化治理"


@dataclass(frozen=True)
class ImageToFetch:
    """An image message: the picture must be fetched with `media/get` before the
    conversation sees it as a `Photo`."""

    media_id: str


@dataclass(frozen=True)
class CardPress:
    """A button pressed on a template card: the press for the conversation, and the fresh
    one-time code WeCom gives to update that card."""

    press: Press
    response_code: str


@dataclass(frozen=True)
class NotTaken:
    """A message the conversation does not take (a voice message, a location that is not a
    place): the member is told why (`hint`, a msgid of the bot catalog)."""

    hint: str


UNHANDLED = NotTaken(N_("This message type is not handled. Send text, a location or a photo."))
NO_PLACE = NotTaken(N_("That location could not be read. Please send it again."))

# None: an event the member did not send to the conversation (entering a chat's settings, a
# contact change, a location report that is not a place), dropped.
Translated = Inbound | ImageToFetch | CardPress | NotTaken | None


class NotAMessage(ValueError):
    """Decrypted callback XML that is not shaped like a WeCom message."""


def parse(xml: str) -> Any:
    """The callback as wechatpy parses it. wechatpy trusts the shape of the XML (an empty
    body, a root with text only, an empty or repeated MsgType or Event raise whatever they
    raise there), so the shape is checked first: NotAMessage for one that is wrong."""
    try:
        root = xmltodict.parse(xml).get("xml") if xml.strip() else None
    except ExpatError as exc:
        raise NotAMessage(f"not XML: {exc}") from None
    if not isinstance(root, dict):
        raise NotAMessage("no <xml> element with fields")
    needed = ["FromUserName", "MsgType"]
    if isinstance(root.get("MsgType"), str) and root["MsgType"].lower() == "event":
        needed.append("Event")
    for name in needed:
        if not isinstance(root.get(name), str) or not root[name].strip():
            raise NotAMessage(f"no {name}")
    if len(root["FromUserName"]) > USERID_CHARS:
        raise NotAMessage("a sender that is not a WeCom userid")
    return parse_message(xml)


def field(message: Any, name: str) -> str:
    """A field of the callback XML as parsed by wechatpy (also for the event types wechatpy
    does not model, such as template_card_event); "" for one that is missing, empty, or not
    plain text (repeated, or with elements inside)."""
    value = message._data.get(name)
    return value if isinstance(value, str) else ""


def idempotency_key(message: Any) -> str:
    """WeCom resends a callback it thinks failed: messages by MsgId, events by user,
    creation time and event (and the key of the button or menu item)."""
    msg_id = field(message, "MsgId")
    if msg_id:
        key = f"msg:{msg_id}"
    else:
        parts = ("FromUserName", "CreateTime", "Event", "EventKey", "TaskId")
        key = "event:" + ":".join(field(message, p) for p in parts)
    if len(key) > KEY_CHARS:  # a long button key: the same callback gives the same digest
        return key[:6] + "sha256:" + hashlib.sha256(key.encode()).hexdigest()
    return key


def sender(message: Any) -> Sender:
    user = field(message, "FromUserName")
    return Sender(channel=CHANNEL, user_id=user, chat_id=user)


def inbound(message: Any) -> Translated:
    """What the member did: an input for the conversation, a message it does not take, or
    None for an event to drop."""
    kind = field(message, "MsgType").lower()
    if kind == "text":
        return text_or_command(field(message, "Content"))
    if kind == "image":
        return ImageToFetch(field(message, "MediaId"))
    if kind == "location":
        # WeCom sends GCJ-02; Location_X is the latitude, Location_Y the longitude.
        place = _place(field(message, "Location_Y"), field(message, "Location_X"))
        if place is None:
            return NO_PLACE
        return Location(*place, crs="gcj02", address=field(message, "Label"))
    if kind != "event":
        return UNHANDLED
    event = field(message, "Event")
    if event == "enter_agent":
        return Command("start")
    if event == "click":
        name, _, args = field(message, "EventKey").lstrip("/").partition(" ")
        return Command(name, args) if name else None
    if event == "template_card_event":
        press = Press(field(message, "EventKey"), message_id=field(message, "TaskId"))
        return CardPress(press, field(message, "ResponseCode"))
    if event.upper() == "LOCATION":
        place = _place(field(message, "Longitude"), field(message, "Latitude"))
        if place is None:
            return None
        precision = _number(field(message, "Precision"))
        accuracy = precision if precision is not None and precision >= 0 else None
        return Location(*place, crs="gcj02", accuracy_m=accuracy)
    return None


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _place(lon_text: str, lat_text: str) -> tuple[float, float] | None:
    """The (lon, lat) of a callback; None unless both are numbers on the globe."""
    lon, lat = _number(lon_text), _number(lat_text)
    if lon is None or lat is None or not (-180 <= lon <= 180 and -90 <= lat <= 90):
        return None
    return lon, lat


def text_or_command(content: str) -> Text | Command:
    content = content.strip()
    if content.startswith("/") and len(content) > 1:
        name, _, args = content[1:].partition(" ")
        return Command(name.lower(), args.strip())
    return Text(content)


# -- outbound ---------------------------------------------------------------------------


def split_utf8(text: str, limit: int = TEXT_LIMIT_BYTES) -> list[str]:
    """Pieces of at most `limit` UTF-8 bytes, cut between characters, preferably at a line
    break."""
    pieces: list[str] = []
    while len(text.encode()) > limit:
        cut = len(text.encode()[:limit].decode(errors="ignore"))  # whole characters only
        newline = text.rfind("\n", 0, cut)
        if newline > cut // 2:
            cut = newline + 1
        pieces.append(text[:cut])
        text = text[cut:]
    return [*pieces, text] if text or not pieces else pieces


def text_messages(text: str) -> list[tuple[str, dict[str, Any]]]:
    return [("text", {"content": piece}) for piece in split_utf8(text)]


def _short(text: str, chars: int) -> str:
    return text if len(text) <= chars else text[: chars - 1] + "…"


def _button_list(buttons: tuple[Button, ...]) -> list[dict[str, Any]]:
    return [
        {"text": _short(b.label, 10), "style": 1 if i == 0 else 2, "key": b.data}
        for i, b in enumerate(buttons)
    ]


def template_card(
    title: str, body: str, buttons: tuple[Button, ...], task_id: str, status_line: str = ""
) -> dict[str, Any]:
    """A `button_interaction` template card; WeCom allows at most six buttons."""
    card: dict[str, Any] = {
        "card_type": "button_interaction",
        "source": {"desc": SOURCE},
        "main_title": {"title": _short(title, CARD_TITLE_CHARS)},
        "sub_title_text": _short(body, CARD_BODY_CHARS),
        "task_id": task_id,
        "button_list": _button_list(buttons[:CARD_BUTTONS]),
    }
    if status_line:
        card["main_title"]["desc"] = _short(status_line, CARD_DESC_CHARS)
    return card


def flat_buttons(rows: tuple[tuple[Button, ...], ...]) -> tuple[Button, ...]:
    return tuple(b for row in rows for b in row)


def reply_messages(reply: Reply, task_id: str) -> list[tuple[str, dict[str, Any]]]:
    """A reply as `message/send` bodies (msgtype, body). Buttons become template cards of
    up to six buttons each (task ids `task_id`, `task_id-2`...); a text too long for a card
    goes first as text messages. The photo is sent by the caller (it needs an upload)."""
    buttons = flat_buttons(reply.buttons)
    if not buttons:
        return text_messages(reply.text)
    title, _, body = reply.text.partition("\n")
    messages: list[tuple[str, dict[str, Any]]] = []
    if len(reply.text) > CARD_BODY_CHARS:
        messages += text_messages(reply.text)
        body = ""
    for n, start in enumerate(range(0, len(buttons), CARD_BUTTONS), start=1):
        chunk = buttons[start : start + CARD_BUTTONS]
        card_id = task_id if n == 1 else f"{task_id}-{n}"
        messages.append(("template_card", template_card(title, body, chunk, card_id)))
    return messages


def card_message(card: Card, task_id: str) -> tuple[str, dict[str, Any]]:
    """An outbox card: a template card with its buttons, or markdown when it has none."""
    buttons = flat_buttons(card.buttons)
    if buttons:
        return "template_card", template_card(
            card.title, card.text, buttons, task_id, card.status_line
        )
    lines = [f"**{card.title}**", card.text]
    if card.status_line:
        lines.append(f"> {card.status_line}")
    content = "\n".join(line for line in lines if line)
    return "markdown", {"content": split_utf8(content, MARKDOWN_LIMIT_BYTES)[0]}
