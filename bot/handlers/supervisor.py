"""Supervisors: the 督办 urge button on escalation alerts, /overdue and /stats."""

from datetime import datetime, time, timedelta

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot import texts
from bot.callbacks import CaseCb
from bot.context import BotContext
from bot.handlers.common import attempt
from dispatch.assessment import Dimension, figures
from dispatch.core.actors import Actor
from dispatch.core.lifecycle import Action
from models import Person
from models.enums import AreaLevel, Role


async def urge(query: CallbackQuery, callback_data: CaseCb, ctx: BotContext, person: Person):
    done = await attempt(
        query, ctx.casework.steps.act(Action.URGE, callback_data.case_id, person.id, _("Urged"))
    )
    if done is not None:
        await query.answer(_("Case #{number} urged.").format(number=done.number))


async def _supervisor(message: Message, ctx: BotContext, person: Person) -> Actor | None:
    """The acting supervisor (area None: the county); None, with a reply, for anyone else."""
    if person.role not in (Role.SUPERVISOR, Role.DISPATCHER, Role.ADMIN):
        await message.answer(_("This is for supervisors."))
        return None
    async with ctx.casework.sessions() as session:
        return await ctx.casework.actor(session, person.id)


async def overdue(message: Message, ctx: BotContext, person: Person) -> None:
    actor = await _supervisor(message, ctx, person)
    if actor is None:
        return
    now = ctx.casework.clock()
    async with ctx.casework.sessions() as session:
        cases = await ctx.casework.digests.overdue(session, actor.area_id, now)
    if not cases:
        await message.answer(_("No overdue cases. 👍"))
        return
    locale = ctx.i18n.current_locale
    lines = [_("Overdue cases ({n}):").format(n=len(cases))]
    lines += [texts.overdue_line(ctx.casework.snapshot(c, now), locale, ctx.tz) for c in cases]
    await message.answer("\n".join(lines))


async def stats(message: Message, ctx: BotContext, person: Person) -> None:
    actor = await _supervisor(message, ctx, person)
    if actor is None:
        return
    area_id = actor.area_id
    now = ctx.casework.clock()
    today = datetime.combine(now.astimezone(ctx.tz).date(), time(), ctx.tz)
    periods = [
        (_("Today"), today),
        (_("This week"), today - timedelta(days=today.weekday())),
        (_("This month"), today.replace(day=1)),
    ]
    level = ctx.casework.catalog.areas[area_id].level if area_id else None
    dimension = Dimension.COMMUNITY if level is AreaLevel.COMMUNITY else Dimension.TOWN
    keys = [area_id] if area_id else None
    lines = [_("📊 Figures")]
    async with ctx.casework.sessions() as session:
        for label, start in periods:
            rows = await figures(session, dimension, start, now, now, keys=keys)
            due = sum(r.due - r.suspended for r in rows)
            on_time = sum(r.closed_on_time for r in rows)
            rate = f"{on_time / due:.0%}" if due > 0 else "–"
            lines.append(
                _(
                    "{label}: received {received}, closed {closed}, overdue {overdue}, "
                    "on-time rate {rate}"
                ).format(
                    label=label,
                    received=sum(r.received for r in rows),
                    closed=sum(r.closed for r in rows),
                    overdue=sum(r.overdue for r in rows),
                    rate=rate,
                )
            )
    await message.answer("\n".join(lines))


def build() -> Router:
    router = Router(name="supervisor")
    router.callback_query.register(urge, CaseCb.filter(F.action == Action.URGE.value))
    router.message.register(overdue, Command("overdue"))
    router.message.register(stats, Command("stats"))
    return router
