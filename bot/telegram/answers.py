"""The conversation core's answers as Telegram calls: messages with inline keyboards, the
request-location keyboard, prompts that ask for a reply, and edits of the pressed message."""

from collections.abc import Awaitable
from html import escape

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import (
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)

from bot.conversation.i18n import translate
from bot.conversation.io import Buttons, ClearButtons, Edit, Outbound, Reply, Toast

# Telegram's answers to an edit that has nothing left to do: shown already, or deleted.
EDIT_MOOT = ("message is not modified", "message to edit not found")
Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | ForceReply


def inline(buttons: Buttons) -> InlineKeyboardMarkup | None:
    if not buttons:
        return None
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=b.label, callback_data=b.data) for b in row]
            for row in buttons
        ]
    )


def ask_location(locale: str) -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(
        keyboard=[
            [KeyboardButton(text=translate("📍 Send my location", locale), request_location=True)],
            [KeyboardButton(text=translate("Cancel", locale))],
        ],
        resize_keyboard=True,
        one_time_keyboard=True,
    )


async def edited(step: Awaitable[object]) -> None:
    """An edit of a message; one that is moot (no change, message deleted) is fine."""
    try:
        await step
    except TelegramBadRequest as exc:
        if not any(reason in exc.message.lower() for reason in EDIT_MOOT):
            raise


def first_toast(answers: list[Outbound]) -> Toast | None:
    return next((a for a in answers if isinstance(a, Toast)), None)


async def perform(
    bot: Bot, chat_id: str, answers: list[Outbound], locale: str, private: bool
) -> None:
    """Sends the replies and makes the edits (a toast is the callback's answer)."""
    for answer in answers:
        if isinstance(answer, Reply):
            markup = _markup(answer, locale, private)
            if answer.photo is not None and answer.photo.storage == "telegram":
                await bot.send_photo(
                    chat_id,
                    answer.photo.ref,
                    caption=escape(answer.text),
                    reply_markup=markup,
                    parse_mode="HTML",
                )
            else:
                await bot.send_message(
                    chat_id, escape(answer.text), reply_markup=markup, parse_mode="HTML"
                )
        elif isinstance(answer, Edit):
            message_id = int(answer.message_id)
            if answer.text is None:
                step = bot.edit_message_reply_markup(
                    chat_id=chat_id, message_id=message_id, reply_markup=inline(answer.buttons)
                )
            else:
                step = bot.edit_message_text(
                    text=escape(answer.text),
                    chat_id=chat_id,
                    message_id=message_id,
                    reply_markup=inline(answer.buttons),
                    parse_mode="HTML",
                )
            await edited(step)
        elif isinstance(answer, ClearButtons):
            await edited(
                bot.edit_message_reply_markup(
                    chat_id=chat_id, message_id=int(answer.message_id), reply_markup=None
                )
            )


def _markup(reply: Reply, locale: str, private: bool) -> Markup | None:
    if reply.buttons:
        return inline(reply.buttons)
    if reply.ask_location:
        return ask_location(locale)
    if reply.expects_reply:
        return ForceReply(selective=True)
    # A plain message in a private chat takes away the location keyboard, if it is showing.
    return ReplyKeyboardRemove() if private else None
