"""The menus: a grid worker's open cases, a case by number (only what the person may see),
and supervisors' overdue list and figures."""

from datetime import datetime, time, timedelta

from sqlalchemy import select

from bot.conversation.i18n import N_, _, render_error
from bot.conversation.render import overdue_line, summary
from bot.conversation.turn import Turn
from dispatch import queries
from dispatch.assessment import Dimension, figures
from dispatch.core.actors import Actor
from dispatch.core.errors import NotFound
from dispatch.queries.cases import visible_to
from models import Case
from models.enums import AreaLevel, Role


async def my_cases(t: Turn) -> None:
    async with t.casework.sessions() as session:
        cases = await queries.cases.open_cases(session, t.me.id)
    if not cases:
        t.reply(_("You have no open cases."))
        return
    lines = [_("Your open cases:")]
    lines += [overdue_line(t.casework.snapshot(c), t.locale, t.ctx.tz) for c in cases]
    lines.append(_("Details: /case N"))
    t.reply("\n".join(lines))


async def case_details(t: Turn, number: str) -> None:
    """A case the person may see (the console's rule); any other is as if it did not exist."""
    if not number.strip():
        t.reply(_("Give the case number: /case N"))
        return
    case = await t.attempt(t.casework.find_case(number))
    if case is None:
        return
    async with t.casework.sessions() as session:
        actor = await t.casework.actor(session, t.me.id)
        visible = await session.scalar(select(Case.id).where(Case.id == case.id, visible_to(actor)))
    if visible is None:
        missing = NotFound(N_("Case %(id)s does not exist."), id=number.strip().lstrip("#"))
        t.reply(render_error(missing))
        return
    t.reply(summary(t.casework.snapshot(case), t.locale, t.ctx.tz))


async def _supervisor(t: Turn) -> Actor | None:
    """The acting supervisor (area None: the county); None, with a reply, for anyone else."""
    if t.me.role not in (Role.SUPERVISOR, Role.DISPATCHER, Role.ADMIN):
        t.reply(_("This is for supervisors."))
        return None
    async with t.casework.sessions() as session:
        return await t.casework.actor(session, t.me.id)


async def overdue(t: Turn) -> None:
    actor = await _supervisor(t)
    if actor is None:
        return
    now = t.casework.clock()
    async with t.casework.sessions() as session:
        cases = await t.casework.digests.overdue(session, actor.area_id, now)
    if not cases:
        t.reply(_("No overdue cases. 👍"))
        return
    lines = [_("Overdue cases ({n}):").format(n=len(cases))]
    lines += [overdue_line(t.casework.snapshot(c, now), t.locale, t.ctx.tz) for c in cases]
    t.reply("\n".join(lines))


async def stats(t: Turn) -> None:
    actor = await _supervisor(t)
    if actor is None:
        return
    area_id = actor.area_id
    now = t.casework.clock()
    tz = t.ctx.tz
    today = datetime.combine(now.astimezone(tz).date(), time(), tz)
    periods = [
        (_("Today"), today),
        (_("This week"), today - timedelta(days=today.weekday())),
        (_("This month"), today.replace(day=1)),
    ]
    level = t.casework.catalog.areas[area_id].level if area_id else None
    dimension = Dimension.COMMUNITY if level is AreaLevel.COMMUNITY else Dimension.TOWN
    keys = [area_id] if area_id else None
    lines = [_("📊 Figures")]
    async with t.casework.sessions() as session:
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
    t.reply("\n".join(lines))
