"""Admin page for the grid layer: the layer in force, and the upload of a new one (GeoJSON,
GeoPackage or a zipped Shapefile) that replaces it for every report from then on."""

import asyncio
import shutil
import tempfile
from dataclasses import asdict
from pathlib import Path, PurePath
from typing import Any
from urllib.parse import unquote

from aiohttp import web

from dispatch import queries
from dispatch.administration import Administration, LayerImport
from dispatch.core.errors import DomainError
from geo.errors import GridLayerError
from geo.grids import GridFields
from models.enums import Role
from web.console import forms
from web.console.base import gettext_of, render, requires
from web.context import context_of

routes = web.RouteTableDef()
GRIDS = "/console/admin/grids"
# What a browser can upload as one file; a Shapefile needs its .shx, .dbf and .prj beside it.
UPLOAD_SUFFIXES = (".geojson", ".json", ".gpkg", ".zip")


async def _page(request: web.Request, status: int = 200, **extra: Any) -> web.Response:
    ctx = context_of(request)
    tz = ctx.settings.tz
    async with ctx.sessions() as session:
        layers = await queries.configuration.grid_layers(session)
    return render(
        request,
        "admin_grids.html",
        {
            "layer_id": ctx.casework.directory.layer_id,
            "grids": len(ctx.casework.directory.info),
            "layers": [
                {
                    "id": layer.id,
                    "source": layer.source_name,
                    "crs": layer.source_crs,
                    "count": layer.grid_count,
                    "at": f"{layer.imported_at.astimezone(tz):%Y-%m-%d %H:%M}",
                }
                for layer in layers
            ],
            "suffixes": ", ".join(UPLOAD_SUFFIXES),
            "fields": asdict(GridFields()),
            **extra,
        },
        status,
    )


@routes.get(GRIDS)
@requires(Role.ADMIN)
async def grids(request: web.Request) -> web.Response:
    return await _page(request)


def _upload(form: forms.Form) -> tuple[web.FileField, str, str]:
    """The uploaded file, its name and its suffix."""
    field = form.get("layer")
    if not isinstance(field, web.FileField) or not field.filename:
        raise forms.FormError(forms.N_("Choose a grid layer file to upload."))
    # Browsers and aiohttp's client percent-encode what they cannot put in the header as is.
    name = PurePath(unquote(field.filename)).name[:255]
    suffix = PurePath(name).suffix.lower()
    if suffix not in UPLOAD_SUFFIXES:
        raise forms.FormError(
            forms.N_("Upload a GeoJSON, GeoPackage or zipped Shapefile (%(suffixes)s)."),
            suffixes=", ".join(UPLOAD_SUFFIXES),
        )
    return field, name, suffix


def _save(field: web.FileField, path: Path) -> None:
    field.file.seek(0)
    with path.open("wb") as out:
        shutil.copyfileobj(field.file, out)


def _fields(form: forms.Form) -> GridFields:
    """The property names the file uses; the usual ones unless the form names others."""
    defaults = asdict(GridFields())
    return GridFields(**{key: forms.text(form, f"{key}_field") or d for key, d in defaults.items()})


async def _import(request: web.Request, form: forms.Form) -> LayerImport:
    field, name, suffix = _upload(form)
    admin = Administration(context_of(request).casework)
    with tempfile.TemporaryDirectory(prefix="gridgov-layer-") as folder:
        path = Path(folder) / f"upload{suffix}"
        await asyncio.to_thread(_save, field, path)
        return await admin.import_grid_layer(path, name, _fields(form))


@routes.post(GRIDS)
@requires(Role.ADMIN)
async def upload(request: web.Request) -> web.Response:
    form = await request.post()
    try:
        done = await _import(request, form)
    except GridLayerError as exc:
        _ = gettext_of(request)
        error = _("The file cannot be imported; nothing was changed.")
        return await _page(request, 400, error=error, problems=exc.problems)
    except (DomainError, forms.FormError) as exc:
        message, status = forms.problem(request, exc)
        return await _page(request, status, error=message)
    return await _page(request, imported=done)
