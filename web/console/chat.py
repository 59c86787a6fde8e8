"""对话演示: the chat conversation in the console, against the same core as Telegram and WeCom
(channel "web"). A person plays themselves; an admin, or anyone in the demo, may play any
active person. Location from a map click, photos from a file picker (stored under the media
dir), buttons as buttons; outbox messages to the person wait in the web chat channel and the
page polls for them."""

import math
from typing import Any

from aiohttp import web
from sqlalchemy import select

from bot.conversation.io import (
    ClearButtons,
    Command,
    Edit,
    Inbound,
    Location,
    Outbound,
    Photo,
    Press,
    Reply,
    Sender,
    Text,
    Toast,
)
from bot.webchat import buttons_json
from dispatch.registration import link_chat_identity
from models import Person
from models.enums import Role
from web.console.base import gettext_of, locale_of, render, user_of
from web.context import context_of
from web.media import UploadRejected, store_upload

routes = web.RouteTableDef()
CHANNEL = "web"
PLAYABLE = (Role.GRID_WORKER, Role.OFFICE_MEMBER, Role.SUPERVISOR, Role.DISPATCHER)


def _may_play_others(request: web.Request) -> bool:
    return context_of(request).demo or user_of(request).actor.role is Role.ADMIN


async def _playable(request: web.Request) -> list[Person]:
    """Whom this user may play: themselves, or (admin, demo) any active field person."""
    user = user_of(request)
    if not _may_play_others(request):
        return [user.person]
    async with context_of(request).sessions() as session:
        people = await session.scalars(
            select(Person)
            .where(
                Person.active.is_(True),
                Person.role.in_(PLAYABLE),
                Person.id != user.person.id,
            )
            .order_by(Person.role, Person.name)
        )
        return [user.person, *people]


async def _player(request: web.Request, raw: object) -> Person:
    """The person played in this request; 403 for one the user may not play."""
    wanted = str(raw or user_of(request).person.id)
    found = next((p for p in await _playable(request) if str(p.id) == wanted), None)
    if found is None:
        raise web.HTTPForbidden(text=gettext_of(request)("You may not play this person."))
    return found


def _sender(request: web.Request, person: Person) -> Sender:
    who = str(person.id)
    return Sender(CHANNEL, who, who, display_name=person.name, locale=locale_of(request))


def _answer(answer: Outbound) -> dict[str, Any]:
    if isinstance(answer, Reply):
        return {
            "type": "reply",
            "text": answer.text,
            "buttons": buttons_json(answer.buttons),
            "ask_location": answer.ask_location,
        }
    if isinstance(answer, Toast):
        return {"type": "toast", "text": answer.text, "alert": answer.alert}
    if isinstance(answer, Edit):
        return {
            "type": "edit",
            "message_id": answer.message_id,
            "text": answer.text,
            "buttons": buttons_json(answer.buttons),
        }
    assert isinstance(answer, ClearButtons)
    return {"type": "edit", "message_id": answer.message_id, "text": None, "buttons": []}


async def _event(request: web.Request, form: Any, kind: str) -> Inbound:
    """The form of the page as the core's event; ValueError for one that makes no sense."""
    if kind == "text":
        text = str(form.get("text") or "").strip()
        if text.startswith("/"):
            head, _sep, args = text.partition(" ")
            return Command(head[1:].lower(), args.strip())
        return Text(text)
    if kind == "location":
        lon, lat = float(form["lon"]), float(form["lat"])
        if not (math.isfinite(lon) and math.isfinite(lat)):
            raise ValueError("not a place")
        return Location(lon, lat, "wgs84")
    if kind == "press":
        return Press(str(form["data"]), str(form.get("message_id") or ""))
    if kind == "photo":
        upload = form.get("photo")
        if not isinstance(upload, web.FileField):
            raise ValueError("no photo")
        stored = await store_upload(context_of(request).settings, upload, "chat")
        return Photo("local", stored.ref, stored.content_type, stored.size_bytes)
    raise ValueError(kind)


@routes.get("/console/chat")
async def page(request: web.Request) -> web.Response:
    _ = gettext_of(request)
    people = await _playable(request)
    player = await _player(request, request.query.get("as"))
    roles = {
        Role.GRID_WORKER: _("Grid worker"),
        Role.OFFICE_MEMBER: _("Office member"),
        Role.SUPERVISOR: _("Supervisor"),
        Role.DISPATCHER: _("Dispatcher"),
        Role.ADMIN: _("Administrator"),
    }
    return render(
        request,
        "chat.html",
        {"people": people, "player": player, "roles": roles, "nav_section": "chat"},
    )


@routes.post("/console/chat/send")
async def send(request: web.Request) -> web.Response:
    ctx = context_of(request)
    _ = gettext_of(request)
    if ctx.conversation is None:
        raise web.HTTPServiceUnavailable(text=_("The chat is not running."))
    form = await request.post()
    person = await _player(request, form.get("as"))
    try:
        event = await _event(request, form, str(form.get("kind") or ""))
    except (KeyError, ValueError, UploadRejected) as exc:
        message = str(exc) if isinstance(exc, UploadRejected) else _("Invalid input.")
        return web.json_response({"error": message}, status=400)
    async with ctx.sessions() as session, session.begin():
        await link_chat_identity(session, person.id, CHANNEL, str(person.id), ctx.now())
    answers = await ctx.conversation.handle(_sender(request, person), event)
    return web.json_response({"answers": [_answer(a) for a in answers]})


@routes.get("/console/chat/inbox")
async def inbox(request: web.Request) -> web.Response:
    """Outbox messages delivered to the played person since the last look."""
    person = await _player(request, request.query.get("as"))
    channel = context_of(request).webchat
    waiting = channel.take(str(person.id)) if channel is not None else []
    return web.json_response({"messages": waiting})
