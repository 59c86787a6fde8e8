"""The citizen's one-time follow-up link (回访): no login, the link's secret is the key. A
forged or used link is refused and changes nothing."""

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from dispatch.core.errors import DomainError, NotFound, explain
from dispatch.supervision.followup import Answer
from models.enums import Satisfaction
from web.context import context_of
from web.i18n import choose_locale, translator

routes = web.RouteTableDef()
MAX_FORM = 8 * 1024


def _page(request: web.Request, context: dict[str, Any], status: int = 200) -> web.Response:
    ctx = context_of(request)
    locale = choose_locale(request, ctx.settings.default_locale)
    response = aiohttp_jinja2.render_template(
        "public/followup.html",
        request,
        {"_": translator(locale), "locale": locale, **context},
        status=status,
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"  # the link is the secret
    return response


@routes.get("/followup/{token}")
async def form(request: web.Request) -> web.Response:
    return _page(request, {"token": request.match_info["token"], "choices": list(Satisfaction)})


@routes.post("/followup/{token}")
async def answer(request: web.Request) -> web.Response:
    ctx = context_of(request)
    locale = choose_locale(request, ctx.settings.default_locale)
    token = request.match_info["token"]
    if (request.content_length or 0) > MAX_FORM:
        raise web.HTTPRequestEntityTooLarge(MAX_FORM, request.content_length or 0)
    data = await request.post()
    try:
        satisfaction = Satisfaction(str(data.get("satisfaction") or ""))
    except ValueError:
        _ = translator(locale)
        context = {"token": token, "choices": list(Satisfaction), "error": _("Choose an answer.")}
        return _page(request, context, 400)
    try:
        await ctx.supervision.followups.answer_link(
            token, Answer(satisfaction, str(data.get("note") or ""))
        )
    except DomainError as exc:
        status = 404 if isinstance(exc, NotFound) else 400
        context = {"token": token, "choices": list(Satisfaction), "error": explain(exc, locale)}
        return _page(request, context, status)
    return _page(request, {"done": True})
