"""The aiohttp application: health, metrics, Open311, the console and its assets."""

from pathlib import Path

from aiohttp import web

from gridgov.app import App
from web import console, media
from web.health import APP_KEY, healthz
from web.metrics import metrics
from web.open311 import views as open311

STATIC_DIR = Path(__file__).parent / "static"


def create_web_app(app: App) -> web.Application:
    webapp = web.Application(
        client_max_size=app.settings.max_upload_bytes + 1024 * 1024,
        middlewares=[console.middleware],
    )
    webapp[APP_KEY] = app
    webapp.router.add_get("/healthz", healthz)
    webapp.router.add_get("/metrics", metrics)
    open311.setup(webapp)
    console.setup(webapp)
    Path(app.settings.media_dir).mkdir(parents=True, exist_ok=True)
    webapp.router.add_static(media.MEDIA_PREFIX, app.settings.media_dir)
    webapp.router.add_static("/static/", STATIC_DIR)
    return webapp
