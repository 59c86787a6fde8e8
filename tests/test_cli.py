"""The `gridgov` command line end to end, as an operator runs it, on PostgreSQL."""

import csv
import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from openpyxl import load_workbook
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from dispatch.configuration import apply_catalog
from dispatch.geography import import_layer
from geo.boundaries import read_grid_layer
from gridgov.sample import CATALOG_PATH, GRIDS_PATH
from models import CalendarDay, Case, Category, Grid, Invite, Person, ScoringFormula
from models.db import create_session_factory
from models.enums import CalendarDayKind, CaseSource, CaseStatus, CoordSystem, LocationStatus

INSIDE = ("119.9700", "30.5400")


def gridgov(
    url: str, *args: str, check: bool = True, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GRIDGOV_DATABASE_URL": url}
    result = subprocess.run(
        [sys.executable, "-m", "gridgov.cli", *args],
        input=stdin,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"gridgov {' '.join(args)} failed:\n{result.stderr}")
    return result


@pytest.fixture
async def county(engine: AsyncEngine, pg_url: str) -> str:
    """The sample county, loaded the quick way; the import command has its own test."""
    async with create_session_factory(engine)() as session, session.begin():
        await import_layer(session, read_grid_layer(GRIDS_PATH), "sample")
        await apply_catalog(session, json.loads(CATALOG_PATH.read_text("utf-8")))
    return pg_url


async def test_import_and_config_load(engine: AsyncEngine, pg_url: str) -> None:
    imported = gridgov(pg_url, "grids", "import", str(GRIDS_PATH)).stdout
    assert "300 grids" in imported and "3 towns and 15 communities created" in imported
    assert "loaded" in gridgov(pg_url, "config", "load", str(CATALOG_PATH)).stdout
    async with create_session_factory(engine)() as s:
        assert await s.scalar(select(func.count(Grid.id))) == 300
        assert await s.scalar(select(func.count(Person.id))) == 24


async def test_locate_invite_apikey_sweep(county: str, engine: AsyncEngine) -> None:
    sessions = create_session_factory(engine)

    located = gridgov(county, "locate", *INSIDE).stdout
    assert "status: inside" in located and "grid: 330521" in located

    outside = gridgov(county, "locate", "116.39", "39.91").stdout
    assert "status: outside" in outside and "outside the jurisdiction" in outside

    grid = json.loads(GRIDS_PATH.read_text("utf-8"))["features"][0]["properties"]["code"]
    invite = gridgov(county, "invite", "--role", "grid_worker", "--name", "测试员", "--grid", grid)
    code = invite.stdout.strip().splitlines()[-1]
    async with sessions() as s:
        assert (await s.scalar(select(Invite).where(Invite.code == code))) is not None

    key = gridgov(county, "apikey", "create", "12345 hotline").stdout.strip().splitlines()[-1]
    assert len(key) >= 24

    swept = gridgov(county, "sweep", "--now", "2026-12-01T09:00:00+08:00").stdout
    assert swept.strip().endswith("escalations as of 2026-12-01T09:00:00+08:00")


async def test_reimport_replaces_the_layer_and_keeps_cases(
    county: str, engine: AsyncEngine
) -> None:
    sessions = create_session_factory(engine)
    async with sessions() as s, s.begin():
        grid = await s.scalar(select(Grid).order_by(Grid.code).limit(1))
        s.add(
            Case(
                source=CaseSource.CITIZEN,
                lon=119.97,
                lat=30.54,
                raw_lon=119.97,
                raw_lat=30.54,
                raw_crs=CoordSystem.WGS84,
                location_status=LocationStatus.INSIDE,
                category_id=await s.scalar(select(Category.id).where(Category.code == "0102")),
                grid_id=grid.id,
                status=CaseStatus.REPORTED,
            )
        )
    result = gridgov(county, "grids", "import", str(GRIDS_PATH))
    assert "layer 2: 300 grids" in result.stdout
    assert "0 towns and 0 communities created" in result.stdout
    async with sessions() as s:
        case = await s.scalar(select(Case))
        assert case.grid_id == grid.id
        assert await s.scalar(select(func.count(Grid.id)).where(Grid.layer_id == 2)) == 300


def test_locate_csv(county: str, tmp_path: Path) -> None:
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    src.write_text("id,lon,lat,crs\n1,119.97,30.54,wgs84\n2,116.39,39.91,wgs84\n", "utf-8")
    gridgov(county, "locate", "--csv", str(src), "--out", str(out))
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [r["id"] for r in rows] == ["1", "2"]
    assert rows[0]["status"] == "inside" and rows[0]["grid_code"].startswith("330521")
    assert rows[1]["status"] == "outside" and rows[1]["grid_code"] == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("grids", "import", "/nonexistent.geojson"), "nonexistent"),
        (("locate", "119.97"), "LON LAT"),
        (("invite", "--role", "grid_worker", "--name", "x"), "--grid"),
        (("invite", "--role", "office_member", "--name", "x", "--department", "nope"), "nope"),
        (("sweep", "--now", "yesterday"), "yesterday"),
        (("invite", "--role", "dispatcher", "--name", "x", "--username", "lina"), "taken"),
    ],
)
def test_bad_input_is_one_clear_line_and_exit_1(
    county: str, args: tuple[str, ...], message: str
) -> None:
    result = gridgov(county, *args, check=False)
    assert result.returncode == 1
    [error] = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert message in error


def test_bad_grid_file_imports_nothing(county: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.geojson"
    bad.write_text(
        '{"type": "FeatureCollection", "features": [{"type": "Feature", '
        '"properties": {"code": "1"}, "geometry": {"type": "Point", '
        '"coordinates": [119.9, 30.5]}}]}',
        "utf-8",
    )
    result = gridgov(county, "grids", "import", str(bad), check=False)
    assert result.returncode == 1 and "error:" in result.stderr
    assert "300 grids" in gridgov(county, "grids", "import", str(GRIDS_PATH)).stdout


async def test_passwd_sets_a_console_password(county: str, engine: AsyncEngine) -> None:
    done = gridgov(county, "passwd", "lina", stdin="s3cret-pass\n")
    assert "password set for lina" in done.stdout
    async with create_session_factory(engine)() as s:
        stored = await s.scalar(select(Person.password_hash).where(Person.username == "lina"))
    assert PasswordHasher().verify(stored, "s3cret-pass")
    short = gridgov(county, "passwd", "lina", stdin="short\n", check=False)
    assert short.returncode == 1 and "at least 8" in short.stderr


def test_outbox_lists_what_was_not_delivered(county: str) -> None:
    assert "0 undelivered shown; 0 pending" in gridgov(county, "outbox").stdout


async def test_calendar_seed_enters_a_year_once_and_keeps_an_admins_days(
    county: str, engine: AsyncEngine
) -> None:
    async with create_session_factory(engine)() as s, s.begin():
        await s.execute(delete(CalendarDay).where(func.extract("year", CalendarDay.day) == 2026))
        s.add(CalendarDay(day=date(2026, 10, 1), kind=CalendarDayKind.HOLIDAY, name="本县自定"))
    out = gridgov(county, "calendar", "seed", "2026").stdout
    assert "2026-02-16\tholiday\t春节" in out
    assert "2026-02-14\tworkday\t春节调休" in out  # a Saturday worked
    assert "2026-10-01" not in out  # entered before: left as the admin wrote it
    assert "2026-02-21" not in out  # a Saturday off anyway
    async with create_session_factory(engine)() as s:
        days = {d.day: d for d in (await s.scalars(select(CalendarDay))).all()}
    assert days[date(2026, 10, 1)].name == "本县自定"
    assert days[date(2026, 10, 2)].kind is CalendarDayKind.HOLIDAY
    assert days[date(2026, 9, 20)].kind is CalendarDayKind.WORKDAY
    again = gridgov(county, "calendar", "seed", "2026").stdout
    assert again.startswith("0 days added")
    unknown = gridgov(county, "calendar", "seed", "1999", check=False)
    assert unknown.returncode == 1 and "1999" in unknown.stderr


async def test_report_month_writes_the_xlsx(
    county: str, engine: AsyncEngine, tmp_path: Path
) -> None:
    out = tmp_path / "2026-11.xlsx"
    refused = gridgov(county, "report", "month", "2026-11", "--out", str(out), check=False)
    assert refused.returncode == 1 and "no scoring formula" in refused.stderr
    wrong = gridgov(county, "report", "month", "11/2026", "--out", str(out), check=False)
    assert wrong.returncode == 1 and "not a month" in wrong.stderr
    async with create_session_factory(engine)() as s, s.begin():
        s.add(
            ScoringFormula(
                level="town",
                valid_from=date(2026, 1, 1),
                terms=[{"metric": "on_time", "weight": 100, "target": 1.0}],
            )
        )
    done = gridgov(county, "report", "month", "2026-11", "--out", str(out))
    assert done.stdout.strip().splitlines()[-1] == str(out)
    book = load_workbook(out)
    assert book["通报"]["A1"].value.endswith("2026年11月网格化社会治理考核通报")
    assert "乡镇(街道)" in book.sheetnames


async def test_sweep_as_of_a_future_time_is_a_preview(county: str) -> None:
    previewed = gridgov(county, "sweep", "--now", "2999-01-01T09:00:00+08:00").stdout
    assert "nothing was written" in previewed
    applied = gridgov(county, "sweep", "--now", "2999-01-01T09:00:00+08:00", "--apply").stdout
    assert "nothing was written" not in applied
    assert applied.strip().endswith("escalations as of 2999-01-01T09:00:00+08:00")
