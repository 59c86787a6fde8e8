"""One turn of a conversation: who spoke, their draft, and what to answer. The flows write
their answers into the turn; the core returns them to the channel adapter."""

from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from bot.conversation.buttons import ButtonSigner
from bot.conversation.drafts import Draft, DraftStore
from bot.conversation.i18n import render_error
from bot.conversation.io import Buttons, ClearButtons, Edit, Outbound, Reply, Sender, Toast
from dispatch.casework import Casework
from dispatch.core.errors import DomainError
from models import Person

T = TypeVar("T")


@dataclass(frozen=True)
class ConversationContext:
    """What the conversation needs from the rest of the system."""

    casework: Casework
    signer: ButtonSigner
    drafts: DraftStore
    max_upload_bytes: int = 10 * 1024 * 1024

    @property
    def tz(self) -> ZoneInfo:
        return self.casework.settings.tz


@dataclass
class Turn:
    ctx: ConversationContext
    sender: Sender
    person: Person | None
    locale: str
    draft: Draft
    pressed: bool = False  # the turn is a button press: errors go in a toast
    message_id: str = ""  # the pressed message
    out: list[Outbound] = field(default_factory=list)

    @property
    def casework(self) -> Casework:
        return self.ctx.casework

    @property
    def me(self) -> Person:
        """The registered person (the core lets only them past the gate)."""
        assert self.person is not None
        return self.person

    def reply(
        self,
        text: str,
        buttons: Buttons = (),
        ask_location: bool = False,
        expects_reply: bool = False,
    ) -> None:
        self.out.append(
            Reply(text, buttons, ask_location=ask_location, expects_reply=expects_reply)
        )

    def toast(self, text: str, alert: bool = False) -> None:
        self.out.append(Toast(text, alert))

    def refuse(self, text: str) -> None:
        """A refused press gets an alert; refused words get a reply."""
        if self.pressed:
            self.toast(text, alert=True)
        else:
            self.reply(text)

    def edit(self, text: str | None, buttons: Buttons = ()) -> None:
        if self.message_id:
            self.out.append(Edit(self.message_id, text, buttons))

    def clear_buttons(self) -> None:
        if self.message_id:
            self.out.append(ClearButtons(self.message_id))

    async def save(self, state: str, **data: Any) -> None:
        self.draft.state = state
        self.draft.data.update(data)
        await self.ctx.drafts.save(self.draft)

    async def start(self, state: str, **data: Any) -> None:
        """A new draft in place of whatever was pending."""
        self.draft.data = {}
        await self.save(state, **data)

    async def clear(self) -> None:
        await self.ctx.drafts.clear(self.draft)

    async def attempt(self, step: Awaitable[T]) -> T | None:
        """Runs a use case; a domain error is told to the person."""
        try:
            return await step
        except DomainError as error:
            self.refuse(render_error(error))
            return None
