"""What a person did in a chat, and what to show them: the conversation core's vocabulary,
shared by every channel adapter (Telegram, WeCom, the console's web chat)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Sender:
    channel: str  # "telegram" | "wecom" | "web"
    user_id: str  # the person's id on that channel
    chat_id: str  # where answers go (= user_id for a private chat; the group's id otherwise)
    is_group: bool = False
    display_name: str = ""
    locale: str | None = None  # the client's language hint, if any

    @property
    def key(self) -> str:
        """The conversation's key: one draft per channel, chat and person."""
        return f"{self.channel}:{self.chat_id}:{self.user_id}"


@dataclass(frozen=True)
class Text:
    text: str


@dataclass(frozen=True)
class Command:
    name: str  # "/start CODE" -> Command("start", "CODE")
    args: str = ""


@dataclass(frozen=True)
class Location:
    lon: float
    lat: float
    crs: str  # "wgs84" (Telegram, web map click) | "gcj02" (WeCom) | "bd09"
    accuracy_m: float | None = None
    address: str = ""


@dataclass(frozen=True)
class Photo:
    storage: str  # "telegram" (a file id) | "local" (a file under the media dir)
    ref: str
    content_type: str | None = None
    size_bytes: int | None = None
    caption: str = ""  # words sent with the photo (a note for a step)


@dataclass(frozen=True)
class Press:
    data: str  # the button's data string as sent
    message_id: str = ""  # the message the button is on, where the channel tells


@dataclass(frozen=True)
class Other:
    """Anything else: a file instead of a photo ("document"), a sticker, a voice note."""

    kind: str = ""


Inbound = Text | Command | Location | Photo | Press | Other


@dataclass(frozen=True)
class Button:
    label: str
    data: str


Buttons = tuple[tuple[Button, ...], ...]


@dataclass(frozen=True)
class Reply:
    """A message to show in the sender's chat."""

    text: str
    buttons: Buttons = ()  # rows of buttons
    ask_location: bool = False  # offer the channel's "send my location" affordance
    photo: Photo | None = None
    expects_reply: bool = False  # a prompt whose answer must reach us (Telegram: ForceReply)


@dataclass(frozen=True)
class Toast:
    """The short answer to a button press."""

    text: str
    alert: bool = False


@dataclass(frozen=True)
class ClearButtons:
    """Take the buttons off the pressed message."""

    message_id: str


@dataclass(frozen=True)
class Edit:
    """Show the pressed message anew: new words (None: keep them) and these buttons."""

    message_id: str
    text: str | None = None
    buttons: Buttons = ()


Outbound = Reply | Toast | ClearButtons | Edit
