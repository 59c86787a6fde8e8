"""A Telegram message or button press as the conversation core's Sender and event."""

from aiogram.types import CallbackQuery, Chat, Message, User

from bot.conversation.io import Command, Inbound, Location, Other, Photo, Press, Sender, Text

CHANNEL = "telegram"


def sender(user: User, chat: Chat | None) -> Sender:
    group = chat is not None and chat.type != "private"
    return Sender(
        CHANNEL,
        str(user.id),
        str(chat.id if chat is not None else user.id),
        is_group=group,
        display_name=(chat.title or "") if group and chat is not None else user.full_name,
        locale=user.language_code,
    )


def event_of(message: Message) -> Inbound:
    if message.text is not None:
        if message.text.startswith("/"):
            head, _sep, args = message.text.partition(" ")
            return Command(head[1:].split("@", 1)[0].lower(), args.strip())
        return Text(message.text)
    if message.venue is not None:
        venue = message.venue
        where, address = venue.location, f"{venue.title} {venue.address}".strip()
        return Location(
            where.longitude, where.latitude, "wgs84", where.horizontal_accuracy, address
        )
    if message.location is not None:
        where = message.location
        return Location(where.longitude, where.latitude, "wgs84", where.horizontal_accuracy)
    if message.photo:
        best = message.photo[-1]
        return Photo("telegram", best.file_id, "image/jpeg", best.file_size, message.caption or "")
    return Other("document" if message.document is not None else str(message.content_type))


def press_of(query: CallbackQuery) -> Press:
    message_id = str(query.message.message_id) if query.message is not None else ""
    return Press(query.data or "", message_id)
