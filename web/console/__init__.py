"""The office / dispatcher / supervisor / admin web console under /console/."""

from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web

from web.console import (
    admin,
    admin_catalog,
    admin_channels,
    admin_grids,
    assessment,
    cases,
    chat,
    conditions,
    dashboard,
    followups,
    pages,
    review,
)
from web.console.base import middleware

__all__ = ["middleware", "setup"]
TEMPLATES = Path(__file__).parent.parent / "templates"


def setup(webapp: web.Application) -> None:
    aiohttp_jinja2.setup(webapp, loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True)
    modules = (
        pages,
        cases,
        review,
        dashboard,
        chat,
        admin,
        admin_catalog,
        admin_channels,
        admin_grids,
        conditions,
        followups,
        assessment,
    )
    for module in modules:
        webapp.router.add_routes(module.routes)
