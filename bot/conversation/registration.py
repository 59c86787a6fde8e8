"""/start CODE binds a chat user to a person; /bind CODE binds a group chat to an office;
/lang switches the language."""

from bot.conversation.i18n import _, normalise_locale, use_locale
from bot.conversation.turn import Turn
from dispatch import queries
from dispatch.registration import redeem_chat_invite, redeem_person_invite
from models import Person
from models.enums import Role


def not_registered() -> str:
    return _("You are not registered yet. Ask your administrator for an invite: /start CODE")


def help_text(role: Role) -> str:
    lines = {
        Role.GRID_WORKER: _("/report – report an incident\n/my – my open cases\n/case N – details"),
        Role.OFFICE_MEMBER: _("Tasks arrive in your office group with buttons.\n/case N – details"),
        Role.SUPERVISOR: _("/overdue – overdue cases\n/stats – figures\n/case N – details"),
    }
    return lines.get(role, _("/case N – details")) + "\n" + _("/lang en|zh – language")


async def start(t: Turn, code: str) -> None:
    code = code.strip()
    if not code:
        if t.person is None:
            t.reply(
                _(
                    "Welcome! You are not registered yet. Ask your administrator for an invite "
                    "and send: /start CODE"
                )
            )
        else:
            t.reply(help_text(t.person.role))
        return
    locale = normalise_locale(t.sender.locale)
    casework = t.casework

    async def redeem() -> Person:
        async with casework.sessions() as session, session.begin():
            found = await redeem_person_invite(
                session, code, t.sender.channel, t.sender.user_id, casework.clock()
            )
            found.locale = locale
            return found

    registered = await t.attempt(redeem())
    if registered is None:
        return
    with use_locale(locale):
        t.reply(
            _("Welcome, {name}! You are registered.").format(name=registered.name)
            + "\n\n"
            + help_text(registered.role)
        )


async def bind(t: Turn, code: str) -> None:
    code = code.strip()
    if not code:
        t.reply(_("Send the office's invite code: /bind CODE"))
        return
    casework = t.casework

    async def redeem() -> str:
        async with casework.sessions() as session, session.begin():
            binding = await redeem_chat_invite(
                session,
                code,
                t.sender.channel,
                t.sender.chat_id,
                t.sender.display_name,
                casework.clock(),
            )
            if binding.department_id:
                return casework.catalog.department_name(binding.department_id)
            return casework.catalog.area_name(binding.area_id) or _("the county")

    name = await t.attempt(redeem())
    if name is not None:
        t.reply(_("This chat is now bound to {name}.").format(name=name))


async def lang(t: Turn, code: str) -> None:
    if t.person is None:
        t.reply(not_registered())
        return
    locale = normalise_locale(code or ("zh" if t.person.locale == "en" else "en"))
    async with t.casework.sessions() as session, session.begin():
        await queries.people.set_locale(session, t.person.id, locale)
    with use_locale(locale):
        t.reply(_("Language: English"))
