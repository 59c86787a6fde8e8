"""The channel-neutral conversation core: registration, the report flow, the office card's
actions, verification, supervisors' and dispatchers' buttons. Imports no chat library."""

from bot.conversation.buttons import ButtonSigner
from bot.conversation.core import Conversation
from bot.conversation.drafts import DraftStore
from bot.conversation.turn import ConversationContext

__all__ = ["ButtonSigner", "Conversation", "ConversationContext", "DraftStore"]
