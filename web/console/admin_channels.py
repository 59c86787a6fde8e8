"""Admin pages for the chat side: group chats bound to offices and supervisors (invites to
bind Telegram groups; WeCom groups created for an office through WeCom, or bound by their
chat id), and the outbox messages that could not be delivered."""

from aiohttp import web

from dispatch import queries
from dispatch.administration import Administration
from dispatch.core.errors import DomainError
from models.enums import ChatKind, Role
from web.console import choices, forms
from web.console.auth import client_address
from web.console.base import gettext_of, locale_of, render, requires, user_of
from web.console.paging import Pager
from web.context import context_of

routes = web.RouteTableDef()
CHATS = "/console/admin/chats"
OUTBOX = "/console/admin/outbox"


# -- group chats ------------------------------------------------------------------------


async def _chats_page(request: web.Request, status: int = 200, **extra: str) -> web.Response:
    ctx, locale = context_of(request), locale_of(request)
    catalog = ctx.casework.catalog
    tz = ctx.settings.tz
    pager = Pager(request, path=CHATS)
    async with ctx.sessions() as session:
        bindings = pager.page(await queries.chats.chat_bindings(session, pager.offset, pager.limit))
    return render(
        request,
        "admin_chats.html",
        {
            "bindings": bindings,
            "rows": [
                {
                    "id": b.id,
                    "kind": b.kind.value,
                    "target": catalog.department_name(b.department_id, locale)
                    if b.kind is ChatKind.OFFICE
                    else catalog.area_name(b.area_id),
                    "chat": f"{b.channel}:{b.chat_id}",
                    "title": b.title,
                    "created": f"{b.created_at.astimezone(tz):%Y-%m-%d %H:%M}",
                }
                for b in bindings.rows
            ],
            "kinds": [k.value for k in ChatKind],
            "wecom_on": ctx.group_chats is not None,
            "departments": choices.departments(catalog, locale),
            "areas": choices.areas(catalog),
            **extra,
        },
        status,
    )


@routes.get(CHATS)
@requires(Role.ADMIN)
async def chats(request: web.Request) -> web.Response:
    return await _chats_page(request)


@routes.post(f"{CHATS}/invites")
@requires(Role.ADMIN)
async def chat_invite(request: web.Request) -> web.Response:
    form = await request.post()
    try:
        kind = forms.choice(form, "kind", ChatKind)
        code = await Administration(context_of(request).casework).create_chat_invite(
            kind,
            department_id=forms.optional_int(form, "department_id"),
            area_id=forms.optional_int(form, "area_id"),
        )
    except (DomainError, forms.FormError) as exc:
        message, status = forms.problem(request, exc)
        return await _chats_page(request, status, error=message)
    return await _chats_page(request, new_invite=code)


@routes.post(f"{CHATS}/wecom/create")
@requires(Role.ADMIN)
async def create_wecom_group(request: web.Request) -> web.Response:
    ctx, _ = context_of(request), gettext_of(request)
    form = await request.post()
    try:
        chat = await ctx.chat_admin.create_office_group(
            user_of(request).actor,
            forms.required_int(form, "department_id"),
            client_address(ctx, request),
        )
    except (DomainError, forms.FormError) as exc:
        message, status = forms.problem(request, exc)
        return await _chats_page(request, status, error=message)
    notice = _("WeCom group chat %(chat)s created for %(office)s with %(count)d members.") % {
        "chat": chat.chat_id,
        "office": chat.target,
        "count": len(chat.members),
    }
    return await _chats_page(request, notice=notice)


@routes.post(f"{CHATS}/wecom/bind")
@requires(Role.ADMIN)
async def bind_wecom_group(request: web.Request) -> web.Response:
    ctx, _ = context_of(request), gettext_of(request)
    form = await request.post()
    try:
        chat = await ctx.chat_admin.bind_wecom_group(
            user_of(request).actor,
            forms.text(form, "chat_id"),
            forms.choice(form, "kind", ChatKind),
            client_address(ctx, request),
            department_id=forms.optional_int(form, "department_id"),
            area_id=forms.optional_int(form, "area_id"),
            title=forms.text(form, "title"),
        )
    except (DomainError, forms.FormError) as exc:
        message, status = forms.problem(request, exc)
        return await _chats_page(request, status, error=message)
    target = chat.target or _("the whole county")
    notice = _("WeCom group chat %(chat)s bound to %(target)s.") % {
        "chat": chat.chat_id,
        "target": target,
    }
    return await _chats_page(request, notice=notice)


@routes.post(f"{CHATS}/{{id:\\d{{1,9}}}}/delete")
@requires(Role.ADMIN)
async def remove_chat(request: web.Request) -> web.Response:
    ctx = context_of(request)
    try:
        await ctx.chat_admin.unbind(
            user_of(request).actor, int(request.match_info["id"]), client_address(ctx, request)
        )
    except DomainError as exc:
        message, status = forms.problem(request, exc)
        return await _chats_page(request, status, error=message)
    raise web.HTTPSeeOther(CHATS)


# -- the outbox -------------------------------------------------------------------------


async def _outbox_page(request: web.Request, error: str = "", status: int = 200) -> web.Response:
    ctx = context_of(request)
    tz = ctx.settings.tz
    pager = Pager(request, path=OUTBOX)
    async with ctx.sessions() as session:
        found = pager.page(await queries.outbox.undelivered(session, pager.offset, pager.limit))
        counts = await queries.outbox.outbox_counts(session)
    return render(
        request,
        "admin_outbox.html",
        {
            "messages": found,
            "rows": [
                {
                    "id": u.message.id,
                    "status": u.message.status.value,
                    "kind": u.message.kind,
                    "case": u.case_number,
                    "to": f"{u.message.channel}:{u.message.address}",
                    "attempts": u.message.attempts,
                    "error": u.message.last_error or "",
                    "created": f"{u.message.created_at.astimezone(tz):%Y-%m-%d %H:%M}",
                }
                for u in found.rows
            ],
            "counts": counts,
            "error": error,
        },
        status,
    )


@routes.get(OUTBOX)
@requires(Role.ADMIN)
async def outbox(request: web.Request) -> web.Response:
    return await _outbox_page(request)


@routes.post(f"{OUTBOX}/{{id:\\d{{1,9}}}}/retry")
@requires(Role.ADMIN)
async def retry(request: web.Request) -> web.Response:
    try:
        await Administration(context_of(request).casework).retry_message(
            int(request.match_info["id"])
        )
    except DomainError as exc:
        return await _outbox_page(request, *forms.problem(request, exc))
    raise web.HTTPSeeOther(OUTBOX)
