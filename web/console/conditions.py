"""Admin page for the filing and closing conditions (立案/结案条件) of each category."""

from aiohttp import web

from dispatch.core.errors import DomainError
from dispatch.supervision.conditions import parse_lines
from models.enums import ConditionKind, Role
from web.console import forms
from web.console.base import error_page, gettext_of, render, requires, user_of
from web.context import WebContext, context_of

routes = web.RouteTableDef()


def _as_lines(ctx: WebContext, code: str, kind: ConditionKind) -> str:
    conditions = ctx.casework.catalog.conditions.get((code, kind), [])
    return "\n".join(f"{c.text_zh} | {c.text_en}" if c.text_en else c.text_zh for c in conditions)


async def _page(request: web.Request, error: str = "", status: int = 200) -> web.Response:
    ctx = context_of(request)
    catalog = ctx.casework.catalog
    code = request.query.get("category") or request.match_info.get("code", "")
    category = catalog.categories.get(code) if code else None
    if code and category is None:
        return error_page(request, 404, gettext_of(request)("No such category."))
    return render(
        request,
        "admin_conditions.html",
        {
            "categories": sorted(catalog.categories.values(), key=lambda c: c.code),
            "counts": {
                c: sum(len(catalog.conditions.get((c, k), [])) for k in ConditionKind)
                for c in catalog.categories
            },
            "category": category,
            "filing": _as_lines(ctx, code, ConditionKind.FILING) if category else "",
            "closing": _as_lines(ctx, code, ConditionKind.CLOSING) if category else "",
            "error": error,
        },
        status,
    )


@routes.get("/console/admin/conditions")
@requires(Role.ADMIN)
async def conditions(request: web.Request) -> web.Response:
    return await _page(request)


@routes.post("/console/admin/conditions/{code}")
@requires(Role.ADMIN)
async def save(request: web.Request) -> web.Response:
    ctx, user = context_of(request), user_of(request)
    code = request.match_info["code"]
    form = await request.post()
    try:
        for kind in ConditionKind:
            texts = parse_lines(forms.text(form, kind.value))
            await ctx.supervision.conditions.replace(user.person.id, code, kind, texts)
        await ctx.supervision.conditions.publish_descriptions(
            user.person.id, code, form.get("public_description") == "on"
        )
    except DomainError as exc:
        return await _page(request, *forms.problem(request, exc))
    raise web.HTTPSeeOther(f"/console/admin/conditions?category={code}")
