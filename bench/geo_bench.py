"""Benchmark of point-in-grid location: GridIndex against the usual alternatives.

    python -m bench.geo_bench [--grids 20000] [--points 1000000]

Builds a synthetic layer of --grids grids over 50 × 50 km near Wuhan and --points random points
over it, times every method on the same points in the same run, prints a markdown table and
writes it as the "geo" section of docs/benchmarks.md (`python -m bench` runs it with the
others). Progress is shown only when stdout is a terminal.
"""

import argparse
import asyncio
import contextlib
import ctypes
import gc
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import geopandas as gpd
import numpy as np
import shapely

from bench.report import DOC, Section, progress, write_sections
from bench.report import Row as TargetRow
from geo.index import GridIndex
from geo.synthetic import synthetic_grid_layer

POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
SINGLE_TARGET_US = 10.0
INDEX_MEMORY_TARGET_MB = 100.0
POSTGIS_SINGLE_QUERIES = 5_000
WIDTH_KM = HEIGHT_KM = 50.0

Lookup = Callable[[float, float], str | None]
Codes = np.ndarray  # object array of grid codes; codes[-1] is None (no grid)


@dataclass
class Row:
    method: str
    median_us: float | None = None
    p99_us: float | None = None
    points_per_s: float | None = None
    agreement: float | None = None  # share of points answered as GridIndex answers them
    note: str = ""


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.geo_bench", description=__doc__)
    add_arguments(parser)
    parser.add_argument("--doc", type=Path, default=DOC, help="markdown file to write to")
    return parser


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--grids", type=int, default=20_000)
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--single", type=int, default=100_000, help="points timed one by one")
    parser.add_argument("--seed", type=int, default=1)


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    command = "python -m bench.geo_bench " + " ".join(sys.argv[1:] if argv is None else argv)
    section = run(args, command.strip())
    print(section.render())
    write_sections(args.doc, [section])


def run(args: argparse.Namespace, command: str) -> Section:
    """Measures every method on one synthetic layer; the results as a document section."""
    n_single = min(args.single, args.points)

    _progress(f"generating {args.grids:,} grids over {WIDTH_KM:g} × {HEIGHT_KM:g} km")
    layer = synthetic_grid_layer(args.grids, width_km=WIDTH_KM, height_km=HEIGHT_KM, seed=args.seed)
    features = sorted(layer.features, key=lambda f: f.code)
    polygons = np.array([f.polygon for f in features], dtype=object)
    codes = np.array([*(f.code for f in features), None], dtype=object)
    rng = np.random.default_rng(args.seed)
    x0, y0, x1, y1 = shapely.total_bounds(polygons)
    lon, lat = rng.uniform(x0, x1, args.points), rng.uniform(y0, y1, args.points)

    _progress("building GridIndex")
    rss_before = _rss_bytes()
    started = time.perf_counter()
    index = GridIndex(features)
    build_s = time.perf_counter() - started

    _progress(f"GridIndex.locate_many: {args.points:,} points")
    started = time.perf_counter()
    ours = index.locate_many(lon, lat).grid_code
    bulk_s = time.perf_counter() - started
    # Measured after a full run, so whatever queries build lazily counts too; the answers
    # array is not the index's.
    gc.collect()
    _trim_heap()
    index_mb = (_rss_bytes() - rss_before - ours.nbytes) / 1e6

    def locate(x: float, y: float) -> str | None:
        return index.locate(x, y).grid_code

    rows = [
        _time_single("GridIndex.locate (cell lattice)", locate, lon, lat, ours, n_single),
        _time_single(
            "shapely STRtree.query per point",
            _strtree_lookup(polygons, codes),
            lon,
            lat,
            ours,
            n_single,
        ),
        Row("GridIndex.locate_many (vectorised)", points_per_s=args.points / bulk_s, agreement=1.0),
        _sjoin(polygons, codes, lon, lat, ours),
        asyncio.run(_postgis(polygons, codes, lon, lat, ours)),
    ]
    table = _report(rows, args, index_mb, index.nbytes / 1e6, build_s)
    section = Section("geo", "Grid location (issue 2)", command)
    section.rows = _targets(rows, index_mb)
    section.add(
        "shapely "
        f"{shapely.__version__} / GEOS {shapely.geos_version_string}, geopandas {gpd.__version__}.",
        table,
    )
    return section


def _targets(rows: list[Row], index_mb: float) -> list[TargetRow]:
    single, _strtree, bulk, sjoin, _postgis_row = rows
    assert single.median_us is not None and bulk.points_per_s is not None
    sjoin_rate = sjoin.points_per_s or 0.0
    return [
        TargetRow(
            "single locate, median",
            f"{single.median_us:.1f} µs",
            f"≤ {SINGLE_TARGET_US:g} µs",
            single.median_us <= SINGLE_TARGET_US,
            f"p99 {single.p99_us:.1f} µs",
        ),
        TargetRow(
            "bulk locate",
            f"{bulk.points_per_s:,.0f} points/s",
            f"≥ geopandas.sjoin ({sjoin_rate:,.0f}/s)",
            bulk.points_per_s >= sjoin_rate,
            "same points, same run",
        ),
        TargetRow(
            "index memory",
            f"{index_mb:.0f} MB",
            f"≤ {INDEX_MEMORY_TARGET_MB:g} MB",
            index_mb <= INDEX_MEMORY_TARGET_MB,
            "RSS delta after a full bulk run",
        ),
    ]


def _strtree_lookup(polygons: np.ndarray, codes: Codes) -> Lookup:
    """The plain alternative: one STRtree query with an exact predicate per point."""
    tree = shapely.STRtree(polygons)

    def lookup(x: float, y: float) -> str | None:
        hits = tree.query(shapely.Point(x, y), predicate="intersects")
        return codes[hits.min()] if len(hits) else None

    return lookup


def _time_single(
    name: str, lookup: Lookup, lon: np.ndarray, lat: np.ndarray, ours: Codes, n: int
) -> Row:
    _progress(f"{name}: {n:,} points one by one")
    latencies = np.empty(n)
    answers = np.empty(n, dtype=object)
    clock = time.perf_counter_ns
    for i in range(n):
        x, y = float(lon[i]), float(lat[i])
        started = clock()
        answers[i] = lookup(x, y)
        latencies[i] = clock() - started
    return Row(
        name,
        median_us=float(np.median(latencies)) / 1e3,
        p99_us=float(np.percentile(latencies, 99)) / 1e3,
        agreement=float(np.mean(answers == ours[:n])),
    )


def _sjoin(
    polygons: np.ndarray, codes: Codes, lon: np.ndarray, lat: np.ndarray, ours: Codes
) -> Row:
    _progress(f"geopandas.sjoin: {len(lon):,} points")
    grids = gpd.GeoDataFrame({"code": codes[:-1]}, geometry=polygons, crs="EPSG:4326")
    started = time.perf_counter()
    points = gpd.GeoDataFrame(geometry=shapely.points(lon, lat), crs="EPSG:4326")
    joined = gpd.sjoin(points, grids, how="left", predicate="within")
    elapsed = time.perf_counter() - started
    # A point on a shared boundary would match twice; keep the lowest code, as GridIndex does.
    answers = joined["code"].groupby(level=0).min().reindex(range(len(lon)))
    answers = answers.astype(object).where(answers.notna(), None).to_numpy()
    return Row(
        "geopandas.sjoin (predicate within)",
        points_per_s=len(lon) / elapsed,
        agreement=float(np.mean(answers == ours)),
        note="includes building the points GeoDataFrame",
    )


async def _postgis(
    polygons: np.ndarray, codes: Codes, lon: np.ndarray, lat: np.ndarray, ours: Codes
) -> Row:
    """ST_Contains with a GiST index in a throwaway database, if PostGIS is installed."""
    name = "PostGIS ST_Contains + GiST index"
    try:
        admin = await asyncpg.connect(POSTGRES_URL)
    except (OSError, asyncpg.PostgresError) as exc:
        return Row(name, note=f"no server at {POSTGRES_URL} ({exc.__class__.__name__})")
    database = f"gridgov_geo_bench_{os.getpid()}"
    try:
        await admin.execute(f'CREATE DATABASE "{database}"')
        conn = await asyncpg.connect(POSTGRES_URL.rsplit("/", 1)[0] + "/" + database)
        try:
            await conn.execute("CREATE EXTENSION postgis")
        except asyncpg.PostgresError:
            await conn.close()
            return Row(name, note="not installed")
        try:
            return await _postgis_run(conn, name, polygons, codes, lon, lat, ours)
        finally:
            await conn.close()
    except asyncpg.PostgresError as exc:
        return Row(name, note=f"failed: {exc}")
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{database}"')
        await admin.close()


async def _postgis_run(
    conn: asyncpg.Connection,
    name: str,
    polygons: np.ndarray,
    codes: Codes,
    lon: np.ndarray,
    lat: np.ndarray,
    ours: Codes,
) -> Row:
    _progress("PostGIS: loading grids and points")
    version = await conn.fetchval("SELECT postgis_lib_version()")
    await conn.execute("CREATE TABLE grids (code text PRIMARY KEY, wkb bytea)")
    await conn.copy_records_to_table(
        "grids", records=zip(codes[:-1], shapely.to_wkb(polygons), strict=True)
    )
    await conn.execute(
        "ALTER TABLE grids ADD COLUMN geom geometry;"
        "UPDATE grids SET geom = ST_SetSRID(ST_GeomFromWKB(wkb), 4326);"
        "CREATE INDEX ON grids USING gist (geom); ANALYZE grids;"
    )
    await conn.execute("CREATE TABLE points (id int PRIMARY KEY, lon float8, lat float8)")
    await conn.copy_records_to_table(
        "points", records=zip(range(len(lon)), lon.tolist(), lat.tolist(), strict=True)
    )
    await conn.execute(
        "ALTER TABLE points ADD COLUMN geom geometry;"
        "UPDATE points SET geom = ST_SetSRID(ST_MakePoint(lon, lat), 4326); ANALYZE points;"
    )

    n_single = min(POSTGIS_SINGLE_QUERIES, len(lon))
    _progress(f"PostGIS: {n_single:,} single-point queries")
    query = await conn.prepare(
        "SELECT min(code) FROM grids"
        " WHERE ST_Contains(geom, ST_SetSRID(ST_MakePoint($1, $2), 4326))"
    )
    latencies = np.empty(n_single)
    for i in range(n_single):
        started = time.perf_counter_ns()
        await query.fetchval(float(lon[i]), float(lat[i]))
        latencies[i] = time.perf_counter_ns() - started

    _progress(f"PostGIS: joining {len(lon):,} points")
    started = time.perf_counter()
    await conn.execute(
        "CREATE TABLE located AS SELECT p.id, min(g.code) AS code FROM points p"
        " LEFT JOIN grids g ON ST_Contains(g.geom, p.geom) GROUP BY p.id"
    )
    elapsed = time.perf_counter() - started
    answers = np.empty(len(lon), dtype=object)
    for record in await conn.fetch("SELECT id, code FROM located"):
        answers[record["id"]] = record["code"]
    return Row(
        name,
        median_us=float(np.median(latencies)) / 1e3,
        p99_us=float(np.percentile(latencies, 99)) / 1e3,
        points_per_s=len(lon) / elapsed,
        agreement=float(np.mean(answers == ours)),
        note=f"PostGIS {version}; single = prepared query over loopback (asyncpg); "
        "bulk = server-side join, loading the tables not timed",
    )


def _report(
    rows: list[Row], args: argparse.Namespace, index_mb: float, tables_mb: float, build_s: float
) -> str:
    def cell(value: float | None, fmt: str) -> str:
        return "—" if value is None else format(value, fmt)

    lines = [
        "| method | single median (µs) | single p99 (µs) | bulk (points/s) | same answer | notes |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for row in rows:
        agreement = "—" if row.agreement is None else f"{row.agreement:.2%}"
        lines.append(
            f"| {row.method} | {cell(row.median_us, '.1f')} | {cell(row.p99_us, '.1f')} "
            f"| {cell(row.points_per_s, ',.0f')} | {agreement} | {row.note} |"
        )
    lines += [
        "",
        f"{args.grids:,} grids (~40 vertices each) over {WIDTH_KM:g} × {HEIGHT_KM:g} km; "
        f"{args.points:,} uniform random points, the first {min(args.single, args.points):,} "
        "timed one by one. "
        f"GridIndex build {build_s:.1f} s; index memory {index_mb:.0f} MB RSS delta "
        f"({tables_mb:.0f} MB of cell tables, the rest mostly the grids projected to metres "
        "for distances).",
    ]
    return "\n".join(lines)


def _rss_bytes() -> int:
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE")


def _trim_heap() -> None:
    """Return freed heap to the OS (glibc), so RSS reflects memory still in use."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


_progress = progress


if __name__ == "__main__":
    main()
