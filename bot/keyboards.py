"""Inline and reply keyboards. Button labels go through gettext like every other text."""

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime

from aiogram.types import (
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from aiogram.utils.i18n import gettext as _

from bot.callbacks import CaseCb, CategoryCb, ExtensionCb, ReportCb, VerifyCb
from dispatch.core.lifecycle import Action
from dispatch.intake import DuplicateCandidate
from models import Category, Department

REMOVE = ReplyKeyboardRemove()


def _rows(buttons: Iterable[InlineKeyboardButton], width: int) -> list[list[InlineKeyboardButton]]:
    items = list(buttons)
    return [items[i : i + width] for i in range(0, len(items), width)]


def ask_location() -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(
        keyboard=[
            [KeyboardButton(text=_("📍 Send my location"), request_location=True)],
            [KeyboardButton(text=_("Cancel"))],
        ],
        resize_keyboard=True,
        one_time_keyboard=True,
    )


def force_reply() -> ForceReply:
    return ForceReply(selective=True)


def draft_step(draft: str, *actions: str) -> InlineKeyboardMarkup:
    labels = {"done": _("Done ✓"), "skip": _("Skip"), "cancel": _("Cancel")}
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=labels[a], callback_data=ReportCb(action=a, draft=draft).pack()
                )
                for a in actions
            ]
        ]
    )


def categories(
    items: Sequence[Category], locale: str, draft: str, width: int = 2
) -> InlineKeyboardMarkup:
    buttons = [
        InlineKeyboardButton(
            text=category_name(c, locale), callback_data=CategoryCb(code=c.code).pack()
        )
        for c in items
    ]
    rows = _rows(buttons, width)
    rows.append(
        [
            InlineKeyboardButton(
                text=_("Cancel"), callback_data=ReportCb(action="cancel", draft=draft).pack()
            )
        ]
    )
    return InlineKeyboardMarkup(inline_keyboard=rows)


def category_name(category: Category, locale: str) -> str:
    return category.name_en if locale == "en" and category.name_en else category.name_zh


def summary(draft: str, duplicates: Sequence[DuplicateCandidate]) -> InlineKeyboardMarkup:
    rows = [
        [
            InlineKeyboardButton(
                text=_("Same as #{number}? ({distance} m)").format(
                    number=d.number, distance=round(d.distance_m)
                ),
                callback_data=ReportCb(action="dup", draft=draft, case_id=d.case_id).pack(),
            )
        ]
        for d in duplicates[:3]
    ]
    rows.append(
        [
            InlineKeyboardButton(
                text=_("✅ Submit"), callback_data=ReportCb(action="confirm", draft=draft).pack()
            ),
            InlineKeyboardButton(
                text=_("Cancel"), callback_data=ReportCb(action="cancel", draft=draft).pack()
            ),
        ]
    )
    return InlineKeyboardMarkup(inline_keyboard=rows)


def _case_button(text: str, action: Action, case_id: int, version: int) -> InlineKeyboardButton:
    return InlineKeyboardButton(
        text=text,
        callback_data=CaseCb(action=action.value, case_id=case_id, version=version).pack(),
    )


def card(case_id: int, version: int, status: str) -> InlineKeyboardMarkup | None:
    """The office's buttons for the status the card shows."""
    if status == "dispatched":
        row = [
            _case_button(_("Accept"), Action.ACCEPT, case_id, version),
            _case_button(_("Return"), Action.RETURN, case_id, version),
            _case_button(_("Transfer"), Action.TRANSFER, case_id, version),
        ]
    elif status == "accepted":
        row = [
            _case_button(_("Resolve"), Action.RESOLVE, case_id, version),
            _case_button(_("Request extension"), Action.REQUEST_EXTENSION, case_id, version),
        ]
    else:
        return None
    return InlineKeyboardMarkup(inline_keyboard=[row])


def urge(case_id: int, version: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[_case_button(_("Urge"), Action.URGE, case_id, version)]]
    )


def urge_each(cases: Sequence[tuple[int, int, str]]) -> InlineKeyboardMarkup | None:
    """One Urge button per (case id, version, number), for a list of alerts."""
    buttons = [
        _case_button(_("Urge #{number}").format(number=number), Action.URGE, case_id, version)
        for case_id, version, number in cases
    ]
    return InlineKeyboardMarkup(inline_keyboard=_rows(buttons, 2)) if buttons else None


def verify(case_id: int, version: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=_("✅ Fixed"),
                    callback_data=VerifyCb(case_id=case_id, version=version, fixed=True).pack(),
                ),
                InlineKeyboardButton(
                    text=_("❌ Not fixed"),
                    callback_data=VerifyCb(case_id=case_id, version=version, fixed=False).pack(),
                ),
            ]
        ]
    )


def departments(
    items: Iterable[Department], locale: str, data: Callable[[int], str]
) -> InlineKeyboardMarkup:
    """One button per office; `data` packs the callback data for a department id."""
    buttons = [
        InlineKeyboardButton(
            text=d.name_en if locale == "en" and d.name_en else d.name, callback_data=data(d.id)
        )
        for d in items
    ]
    return InlineKeyboardMarkup(inline_keyboard=_rows(buttons, 2))


def new_report(case_id: int, version: int) -> InlineKeyboardMarkup:
    """A citizen's report waiting for a dispatcher: 立案并派遣 or 作废."""
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                _case_button(_("File and dispatch"), Action.FILE, case_id, version),
                _case_button(_("Void"), Action.VOID, case_id, version),
            ]
        ]
    )


def returned(case_id: int, version: int) -> InlineKeyboardMarkup:
    """A case the office returned: 改派 re-dispatch."""
    return InlineKeyboardMarkup(
        inline_keyboard=[[_case_button(_("Re-dispatch"), Action.DISPATCH, case_id, version)]]
    )


def extension(case_id: int, until: datetime) -> InlineKeyboardMarkup:
    """The dispatcher's 批准 / 驳回 on the extension request for `until`."""
    stamp = int(until.timestamp())
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=_("Approve"),
                    callback_data=ExtensionCb(case_id=case_id, until=stamp, approve=True).pack(),
                ),
                InlineKeyboardButton(
                    text=_("Deny"),
                    callback_data=ExtensionCb(case_id=case_id, until=stamp, approve=False).pack(),
                ),
            ]
        ]
    )
