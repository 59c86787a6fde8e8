"""The report conversation of a grid worker: location → photos → category → description →
summary → confirm. The draft lives in the FSM storage (the database) until confirmed."""

import uuid
from html import escape
from typing import Any

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot import keyboards, texts
from bot.callbacks import CategoryCb, ReportCb
from bot.context import BotContext
from bot.handlers.common import attempt, drop_buttons, edited, is_cancel
from dispatch import queries
from dispatch.intake import MAX_PHOTOS, PhotoRef, ReportDraft
from dispatch.usecases.intake import ReportResult
from models import Person
from models.enums import CaseSource, LocationStatus, Role


class ReportFlow(StatesGroup):
    location = State()
    photos = State()
    category = State()
    description = State()
    summary = State()


def locale_of(ctx: BotContext) -> str:
    return ctx.i18n.current_locale


async def cancel_command(message: Message, state: FSMContext) -> None:
    await state.clear()
    await message.answer(_("Report cancelled."), reply_markup=keyboards.REMOVE)


async def cancel_button(query: CallbackQuery, state: FSMContext) -> None:
    await state.clear()
    await query.answer(_("Report cancelled."))
    if isinstance(query.message, Message):
        await drop_buttons(query.message)


async def start(message: Message, state: FSMContext, person: Person) -> None:
    if person.role is not Role.GRID_WORKER:
        await message.answer(_("Only grid workers report from the field."))
        return
    await state.clear()
    await state.set_state(ReportFlow.location)
    await state.set_data({"draft": uuid.uuid4().hex[:16], "photos": [], "person_id": person.id})
    await message.answer(
        _("Share the location of the incident with the button below."),
        reply_markup=keyboards.ask_location(),
    )


async def location(message: Message, state: FSMContext, ctx: BotContext) -> None:
    where = message.venue.location if message.venue else message.location
    assert where is not None
    found = ctx.casework.directory.locate(where.longitude, where.latitude)
    if found is None or found.status == LocationStatus.OUTSIDE:
        await message.answer(
            _(
                "This location is outside our jurisdiction; nothing was reported. "
                "Share a location inside the county, or Cancel."
            ),
            reply_markup=keyboards.ask_location(),
        )
        return
    address = f"{message.venue.title} {message.venue.address}".strip() if message.venue else ""
    await state.update_data(
        lon=where.longitude,
        lat=where.latitude,
        accuracy=where.horizontal_accuracy,
        address=address,
    )
    await state.set_state(ReportFlow.photos)
    await message.answer(_("📍 Location received."), reply_markup=keyboards.REMOVE)
    data = await state.get_data()
    await message.answer(
        _("Send one or more photos, then press Done. No photo? Press Skip."),
        reply_markup=keyboards.draft_step(data["draft"], "skip", "cancel"),
    )


async def not_a_location(message: Message, state: FSMContext, ctx: BotContext) -> None:
    if is_cancel(ctx, message.text):
        await cancel_command(message, state)
        return
    await message.answer(
        _("Please share a location: press the button below, or attach a location."),
        reply_markup=keyboards.ask_location(),
    )


async def photo(message: Message, state: FSMContext, ctx: BotContext) -> None:
    assert message.photo
    best = message.photo[-1]
    if best.file_size and best.file_size > ctx.max_upload_bytes:
        await message.reply(
            _("This photo is too large (over {mb} MB); please send a smaller one.").format(
                mb=ctx.max_upload_bytes // (1024 * 1024)
            )
        )
        return
    data = await state.get_data()
    photos = [*data["photos"], {"ref": best.file_id, "size": best.file_size}]
    await state.update_data(photos=photos)
    if len(photos) >= MAX_PHOTOS:
        await ask_category(message, state, ctx, data["draft"])
        return
    await message.answer(
        _("Photo {n} received. Send more, or press Done.").format(n=len(photos)),
        reply_markup=keyboards.draft_step(data["draft"], "done", "cancel"),
    )


async def not_a_photo(message: Message, state: FSMContext, ctx: BotContext) -> None:
    if is_cancel(ctx, message.text):
        await cancel_command(message, state)
        return
    data = await state.get_data()
    text = (
        _("Please send the picture as a photo, not as a file.")
        if message.document
        else _("Send photos, or press Done / Skip.")
    )
    await message.reply(text, reply_markup=keyboards.draft_step(data["draft"], "done", "skip"))


async def photos_done(
    query: CallbackQuery, callback_data: ReportCb, state: FSMContext, ctx: BotContext
) -> None:
    if not await _current(query, callback_data, state):
        return
    await query.answer()
    assert isinstance(query.message, Message)
    await ask_category(query.message, state, ctx, callback_data.draft)


async def ask_category(message: Message, state: FSMContext, ctx: BotContext, draft: str) -> None:
    await state.set_state(ReportFlow.category)
    data = await state.get_data()
    catalog = ctx.casework.catalog.categories
    async with ctx.casework.sessions() as session:
        frequent = await queries.cases.frequent_categories(session, data.get("person_id", 0))
    top = sorted(
        (c for c in catalog.values() if c.parent_code is None and c.active), key=lambda c: c.code
    )
    items = [catalog[code] for code in frequent if code in catalog] + top
    await message.answer(
        _("Choose the category:"), reply_markup=keyboards.categories(items, locale_of(ctx), draft)
    )


async def category(
    query: CallbackQuery, callback_data: CategoryCb, state: FSMContext, ctx: BotContext
) -> None:
    catalog = ctx.casework.catalog.categories
    chosen = catalog.get(callback_data.code)
    if chosen is None or not chosen.active:
        await query.answer(_("This button is not valid any more."), show_alert=True)
        return
    await query.answer()
    assert isinstance(query.message, Message)
    data = await state.get_data()
    if chosen.parent_code is None:
        children = sorted(
            (c for c in catalog.values() if c.parent_code == chosen.code and c.active),
            key=lambda c: c.code,
        )
        await edited(
            query.message.edit_text(
                _("{name}: choose the sub-category:").format(
                    name=keyboards.category_name(chosen, locale_of(ctx))
                ),
                reply_markup=keyboards.categories(children, locale_of(ctx), data["draft"]),
            )
        )
        return
    await state.update_data(category=chosen.code)
    await state.set_state(ReportFlow.description)
    await edited(
        query.message.edit_text(
            _("Category: {name}").format(name=keyboards.category_name(chosen, locale_of(ctx)))
        )
    )
    await query.message.answer(
        _("Describe the problem in a few words, or press Skip."),
        reply_markup=keyboards.draft_step(data["draft"], "skip", "cancel"),
    )


async def description(message: Message, state: FSMContext, ctx: BotContext, person: Person):
    if is_cancel(ctx, message.text):
        await cancel_command(message, state)
        return
    await state.update_data(description=(message.text or "").strip())
    await show_summary(message, state, ctx, person)


async def description_not_text(message: Message, state: FSMContext) -> None:
    data = await state.get_data()
    await message.reply(
        _("Describe the problem in a few words, or press Skip."),
        reply_markup=keyboards.draft_step(data["draft"], "skip", "cancel"),
    )


async def description_skipped(
    query: CallbackQuery,
    callback_data: ReportCb,
    state: FSMContext,
    ctx: BotContext,
    person: Person,
) -> None:
    if not await _current(query, callback_data, state):
        return
    await query.answer()
    assert isinstance(query.message, Message)
    await show_summary(query.message, state, ctx, person)


def draft_of(data: dict[str, Any], person: Person, duplicate_of: int | None = None) -> ReportDraft:
    return ReportDraft(
        source=CaseSource.GRID_WORKER,
        lon=data["lon"],
        lat=data["lat"],
        category_code=data["category"],
        accuracy_m=data.get("accuracy"),
        description=data.get("description", ""),
        address=data.get("address", ""),
        reporter_id=person.id,
        photos=[
            PhotoRef(storage="telegram", ref=p["ref"], size_bytes=p.get("size"))
            for p in data["photos"]
        ],
        external_ref=f"tg:{data['draft']}",
        duplicate_of=duplicate_of,
    )


async def show_summary(message: Message, state: FSMContext, ctx: BotContext, person: Person):
    data = await state.get_data()
    preview = await attempt(message, ctx.casework.intake.preview(draft_of(data, person)))
    if preview is None:
        await state.clear()
        return
    await state.set_state(ReportFlow.summary)
    category_row = ctx.casework.catalog.categories[data["category"]]
    lines = [
        _("Please check and submit:"),
        "📂 " + keyboards.category_name(category_row, locale_of(ctx)),
        "📍 "
        + escape(
            " · ".join(
                x for x in (preview.grid_name, preview.community_name, preview.town_name) if x
            )
        ),
        "🏢 " + escape(preview.department_name or _("not assigned")),
        "⏰ "
        + _("Deadline: {deadline}").format(
            deadline=texts.when(
                preview.deadline_at.isoformat() if preview.deadline_at else None, ctx.tz
            )
        ),
        "🖼 " + _("Photos: {n}").format(n=len(data["photos"])),
    ]
    if data.get("description"):
        lines.append("📝 " + escape(data["description"]))
    if preview.duplicates:
        lines.append(_("Possibly the same as an open case nearby:"))
    await message.answer(
        "\n".join(lines), reply_markup=keyboards.summary(data["draft"], preview.duplicates)
    )


async def confirm(
    query: CallbackQuery,
    callback_data: ReportCb,
    state: FSMContext,
    ctx: BotContext,
    person: Person,
) -> None:
    data = await state.get_data()
    if (
        await state.get_state() != ReportFlow.summary.state
        or data.get("draft") != callback_data.draft
    ):
        async with ctx.casework.sessions() as session:
            case = await queries.cases.case_by_external_ref(
                session, CaseSource.GRID_WORKER, f"tg:{callback_data.draft}"
            )
        await query.answer(
            _("Already submitted as case #{number}.").format(number=case.number)
            if case
            else _("This draft is no longer open."),
            show_alert=True,
        )
        return
    duplicate = callback_data.case_id if callback_data.action == "dup" else None
    result: ReportResult | None = await attempt(
        query, ctx.casework.intake.report(draft_of(data, person, duplicate))
    )
    if result is None:
        return
    await state.clear()
    assert isinstance(query.message, Message)
    await drop_buttons(query.message)
    number = result.case.number
    if not result.created and duplicate is None:
        # The same draft was submitted a moment ago (a double tap reaching another instance).
        await query.answer(
            _("Already submitted as case #{number}.").format(number=number), show_alert=True
        )
        return
    await query.answer()
    text = (
        _("✅ Reported: case #{number}.")
        if result.created
        else _("Linked to the open case #{number}.")
    )
    await query.message.answer(
        text.format(number=number)
        + "\n\n"
        + texts.summary(ctx.casework.snapshot(result.case), locale_of(ctx), ctx.tz),
    )


async def use_the_buttons(message: Message, state: FSMContext, ctx: BotContext) -> None:
    """Words where a button is expected (category, summary): say so; Cancel still works."""
    if is_cancel(ctx, message.text):
        await cancel_command(message, state)
        return
    await message.reply(_("Please use the buttons above, or Cancel."))


async def draft_gone(query: CallbackQuery) -> None:
    """A draft's button when the draft is not at that step any more (expired, finished)."""
    await query.answer(_("This draft is no longer open."), show_alert=True)


async def _current(query: CallbackQuery, callback_data: ReportCb, state: FSMContext) -> bool:
    data = await state.get_data()
    if data.get("draft") != callback_data.draft:
        await query.answer(_("This draft is no longer open."), show_alert=True)
        return False
    return True


def build() -> Router:
    router = Router(name="report")
    router.message.register(cancel_command, StateFilter(ReportFlow), Command("cancel"))
    router.callback_query.register(cancel_button, ReportCb.filter(F.action == "cancel"))
    router.message.register(start, Command("report"), F.chat.type == "private")
    router.message.register(location, ReportFlow.location, F.location | F.venue)
    router.message.register(not_a_location, ReportFlow.location)
    router.message.register(photo, ReportFlow.photos, F.photo)
    router.message.register(not_a_photo, ReportFlow.photos)
    router.callback_query.register(
        photos_done, ReportFlow.photos, ReportCb.filter(F.action.in_({"done", "skip"}))
    )
    router.callback_query.register(category, ReportFlow.category, CategoryCb.filter())
    router.message.register(use_the_buttons, StateFilter(ReportFlow.category, ReportFlow.summary))
    router.message.register(description, ReportFlow.description, F.text)
    router.message.register(description_not_text, ReportFlow.description)
    router.callback_query.register(
        description_skipped, ReportFlow.description, ReportCb.filter(F.action == "skip")
    )
    router.callback_query.register(confirm, ReportCb.filter(F.action.in_({"confirm", "dup"})))
    router.callback_query.register(draft_gone, ReportCb.filter())
    return router
