"""The aiohttp application: health, metrics, Open311, the console and its assets."""

from pathlib import Path

from aiohttp import web

from web import console, followup, media, public
from web.console.base import error_answer
from web.context import CONTEXT, WebContext
from web.errors import error_middleware, quiet_parser_errors
from web.health import healthz
from web.metrics import metrics
from web.open311 import views as open311
from web.security import security_headers

STATIC_DIR = Path(__file__).parent / "static"


def create_web_app(ctx: WebContext) -> web.Application:
    quiet_parser_errors()
    errors = error_middleware({open311.PREFIX: open311.error_answer, "/console": error_answer})
    webapp = web.Application(
        client_max_size=ctx.settings.max_upload_bytes + 1024 * 1024,
        middlewares=[security_headers, errors, console.middleware],
    )
    webapp[CONTEXT] = ctx
    webapp.router.add_get("/healthz", healthz)
    webapp.router.add_get("/metrics", metrics)
    open311.setup(webapp)
    console.setup(webapp)
    webapp.router.add_routes(followup.routes)
    public.setup(webapp)
    ctx.settings.media_dir.mkdir(parents=True, exist_ok=True)
    webapp.router.add_get(media.MEDIA_PREFIX + "{ref:.+}", media.serve_signed)
    webapp.router.add_get(media.CONSOLE_MEDIA_PREFIX + "{ref:.+}", media.serve_console)
    webapp.router.add_static("/static/", STATIC_DIR)
    return webapp
