"""How a case looks in any chat: the outbox messages (the office's card, the verification
request, alerts, a dispatcher's decision buttons, the digest) rendered channel-neutrally
from `Casework.snapshot` payloads as plain text with line breaks, buttons and a photo."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.conversation import buttons as data
from bot.conversation.buttons import ButtonSigner
from bot.conversation.i18n import N_, _, use_locale
from bot.conversation.io import Button, Buttons, Photo
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


# Rectification notices (整改通知) of a reviewed case, by outbox kind.
RECTIFICATION = {
    "rectification.issued": N_("📋 Rectification notice {id} for case #{number}"),
    "rectification.answered": N_("📨 The office answered rectification notice {id} (#{number})"),
    "rectification.accepted": N_("✅ Rectification notice {id} (#{number}) is accepted"),
    "rectification.sent_back": N_("↩️ Rectification notice {id} (#{number}) was sent back"),
    "rectification.escalate": N_(
        "⚠️ Rectification notice {id} (#{number}) is unanswered, escalation level {level}"
    ),
}


@dataclass(frozen=True)
class Card:
    title: str  # one line: case number and category
    text: str  # plain text, simple line breaks
    buttons: Buttons = ()
    photo: Photo | None = None
    status_line: str = ""  # what the card shows once someone acted


def light(value: str | None) -> str:
    return LIGHTS.get(value or "", "⚪")


def when(iso: str | None, tz: ZoneInfo) -> str:
    if not iso:
        return _("no time limit")
    return f"{datetime.fromisoformat(iso).astimezone(tz):%Y-%m-%d %H:%M}"


def status(value: str) -> str:
    return _(STATUS.get(value, value))


def category(p: dict[str, Any], locale: str) -> str:
    return str(p["category_en"] if locale == "en" else p["category_zh"])


def department(p: dict[str, Any], locale: str) -> str:
    name = p.get("department_en") if locale == "en" else p.get("department")
    return str(name or p.get("department") or _("not assigned"))


def _photo(p: dict[str, Any], purpose: str, newest: bool = False) -> Photo | None:
    """The first (or newest) photo of that purpose: report, result, rework."""
    found = [x for x in p.get("photos", []) if x["purpose"] == purpose]
    if not found:
        return None
    chosen = found[-1] if newest else found[0]
    return Photo(chosen["storage"], chosen["ref"])


def title(p: dict[str, Any], locale: str) -> str:
    return f"#{p.get('number') or ''} {category(p, locale)}"


def summary(p: dict[str, Any], locale: str, tz: ZoneInfo) -> str:
    """The case in a few lines: number, light, category, place, office, deadline, status."""
    lines = [
        f"{light(p.get('light'))} {title(p, locale)}",
        "📍 " + " · ".join(x for x in (p.get("address"), p["grid"], p["community"]) if x),
        f"🗺 {p['lat']:.5f}, {p['lon']:.5f}",
        "🏢 " + department(p, locale),
        "⏰ " + _("Deadline: {deadline}").format(deadline=when(p.get("deadline"), tz)),
        "📋 " + _("Status: {status}").format(status=status(p["status"])),
    ]
    if p.get("description"):
        lines.append("📝 " + p["description"])
    return "\n".join(lines)


def _with_note(text: str, p: dict[str, Any]) -> str:
    if p.get("note"):
        text += "\n💬 " + p["note"]
    if p.get("actor"):
        # The system acting on its own (automatic dispatch, the escalation ladder) is named
        # by a msgid; a person by their name.
        text += "\n👤 " + (_(p["actor"]) if p.get("actor_is_system") else p["actor"])
    return text


def _status_line(p: dict[str, Any]) -> str:
    return f"{status(p['status'])} · {p['actor']}" if p.get("actor") else status(p["status"])


def card_buttons(signer: ButtonSigner, case_id: int, version: int, state: str) -> Buttons:
    """The office's buttons for the status the card shows."""

    def step(label: str, action: Action) -> Button:
        return Button(label, data.case_step(signer, action.value, case_id, version))

    if state == "dispatched":
        return (
            (
                step(_("Accept"), Action.ACCEPT),
                step(_("Return"), Action.RETURN),
                step(_("Transfer"), Action.TRANSFER),
            ),
        )
    if state == "accepted":
        return (
            (
                step(_("Resolve"), Action.RESOLVE),
                step(_("Request extension"), Action.REQUEST_EXTENSION),
            ),
        )
    return ()


def render(kind: str, p: dict[str, Any], locale: str, tz: ZoneInfo, signer: ButtonSigner) -> Card:
    """The message for one outbox kind in `locale`."""
    with use_locale(locale):
        return _render(kind, p, locale, tz, signer)


def _render(kind: str, p: dict[str, Any], locale: str, tz: ZoneInfo, signer: ButtonSigner) -> Card:
    if kind == "digest":
        head = _("📊 Daily digest {area} {date}").format(area=p.get("area") or "", date=p["date"])
        return Card(head, digest(p, locale, tz))
    if kind in RECTIFICATION:
        return rectification(kind, p, locale, tz)
    if kind == "alerts":
        return alerts(p["alerts"], locale, tz, signer)
    body = summary(p, locale, tz)
    number = p.get("number") or ""
    case_id, version = p["case_id"], p["version"]
    head_line = title(p, locale)
    match kind:
        case "case.card":
            return Card(
                head_line,
                _with_note(body, p),
                card_buttons(signer, case_id, version, p["status"]),
                _photo(p, "report"),
                _status_line(p),
            )
        case "case.to_verify":
            head = _("Case #{number} was resolved. Please check on site.").format(number=number)
            return Card(
                head_line,
                _with_note(f"{head}\n\n{body}", p) + closing_conditions(p, locale),
                (
                    (
                        Button(_("✅ Fixed"), data.verify(signer, case_id, version, True)),
                        Button(_("❌ Not fixed"), data.verify(signer, case_id, version, False)),
                    ),
                ),
                _photo(p, "result", newest=True),
            )
        case "case.escalate":
            head = _("⚠️ Overdue, escalation level {level}: case #{number}").format(
                level=p.get("level", ""), number=number
            )
            urge = Button(_("Urge"), data.case_step(signer, Action.URGE.value, case_id, version))
            return Card(head_line, f"{head}\n\n{body}", ((urge,),))
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
    return Card(head_line, _with_note(f"{head}\n\n{body}", p), dispatcher_buttons(kind, p, signer))


def dispatcher_buttons(kind: str, p: dict[str, Any], signer: ButtonSigner) -> Buttons:
    """A dispatcher's decision buttons, while the case still waits for that decision."""
    case_id, version, state = p["case_id"], p["version"], p["status"]

    def step(label: str, action: Action) -> Button:
        return Button(label, data.case_step(signer, action.value, case_id, version))

    if kind == "case.new_report" and state == "reported":
        return ((step(_("File and dispatch"), Action.FILE), step(_("Void"), Action.VOID)),)
    if kind == "case.return" and state == "returned":
        return ((step(_("Re-dispatch"), Action.DISPATCH),),)
    if kind == "case.request_extension" and p.get("extension_requested_until"):
        until = int(datetime.fromisoformat(p["extension_requested_until"]).timestamp())
        return (
            (
                Button(_("Approve"), data.extension(signer, case_id, until, True)),
                Button(_("Deny"), data.extension(signer, case_id, until, False)),
            ),
        )
    return ()


def decision(action: Action, p: dict[str, Any], locale: str, tz: ZoneInfo) -> str:
    """A dispatcher's message re-rendered once decided: what was done, the case as it is now."""
    head = _(DECIDED[action]).format(number=p.get("number") or "", department=department(p, locale))
    return _with_note(f"{head}\n\n{summary(p, locale, tz)}", p)


def digest(p: dict[str, Any], locale: str, tz: ZoneInfo) -> str:
    lines = [
        _("📊 Daily digest {area} {date}").format(area=p.get("area") or "", date=p["date"]),
        _("Received {received}, closed {closed}, due {due}, closed on time {on_time}").format(
            received=p["received"], closed=p["closed"], due=p["due"], on_time=p["closed_on_time"]
        ),
    ]
    overdue = p.get("overdue") or []
    if overdue:
        lines.append(_("Overdue:"))
        lines += [overdue_line(c, locale, tz) for c in overdue]
    return "\n".join(lines)


def alerts(items: list[dict[str, Any]], locale: str, tz: ZoneInfo, signer: ButtonSigner) -> Card:
    """Several alerts to one chat as one message: a line per case, an Urge button per
    escalated case (two to a row)."""
    head = _("⚠️ {count} alerts").format(count=len(items))
    lines: list[str] = []
    urge: dict[int, Button] = {}
    for a in items:
        line = overdue_line(a, locale, tz)
        if a["kind"] == "case.escalate":
            line += " · " + _("level {level}").format(level=a.get("level", ""))
            label = _("Urge #{number}").format(number=a["number"] or "")
            step = data.case_step(signer, Action.URGE.value, a["case_id"], a["version"])
            urge[a["case_id"]] = Button(label, step)
        elif a["kind"] == "case.remind":
            line = "⏰ " + line
        elif a["kind"] == "case.overdue":
            line += " · " + _("overdue")
        lines.append(line)
    buttons = list(urge.values())
    rows = tuple(tuple(buttons[i : i + 2]) for i in range(0, len(buttons), 2))
    return Card(head, "\n".join([head, *lines]), rows)


def overdue_line(p: dict[str, Any], locale: str, tz: ZoneInfo) -> str:
    return (
        f"{light(p.get('light'))} #{p['number'] or ''} {category(p, locale)} · "
        f"{department(p, locale)} · {when(p.get('deadline'), tz)}"
    )


def rectification(kind: str, p: dict[str, Any], locale: str, tz: ZoneInfo) -> Card:
    """A rectification notice (整改通知) for the office: no buttons, the office answers it
    in the console."""
    head = _(RECTIFICATION[kind]).format(
        id=p["notice_id"], number=p.get("number") or "", level=p.get("level", "")
    )
    lines = [
        head,
        "🏢 " + department(p, locale),
        "⏰ " + _("Answer by: {deadline}").format(deadline=when(p.get("deadline"), tz)),
        "📝 " + (p.get("requirements") or ""),
    ]
    return Card(head, _with_note("\n".join(lines), p))


def closing_conditions(p: dict[str, Any], locale: str) -> str:
    """The closing conditions (结案条件) that confirming the fix vouches for."""
    found = p.get("closing_conditions") or []
    if not found:
        return ""
    lines = [_("Confirming closes the case and vouches that:")]
    lines += ["☑ " + (c["en"] if locale == "en" and c["en"] else c["zh"]) for c in found]
    return "\n\n" + "\n".join(lines)
