"""Uploading a grid layer in the console: a bad file lists every problem and the old layer
stays in force; a good one (GeoJSON, or a zipped Shapefile with its short property names)
replaces it at once in the running server."""

import json
import zipfile
from pathlib import Path
from typing import Any

import aiohttp
import geopandas as gpd
import pytest
from aiohttp.test_utils import TestClient, TestServer
from shapely import box
from sqlalchemy import func, select

from gridgov.app import App
from models import GridLayer
from models.enums import LocationStatus
from tests.dispatch.world import COMMUNITY_A, COMMUNITY_B, GRIDS, INSIDE_A1, INSIDE_B2, TOWN, World
from tests.web.helpers import csrf_of, login
from web.app import create_web_app

NEW_GRID = COMMUNITY_A + "003"  # east of A2
INSIDE_NEW = (120.025, 30.505)
NEW_COMMUNITY = TOWN + "003"  # east of B2, with a grid of its own
INSIDE_NEW_COMMUNITY = (120.025, 30.515)


def features(cells: dict[str, tuple[float, float]]) -> list[dict[str, Any]]:
    """GeoJSON features of 0.01° squares; the town is the first nine digits of the code."""
    return [
        {
            "type": "Feature",
            "properties": {
                "code": code,
                "name": f"网格{code[-3:]}",
                "community_code": code[:12],
                "community_name": "英溪社区" if code[:12] == COMMUNITY_A else "城北村",
                "town_code": code[:9],
                "town_name": "武康街道",
            },
            "geometry": box(x, y, x + 0.01, y + 0.01).__geo_interface__,
        }
        for code, (x, y) in cells.items()
    ]


def geojson(items: list[dict[str, Any]]) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": items}).encode()


def upload(token: str, name: str, data: bytes, **fields: str) -> aiohttp.FormData:
    form = aiohttp.FormData()
    form.add_field("csrf_token", token)
    for key, value in fields.items():
        form.add_field(key, value)
    form.add_field("layer", data, filename=name, content_type="application/octet-stream")
    return form


async def layers(app: App) -> int:
    async with app.sessions() as session:
        return await session.scalar(select(func.count()).select_from(GridLayer)) or 0


async def admin_token(client: TestClient) -> str:
    assert await login(client, "admin") == 303
    return csrf_of(await (await client.get("/console/admin/grids")).text())


async def test_a_bad_file_lists_every_problem_and_changes_nothing(
    client: TestClient, app: App
) -> None:
    directory = app.casework.directory
    before = directory.layer_id
    items = features({**GRIDS, NEW_GRID: (120.02, 30.50)})
    items[0]["properties"]["code"] = "33052110100100X"  # not 15 digits
    del items[1]["properties"]["town_name"]
    items[2]["geometry"] = items[3]["geometry"]  # two grids on one square
    token = await admin_token(client)
    data = upload(token, "新网格.geojson", geojson(items))
    r = await client.post("/console/admin/grids", data=data)
    assert r.status == 400
    html = await r.text()
    assert "文件无法导入，未作任何改动。" in html
    problems = html.split('id="problems">')[1].split("</ul>")[0]
    assert problems.count("<li>") >= 3
    assert "33052110100100X" in problems and "overlap" in problems
    assert directory.layer_id == before and await layers(app) == 1
    located = directory.locate(*INSIDE_A1)
    assert located is not None and located.status == LocationStatus.INSIDE
    assert directory.locate(*INSIDE_NEW).status == LocationStatus.OUTSIDE


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("grids.txt", b"x", "请上传 GeoJSON、GeoPackage 或压缩的 Shapefile"),
        ("grids.geojson", b"{not json", "文件无法导入，未作任何改动。"),
        (
            "other.geojson",
            geojson(features({"420102001001001": (114.30, 30.60)})),
            "该图层属于县（区）420102，而本系统服务的是 330521。",
        ),
    ],
)
async def test_files_that_are_not_this_countys_layer_are_refused(
    client: TestClient, app: App, name: str, data: bytes, message: str
) -> None:
    before = app.casework.directory.layer_id
    token = await admin_token(client)
    r = await client.post("/console/admin/grids", data=upload(token, name, data))
    assert r.status == 400
    assert message in await r.text()
    assert app.casework.directory.layer_id == before and await layers(app) == 1


async def test_a_good_file_replaces_the_layer_at_once(
    client: TestClient, app: App, world: World
) -> None:
    directory = app.casework.directory
    before = directory.layer_id
    token = await admin_token(client)
    cells = {**GRIDS, NEW_GRID: (120.02, 30.50), NEW_COMMUNITY + "001": (120.02, 30.51)}
    data = geojson(features(cells))
    r = await client.post("/console/admin/grids", data=upload(token, "德清网格.geojson", data))
    assert r.status == 200
    html = await r.text()
    assert 'id="imported"' in html and "6 个网格" in html and "德清网格.geojson" in html
    assert "1 个社区（村）" in html
    assert directory.layer_id != before and directory.layer_id is not None
    located = directory.locate(*INSIDE_NEW)
    assert located is not None and located.grid_code == NEW_GRID
    case = (await world.casework.intake.report(world.draft(at=INSIDE_NEW))).case
    assert case.community_id is not None
    assert app.casework.catalog.area_name(case.community_id) == "英溪社区"
    # Nobody owns 矛盾纠纷 (0701): the new community's own office takes it (属地兜底).
    case = (
        await world.casework.intake.report(world.draft(category="0701", at=INSIDE_NEW_COMMUNITY))
    ).case
    office = app.casework.catalog.departments[case.department_id]
    assert office.code == f"area-{NEW_COMMUNITY}"


async def test_a_zipped_shapefile_with_short_names(
    client: TestClient, app: App, world: World, tmp_path: Path
) -> None:
    """B2 leaves the layer while a case is open there: the admin is told to re-dispatch it."""
    open_case = (await world.casework.intake.report(world.draft(at=INSIDE_B2))).case
    kept = {code: cell for code, cell in GRIDS.items() if code != COMMUNITY_B + "002"}
    frame = gpd.GeoDataFrame.from_features(features(kept), crs="EPSG:4326")
    short = {"community_code": "comm_code", "community_name": "comm_name"}
    frame.rename(columns=short).to_file(tmp_path / "grids.shp", encoding="utf-8")
    archive = tmp_path / "grids.zip"
    with zipfile.ZipFile(archive, "w") as out:
        for suffix in (".shp", ".shx", ".dbf", ".prj", ".cpg"):
            out.write(tmp_path / f"grids{suffix}", f"grids{suffix}")
    token = await admin_token(client)
    fields = {"community_code_field": "comm_code", "community_name_field": "comm_name"}
    r = await client.post(
        "/console/admin/grids",
        data=upload(token, "grids.zip", archive.read_bytes(), **fields),
    )
    assert r.status == 200
    html = await r.text()
    assert "3 个网格" in html and "移除 1 个网格" in html
    assert "1 件在办案件所在的网格已不在新图层中，请改派。" in html
    assert app.casework.directory.locate(*INSIDE_B2).status == LocationStatus.OUTSIDE
    assert (await app.casework.find_case(open_case.number)).status.value == "dispatched"


async def test_an_upload_over_the_limit_is_refused(app: App) -> None:
    app.settings.max_upload_bytes = 10_000  # the server takes at most this plus 1 MB
    async with TestClient(TestServer(create_web_app(app.web_context()))) as client:
        token = await admin_token(client)
        data = geojson(features(GRIDS)) + b" " * 1_100_000
        r = await client.post("/console/admin/grids", data=upload(token, "big.geojson", data))
        assert r.status == 413
        assert "上传的文件超过 0.00954 MB。" in await r.text()
    assert await layers(app) == 1
