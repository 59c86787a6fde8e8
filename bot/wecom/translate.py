"""Translation between WeCom and the conversation interface: a parsed callback (wechatpy) to
`Sender` + `Inbound`; a `Reply` or an outbox `Card` to `message/send` and template card
payloads. Pure functions, no I/O."""

from dataclasses import dataclass
from typing import Any

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

CHANNEL = "wecom"
TEXT_LIMIT_BYTES = 2048  # message/send text.content
MARKDOWN_LIMIT_BYTES = 2048
CARD_BUTTONS = 6  # button_interaction: at most 6 buttons
CARD_TITLE_CHARS = 36
CARD_DESC_CHARS = 44
CARD_BODY_CHARS = 112  # sub_title_text
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


Translated = Inbound | ImageToFetch | CardPress | None


def field(message: Any, name: str) -> str:
    """A field of the callback XML as parsed by wechatpy (also for the event types wechatpy
    does not model, such as template_card_event)."""
    value = message._data.get(name)
    return "" if value is None else str(value)


def idempotency_key(message: Any) -> str:
    """WeCom resends a callback it thinks failed: messages by MsgId, events by user,
    creation time and event (and the key of the button or menu item)."""
    msg_id = field(message, "MsgId")
    if msg_id:
        return f"msg:{msg_id}"
    parts = ("FromUserName", "CreateTime", "Event", "EventKey", "TaskId")
    return "event:" + ":".join(field(message, p) for p in parts)


def sender(message: Any) -> Sender:
    user = field(message, "FromUserName")
    return Sender(channel=CHANNEL, user_id=user, chat_id=user)


def inbound(message: Any) -> Translated:
    """What the member did; None for a message type or event the conversation does not
    take."""
    kind = field(message, "MsgType").lower()
    if kind == "text":
        return text_or_command(field(message, "Content"))
    if kind == "image":
        return ImageToFetch(field(message, "MediaId"))
    if kind == "location":
        # WeCom sends GCJ-02; Location_X is the latitude, Location_Y the longitude.
        return Location(
            lon=float(field(message, "Location_Y")),
            lat=float(field(message, "Location_X")),
            crs="gcj02",
            address=field(message, "Label"),
        )
    if kind != "event":
        return None
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
        precision = field(message, "Precision")
        return Location(
            lon=float(field(message, "Longitude")),
            lat=float(field(message, "Latitude")),
            crs="gcj02",
            accuracy_m=float(precision) if precision else None,
        )
    return None


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
