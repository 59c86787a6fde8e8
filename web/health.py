"""GET /healthz: the server is up and its database answers."""

import os

from aiohttp import web
from sqlalchemy import text

from web.context import context_of


async def healthz(request: web.Request) -> web.Response:
    ctx = context_of(request)
    try:
        async with ctx.sessions() as session:
            await session.execute(text("SELECT 1"))
    except Exception as exc:  # the answer is the health check's whole point
        return web.json_response({"status": "error", "database": type(exc).__name__}, status=503)
    directory = ctx.casework.directory
    return web.json_response(
        {
            "status": "ok",
            "database": "ok",
            "grid_layer": directory.layer_id,
            "grids": len(directory.info),
            "pid": os.getpid(),  # which worker of `gridgov serve --workers N` answered
        }
    )
