"""The conversation every chat channel shares: `Conversation.handle(sender, event)` takes
what a person did and returns what to show them. It knows no chat platform."""

import logging

from bot.conversation import menus, presses, registration, report, steps
from bot.conversation.i18n import _, normalise_locale, use_locale
from bot.conversation.io import Command, Inbound, Outbound, Press, Reply, Sender, Text, Toast
from bot.conversation.turn import ConversationContext, Turn
from dispatch.autocommit import autocommit_session
from dispatch.registration import person_for_chat

log = logging.getLogger("gridgov.bot")
MENUS = {"my", "case", "overdue", "stats"}


class Conversation:
    def __init__(self, ctx: ConversationContext) -> None:
        self.ctx = ctx

    async def locale_of(self, sender: Sender) -> str:
        """The language the person reads: their own setting, else their client's."""
        async with autocommit_session(self.ctx.casework.sessions) as session:
            person = await person_for_chat(session, sender.channel, sender.user_id)
        return normalise_locale(person.locale if person else sender.locale)

    async def handle(self, sender: Sender, event: Inbound) -> list[Outbound]:
        """What to show for what the person did. A failure nobody foresaw is logged, and the
        person is asked to try again instead of hearing nothing."""
        try:
            async with autocommit_session(self.ctx.casework.sessions) as session:
                person = await person_for_chat(session, sender.channel, sender.user_id)
            locale = normalise_locale(person.locale if person else sender.locale)
            with use_locale(locale):
                draft = await self.ctx.drafts.load(sender.key)
                turn = Turn(self.ctx, sender, person, locale, draft)
                if isinstance(event, Press):
                    turn.pressed, turn.message_id = True, event.message_id
                await self._route(turn, event)
                return turn.out
        except Exception:
            log.exception("%s event from %s failed", sender.channel, sender.user_id)
            with use_locale(normalise_locale(sender.locale)):
                text = _("Sorry, something went wrong. Please try again.")
            if isinstance(event, Press):
                return [Toast(text, alert=True)]
            return [] if sender.is_group else [Reply(text)]

    async def _route(self, t: Turn, event: Inbound) -> None:
        group = t.sender.is_group
        if isinstance(event, Command):
            if event.name == "start" and not group:
                await registration.start(t, event.args)
                return
            if event.name == "bind" and group:
                await registration.bind(t, event.args)
                return
            if event.name == "lang":
                await registration.lang(t, event.args)
                return
        if t.person is None:  # members only: anyone else is told how to register
            if isinstance(event, Press):
                t.toast(registration.not_registered(), alert=True)
            elif not group:
                t.reply(registration.not_registered())
            return
        if isinstance(event, Press):
            await self._press(t, event.data)
            return
        if isinstance(event, Command):
            if await self._command(t, event):
                return
            event = Text(f"/{event.name} {event.args}".strip())
        state = t.draft.state or ""
        if state.startswith(report.PREFIX):
            await report.on_message(t, event)
        elif state == steps.PENDING:
            await steps.on_message(t, event)
        elif not group:
            help_text = registration.help_text(t.me.role)
            t.reply(_("Nothing is waiting for that now.") + "\n\n" + help_text)

    async def _command(self, t: Turn, command: Command) -> bool:
        """Runs a member's command; False for words that only look like one."""
        name, group = command.name, t.sender.is_group
        if name == "cancel" and t.draft.state:
            if t.draft.state.startswith(report.PREFIX):
                await report.cancel(t)
            else:
                await t.clear()
                t.reply(_("Cancelled."))
        elif name == "report" and not group:
            await report.start(t)
        elif name == "my":
            await menus.my_cases(t)
        elif name == "case":
            await menus.case_details(t, command.args)
        elif name == "overdue":
            await menus.overdue(t)
        elif name == "stats":
            await menus.stats(t)
        else:
            return False
        return True

    async def _press(self, t: Turn, data: str) -> None:
        kind = data.split(":", 1)[0]
        if kind == "k":
            await report.on_category(t, data[2:])
        elif kind == "r":
            await report.on_button(t, data)
        else:
            await presses.on_press(t, data)
