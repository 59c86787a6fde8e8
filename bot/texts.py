"""How a case looks in a chat: the card, the message of each outbox kind (with a dispatcher's
decision buttons where one is awaited), and a dispatcher's message once decided. Everything
is rendered from `Casework.snapshot` payloads in the current gettext locale, as HTML."""

from dataclasses import dataclass
from datetime import datetime
from html import escape
from typing import Any
from zoneinfo import ZoneInfo

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from bot import keyboards
from dispatch.core.errors import N_
from dispatch.core.lifecycle import Action

LIGHTS = {"green": "🟢", "yellow": "🟡", "red": "🔴"}
STATUS = {
    "reported": N_("reported"),
    "filed": N_("filed"),
    "dispatched": N_("dispatched, waiting for acceptance"),
    "accepted": N_("accepted, being handled"),
    "returned": N_("returned"),
    "resolved": N_("resolved, waiting for verification"),
    "closed": N_("closed"),
    "suspended": N_("suspended"),
    "voided": N_("voided"),
    "merged": N_("merged"),
}
# The head of a dispatcher's message once the decision is taken on it.
DECIDED = {
    Action.APPROVE_EXTENSION: N_("✅ Extension for case #{number} approved."),
    Action.DENY_EXTENSION: N_("❌ Extension for case #{number} denied."),
    Action.DISPATCH: N_("📤 Case #{number} dispatched to {department}."),
    Action.VOID: N_("🗑 Case #{number} voided."),
}


@dataclass(frozen=True)
class Rendered:
    text: str
    photo: str | None = None  # a Telegram file id
    markup: InlineKeyboardMarkup | None = None


def light(value: str | None) -> str:
    return LIGHTS.get(value or "", "⚪")


def when(iso: str | None, tz: ZoneInfo) -> str:
    if not iso:
        return _("no time limit")
    return f"{datetime.fromisoformat(iso).astimezone(tz):%Y-%m-%d %H:%M}"


def status(value: str) -> str:
    return _(STATUS.get(value, value))


def category(p: dict[str, Any], locale: str) -> str:
    return escape(p["category_en"] if locale == "en" else p["category_zh"])


def department(p: dict[str, Any], locale: str) -> str:
    name = p.get("department_en") if locale == "en" else p.get("department")
    return escape(name or p.get("department") or _("not assigned"))


def _photo(p: dict[str, Any], purpose: str, newest: bool = False) -> str | None:
    """The first (or newest) Telegram photo of that purpose: report, result, rework."""
    refs = [
        x["ref"]
        for x in p.get("photos", [])
        if x["storage"] == "telegram" and x["purpose"] == purpose
    ]
    if not refs:
        return None
    return refs[-1] if newest else refs[0]


def summary(p: dict[str, Any], locale: str, tz: ZoneInfo) -> str:
    """The case in a few lines: number, light, category, place, office, deadline, status."""
    lines = [
        f"{light(p.get('light'))} <b>#{escape(p['number'] or '')}</b> {category(p, locale)}",
        "📍 " + escape(" · ".join(x for x in (p.get("address"), p["grid"], p["community"]) if x)),
        f"🗺 {p['lat']:.5f}, {p['lon']:.5f}",
        "🏢 " + department(p, locale),
        "⏰ " + _("Deadline: {deadline}").format(deadline=when(p.get("deadline"), tz)),
        "📋 " + _("Status: {status}").format(status=status(p["status"])),
    ]
    if p.get("description"):
        lines.append("📝 " + escape(p["description"]))
    return "\n".join(lines)


def _with_note(text: str, p: dict[str, Any]) -> str:
    if p.get("note"):
        text += "\n💬 " + escape(p["note"])
    if p.get("actor"):
        # The system acting on its own (automatic dispatch, the escalation ladder) is named
        # by a msgid; a person by their name.
        actor = _(p["actor"]) if p.get("actor_is_system") else p["actor"]
        text += "\n👤 " + escape(actor)
    return text


def render(kind: str, p: dict[str, Any], locale: str, tz: ZoneInfo) -> Rendered:
    """The message for one outbox kind in the current locale."""
    if kind == "digest":
        return Rendered(digest(p, locale, tz))
    if kind == "alerts":
        return alerts(p["alerts"], locale, tz)
    body = summary(p, locale, tz)
    number = escape(p.get("number") or "")
    case_id, version = p["case_id"], p["version"]
    match kind:
        case "case.card":
            return Rendered(
                _with_note(body, p),
                _photo(p, "report"),
                keyboards.card(case_id, version, p["status"]),
            )
        case "case.to_verify":
            head = _("Case #{number} was resolved. Please check on site.").format(number=number)
            return Rendered(
                _with_note(f"{head}\n\n{body}", p),
                _photo(p, "result", newest=True),
                keyboards.verify(case_id, version),
            )
        case "case.escalate":
            head = _("⚠️ Overdue, escalation level {level}: case #{number}").format(
                level=p.get("level", ""), number=number
            )
            return Rendered(f"{head}\n\n{body}", None, keyboards.urge(case_id, version))
    heads = {
        "case.return": _("Case #{number} was returned by the office."),
        "case.request_extension": _("An extension is requested for case #{number}."),
        "case.verify": _("Case #{number} is closed. Thank you!"),
        "case.merge": _("Case #{number} was merged into an earlier case."),
        "case.void": _("Case #{number} was voided."),
        "case.urge": _("📣 Urged (督办): case #{number}"),
        "case.remind": _("⏰ Reminder: case #{number} is nearly due."),
        "case.overdue": _("🔴 Case #{number} is overdue."),
        "case.new_report": _("New report #{number} is waiting to be filed."),
        "case.duplicate_linked": _("Your report was linked to the open case #{number}."),
    }
    head = heads.get(kind, _("Case #{number} was updated.")).format(number=number)
    if kind == "case.request_extension" and p.get("extension_requested_until"):
        head += "\n⏳ " + _("Requested new deadline: {until}").format(
            until=when(p["extension_requested_until"], tz)
        )
    return Rendered(_with_note(f"{head}\n\n{body}", p), None, dispatcher_buttons(kind, p))


def dispatcher_buttons(kind: str, p: dict[str, Any]) -> InlineKeyboardMarkup | None:
    """A dispatcher's decision buttons, while the case still waits for that decision."""
    case_id, version, status = p["case_id"], p["version"], p["status"]
    if kind == "case.new_report" and status == "reported":
        return keyboards.new_report(case_id, version)
    if kind == "case.return" and status == "returned":
        return keyboards.returned(case_id, version)
    if kind == "case.request_extension" and p.get("extension_requested_until"):
        return keyboards.extension(case_id, datetime.fromisoformat(p["extension_requested_until"]))
    return None


def decision(action: Action, p: dict[str, Any], locale: str, tz: ZoneInfo) -> str:
    """A dispatcher's message re-rendered once decided: what was done, the case as it is now."""
    head = _(DECIDED[action]).format(
        number=escape(p.get("number") or ""), department=department(p, locale)
    )
    return _with_note(f"{head}\n\n{summary(p, locale, tz)}", p)


def digest(p: dict[str, Any], locale: str, tz: ZoneInfo) -> str:
    lines = [
        _("📊 Daily digest {area} {date}").format(area=escape(p.get("area") or ""), date=p["date"]),
        _("Received {received}, closed {closed}, due {due}, closed on time {on_time}").format(
            received=p["received"], closed=p["closed"], due=p["due"], on_time=p["closed_on_time"]
        ),
    ]
    overdue = p.get("overdue") or []
    if overdue:
        lines.append(_("Overdue:"))
        lines += [overdue_line(c, locale, tz) for c in overdue]
    return "\n".join(lines)


def alerts(items: list[dict[str, Any]], locale: str, tz: ZoneInfo) -> Rendered:
    """Several alerts to one chat as one message: a line per case, an Urge button per
    escalated case."""
    lines = [_("⚠️ {count} alerts").format(count=len(items))]
    urgeable: dict[int, tuple[int, int, str]] = {}
    for a in items:
        line = overdue_line(a, locale, tz)
        if a["kind"] == "case.escalate":
            line += " · " + _("level {level}").format(level=a.get("level", ""))
            urgeable[a["case_id"]] = (a["case_id"], a["version"], escape(a["number"] or ""))
        elif a["kind"] == "case.remind":
            line = "⏰ " + line
        elif a["kind"] == "case.overdue":
            line += " · " + _("overdue")
        lines.append(line)
    return Rendered("\n".join(lines), None, keyboards.urge_each(list(urgeable.values())))


def overdue_line(p: dict[str, Any], locale: str, tz: ZoneInfo) -> str:
    return (
        f"{light(p.get('light'))} #{escape(p['number'] or '')} {category(p, locale)} · "
        f"{department(p, locale)} · {when(p.get('deadline'), tz)}"
    )
