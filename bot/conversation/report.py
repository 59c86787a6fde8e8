"""The report of a grid worker: location → photos → category → description → summary →
confirm. The draft lives in the database until confirmed."""

import uuid
from typing import Any

from bot.conversation import buttons as data
from bot.conversation.i18n import LOCALES, _, translate
from bot.conversation.io import Button, Buttons, Inbound, Location, Other, Photo, Text
from bot.conversation.render import summary, when
from bot.conversation.turn import Turn
from dispatch import queries
from dispatch.intake import MAX_PHOTOS, DuplicateCandidate, PhotoRef, ReportDraft
from geo.coords import to_wgs84
from models import Category, Person
from models.enums import CaseSource, CoordSystem, LocationStatus, Role

PREFIX = "report:"
LOCATION, PHOTOS, CATEGORY, DESCRIPTION, SUMMARY = (
    f"{PREFIX}{step}" for step in ("location", "photos", "category", "description", "summary")
)
# How each channel's drafts are told apart in the case's external reference.
REF_PREFIX = {"telegram": "tg"}


def is_cancel(event: Inbound) -> bool:
    if not isinstance(event, Text):
        return False
    words = {translate("Cancel", locale) for locale in LOCALES}
    return event.text.strip() in words | {"/cancel"}


def category_name(category: Category, locale: str) -> str:
    return category.name_en if locale == "en" and category.name_en else category.name_zh


def step_buttons(draft: str, *actions: str) -> Buttons:
    labels = {"done": _("Done ✓"), "skip": _("Skip"), "cancel": _("Cancel")}
    return (tuple(Button(labels[a], data.draft_step(a, draft)) for a in actions),)


def category_buttons(items: list[Category], locale: str, draft: str, width: int = 2) -> Buttons:
    found = [Button(category_name(c, locale), data.category(c.code)) for c in items]
    rows = [tuple(found[i : i + width]) for i in range(0, len(found), width)]
    return (*rows, (Button(_("Cancel"), data.draft_step("cancel", draft)),))


def summary_buttons(draft: str, duplicates: list[DuplicateCandidate]) -> Buttons:
    rows = [
        (
            Button(
                _("Same as #{number}? ({distance} m)").format(
                    number=d.number, distance=round(d.distance_m)
                ),
                data.draft_step("dup", draft, d.case_id),
            ),
        )
        for d in duplicates
    ]
    submit = (
        Button(_("✅ Submit"), data.draft_step("confirm", draft)),
        Button(_("Cancel"), data.draft_step("cancel", draft)),
    )
    return (*rows, submit)


async def cancel(t: Turn) -> None:
    await t.clear()
    t.reply(_("Report cancelled."))


async def start(t: Turn) -> None:
    if t.me.role is not Role.GRID_WORKER:
        t.reply(_("Only grid workers report from the field."))
        return
    await t.start(LOCATION, draft=uuid.uuid4().hex[:16], photos=[], person_id=t.me.id)
    t.reply(_("Share the location of the incident with the button below."), ask_location=True)


async def on_message(t: Turn, event: Inbound) -> None:
    """Words, a location or a photo while a draft is open."""
    if is_cancel(event):
        await cancel(t)
        return
    state, draft = t.draft.state, t.draft.data["draft"]
    if state == LOCATION:
        if isinstance(event, Location):
            await location(t, event)
        else:
            t.reply(
                _("Please share a location: press the button below, or attach a location."),
                ask_location=True,
            )
    elif state == PHOTOS:
        if isinstance(event, Photo):
            await photo(t, event)
        elif isinstance(event, Other) and event.kind == "document":
            t.reply(
                _("Please send the picture as a photo, not as a file."),
                step_buttons(draft, "done", "skip"),
            )
        else:
            t.reply(_("Send photos, or press Done / Skip."), step_buttons(draft, "done", "skip"))
    elif state == DESCRIPTION:
        if isinstance(event, Text):
            t.draft.data["description"] = event.text.strip()
            await show_summary(t)
        else:
            t.reply(
                _("Describe the problem in a few words, or press Skip."),
                step_buttons(draft, "skip", "cancel"),
            )
    else:  # the category keyboard or the summary is showing
        t.reply(_("Please use the buttons above, or Cancel."))


async def location(t: Turn, where: Location) -> None:
    try:
        lon, lat = to_wgs84(where.lon, where.lat, where.crs)
    except ValueError:
        lon, lat = where.lon, where.lat
    found = t.casework.directory.locate(float(lon), float(lat))
    if found is None or found.status == LocationStatus.OUTSIDE:
        t.reply(
            _(
                "This location is outside our jurisdiction; nothing was reported. "
                "Share a location inside the county, or Cancel."
            ),
            ask_location=True,
        )
        return
    await t.save(
        PHOTOS,
        lon=where.lon,
        lat=where.lat,
        crs=where.crs,
        accuracy=where.accuracy_m,
        address=where.address,
    )
    t.reply(_("📍 Location received."))
    t.reply(
        _("Send one or more photos, then press Done. No photo? Press Skip."),
        step_buttons(t.draft.data["draft"], "skip", "cancel"),
    )


def too_large(t: Turn, photo: Photo) -> bool:
    return bool(photo.size_bytes and photo.size_bytes > t.ctx.max_upload_bytes)


def too_large_text(t: Turn) -> str:
    return _("This photo is too large (over {mb} MB); please send a smaller one.").format(
        mb=t.ctx.max_upload_bytes // (1024 * 1024)
    )


def stored(photo: Photo) -> dict[str, Any]:
    return {"storage": photo.storage, "ref": photo.ref, "size": photo.size_bytes}


async def photo(t: Turn, photo: Photo) -> None:
    if too_large(t, photo):
        t.reply(too_large_text(t))
        return
    photos = [*t.draft.data["photos"], stored(photo)]
    await t.save(PHOTOS, photos=photos)
    if len(photos) >= MAX_PHOTOS:
        await ask_category(t)
        return
    t.reply(
        _("Photo {n} received. Send more, or press Done.").format(n=len(photos)),
        step_buttons(t.draft.data["draft"], "done", "cancel"),
    )


async def ask_category(t: Turn) -> None:
    await t.save(CATEGORY)
    catalog = t.casework.catalog.categories
    async with t.casework.sessions() as session:
        frequent = await queries.cases.frequent_categories(
            session, t.draft.data.get("person_id", 0)
        )
    top = sorted(
        (c for c in catalog.values() if c.parent_code is None and c.active), key=lambda c: c.code
    )
    items = [catalog[code] for code in frequent if code in catalog] + top
    t.reply(_("Choose the category:"), category_buttons(items, t.locale, t.draft.data["draft"]))


async def on_category(t: Turn, code: str) -> None:
    catalog = t.casework.catalog.categories
    chosen = catalog.get(code)
    if t.draft.state != CATEGORY or chosen is None or not chosen.active:
        t.toast(_("This button is not valid any more."), alert=True)
        return
    draft = t.draft.data["draft"]
    if chosen.parent_code is None:
        children = sorted(
            (c for c in catalog.values() if c.parent_code == chosen.code and c.active),
            key=lambda c: c.code,
        )
        t.edit(
            _("{name}: choose the sub-category:").format(name=category_name(chosen, t.locale)),
            category_buttons(children, t.locale, draft),
        )
        return
    await t.save(DESCRIPTION, category=chosen.code)
    t.edit(_("Category: {name}").format(name=category_name(chosen, t.locale)))
    t.reply(
        _("Describe the problem in a few words, or press Skip."),
        step_buttons(draft, "skip", "cancel"),
    )


def draft_of(t: Turn, person: Person, duplicate_of: int | None = None) -> ReportDraft:
    d = t.draft.data
    prefix = REF_PREFIX.get(t.sender.channel, t.sender.channel)
    return ReportDraft(
        source=CaseSource.GRID_WORKER,
        lon=d["lon"],
        lat=d["lat"],
        crs=CoordSystem(d.get("crs") or "wgs84"),
        category_code=d["category"],
        accuracy_m=d.get("accuracy"),
        description=d.get("description", ""),
        address=d.get("address", ""),
        reporter_id=person.id,
        photos=[
            PhotoRef(storage=p.get("storage", "telegram"), ref=p["ref"], size_bytes=p.get("size"))
            for p in d["photos"]
        ],
        external_ref=f"{prefix}:{d['draft']}",
        duplicate_of=duplicate_of,
    )


async def show_summary(t: Turn) -> None:
    d = t.draft.data
    preview = await t.attempt(t.casework.intake.preview(draft_of(t, t.me)))
    if preview is None:
        await t.clear()
        return
    duplicates = list(preview.duplicates[:3])
    await t.save(SUMMARY, duplicates=[x.case_id for x in duplicates])
    category_row = t.casework.catalog.categories[d["category"]]
    places = (preview.grid_name, preview.community_name, preview.town_name)
    deadline = preview.deadline_at.isoformat() if preview.deadline_at else None
    lines = [
        _("Please check and submit:"),
        "📂 " + category_name(category_row, t.locale),
        "📍 " + " · ".join(x for x in places if x),
        "🏢 " + (preview.department_name or _("not assigned")),
        "⏰ " + _("Deadline: {deadline}").format(deadline=when(deadline, t.ctx.tz)),
        "🖼 " + _("Photos: {n}").format(n=len(d["photos"])),
    ]
    if d.get("description"):
        lines.append("📝 " + d["description"])
    if duplicates:
        lines.append(_("Possibly the same as an open case nearby:"))
    t.reply("\n".join(lines), summary_buttons(d["draft"], duplicates))


def draft_gone() -> str:
    return _("This draft is no longer open.")


async def on_button(t: Turn, raw: str) -> None:
    """r:{action}:{draft}:{case}: a step of the draft that showed this button."""
    parts = raw.split(":")
    if len(parts) != 4 or not parts[3].isdigit():
        t.toast(_("This button is not valid any more."), alert=True)
        return
    _r, action, draft, case = parts
    current = t.draft.data.get("draft") == draft and t.draft.state is not None
    current = current and (t.draft.state or "").startswith(PREFIX)
    if action in ("confirm", "dup"):
        await confirm(t, draft, int(case) if action == "dup" else None)
        return
    if not current:
        t.toast(draft_gone(), alert=True)
        return
    if action == "cancel":
        await t.clear()
        t.toast(_("Report cancelled."))
        t.clear_buttons()
    elif action in ("done", "skip") and t.draft.state == PHOTOS:
        await ask_category(t)
    elif action == "skip" and t.draft.state == DESCRIPTION:
        await show_summary(t)
    else:
        t.toast(draft_gone(), alert=True)


async def confirm(t: Turn, draft: str, duplicate: int | None) -> None:
    d = t.draft.data
    prefix = REF_PREFIX.get(t.sender.channel, t.sender.channel)
    if t.draft.state != SUMMARY or d.get("draft") != draft:
        async with t.casework.sessions() as session:
            case = await queries.cases.case_by_external_ref(
                session, CaseSource.GRID_WORKER, f"{prefix}:{draft}"
            )
        t.toast(
            _("Already submitted as case #{number}.").format(number=case.number)
            if case
            else draft_gone(),
            alert=True,
        )
        return
    if duplicate is not None and duplicate not in d.get("duplicates", []):
        t.toast(_("This button is not valid any more."), alert=True)
        return
    result = await t.attempt(t.casework.intake.report(draft_of(t, t.me, duplicate)))
    if result is None:
        return
    await t.clear()
    t.clear_buttons()
    number = result.case.number
    if not result.created and duplicate is None:
        # The same draft was submitted a moment ago (a double tap reaching another instance).
        t.toast(_("Already submitted as case #{number}.").format(number=number), alert=True)
        return
    text = (
        _("✅ Reported: case #{number}.")
        if result.created
        else _("Linked to the open case #{number}.")
    )
    t.reply(
        text.format(number=number)
        + "\n\n"
        + summary(t.casework.snapshot(result.case), t.locale, t.ctx.tz)
    )
