"""`gridgov locate --csv` against a geopandas script, and a new layer loading in a running
server, both as whole processes (issue 11 §2 and §3).

    python -m bench --only locate [--grids 20000] [--points 1000000]

In a throwaway PostgreSQL database: `gridgov grids import` of an EPSG:4547 GeoPackage, then
three rounds, each running `gridgov locate --csv` and bench/geopandas_locate.py in turn on the
same files (wall time, CPU time and peak RSS of each process from wait4), and the answers of
the two compared. Then `gridgov serve` runs on the database while a second layer is imported:
/healthz is polled throughout, and the latencies while the server loads the new layer (the
window its log reports) are compared with those before the import.
"""

import argparse
import asyncio
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from bench.cases_fixture import bench_database
from bench.locate_data import LocateFiles, make_files, write_grid_layer
from bench.report import Row, Section, markdown_table, progress

SPEEDUP_TARGET = 3.0
LOAD_TARGET_S = 3.0
HEALTHZ_P99_TARGET_MS = 50.0
ROUNDS = 3
PEER_SCRIPT = Path(__file__).with_name("geopandas_locate.py")
GRIDGOV = Path(sys.executable).with_name("gridgov")
LOADED_LINE = "grid layer {layer} in force: "


@dataclass(frozen=True)
class ProcessRun:
    wall_s: float
    cpu_s: float
    peak_mb: float


def run(args: argparse.Namespace, command: str) -> Section:
    with tempfile.TemporaryDirectory(prefix="gridgov-locate-bench-") as tmp:
        directory = Path(tmp)
        progress(f"locate: writing {args.grids:,} grids and {args.points:,} points")
        files = make_files(directory, args.grids, args.points, args.seed)
        return asyncio.run(_in_database(args, command, files, directory))


async def _in_database(
    args: argparse.Namespace, command: str, files: LocateFiles, directory: Path
) -> Section:
    async with bench_database("locate") as url:
        env = {**os.environ, "GRIDGOV_DATABASE_URL": url}
        progress("locate: gridgov grids import")
        imported = measured([str(GRIDGOV), "grids", "import", str(files.grids)], env)
        ours_out, peer_out = directory / "ours.csv", directory / "peer.csv"
        ours: list[ProcessRun] = []
        peer: list[ProcessRun] = []
        for n in range(ROUNDS):
            progress(f"locate: round {n + 1} of {ROUNDS}")
            ours.append(
                measured(
                    [str(GRIDGOV), "locate", "--csv", str(files.points), "--out", str(ours_out)],
                    env,
                )
            )
            peer.append(
                measured(
                    [
                        sys.executable,
                        str(PEER_SCRIPT),
                        str(files.grids),
                        str(files.points),
                        peer_out,
                    ],
                    env,
                )
            )
        agreement = compare(ours_out, peer_out)
        progress("locate: a new layer while `gridgov serve` runs")
        second = write_grid_layer(directory / "second.gpkg", args.grids, args.seed + 1)
        server = await asyncio.to_thread(_serve_while_importing, env, second)
    return _section(args, command, imported, ours, peer, agreement, server)


# wait4 on our own child would report at least this process's peak RSS: the child is forked
# from it, and Linux keeps the high-water mark across exec. A small launcher forks instead.
_LAUNCHER = """
import json, os, sys
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as out:
    json.dump([os.waitstatus_to_exitcode(status), usage.ru_utime + usage.ru_stime,
               usage.ru_maxrss], out)
"""


def measured(command: list[str], env: dict[str, str]) -> ProcessRun:
    """Runs a command to its end: wall time, user + system CPU and peak RSS (wait4)."""
    with tempfile.TemporaryDirectory() as tmp:
        usage_path, errors_path = Path(tmp) / "usage.json", Path(tmp) / "stderr"
        with errors_path.open("wb") as errors:
            started = time.perf_counter()
            subprocess.run(
                [sys.executable, "-c", _LAUNCHER, str(usage_path), *command],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=errors,
                check=True,
            )
            wall = time.perf_counter() - started
        status, cpu_s, peak_kb = json.loads(usage_path.read_text())
        if status:
            raise RuntimeError(f"{command} failed:\n{errors_path.read_text(errors='replace')}")
    return ProcessRun(wall, cpu_s, peak_kb / 1024)


@dataclass(frozen=True)
class Agreement:
    rows: int
    same: int
    peer_none_ours_grid: int  # on a shared boundary: "within" holds for no grid


def compare(ours_path: Path, peer_path: Path) -> Agreement:
    """Grid codes per point id; the peer may repeat a point that lies in two grids."""

    def codes(path: Path, column: str) -> dict[str, str | None]:
        table = pacsv.read_csv(
            path,
            convert_options=pacsv.ConvertOptions(
                include_columns=["id", column],
                column_types={"id": pa.string(), column: pa.string()},
            ),
        )
        found: dict[str, str | None] = {}
        for point, code in zip(table["id"].to_pylist(), table[column].to_pylist(), strict=True):
            found[point] = min(filter(None, (found.get(point), code)), default=None)
        return found

    ours, peer = codes(ours_path, "grid_code"), codes(peer_path, "code")
    same = sum(ours[point] == peer.get(point) for point in ours)
    boundary = sum(peer.get(point) is None and ours[point] is not None for point in ours)
    return Agreement(len(ours), same, boundary)


@dataclass(frozen=True)
class ServerLoad:
    load_s: float
    idle_ms: np.ndarray
    loading_ms: np.ndarray
    grids: int


def _serve_while_importing(env: dict[str, str], layer: Path) -> ServerLoad:
    port = _free_port()
    server_env = {**env, "GRIDGOV_HTTP_PORT": str(port), "GRIDGOV_CONFIG_CHECK_INTERVAL_S": "1"}
    with tempfile.TemporaryFile() as log:
        server = subprocess.Popen(
            [str(GRIDGOV), "serve"], env=server_env, stdout=subprocess.DEVNULL, stderr=log
        )
        try:
            first_layer = _wait_healthy(port)["grid_layer"]
            poller = _Poller(port)
            poller.start()
            time.sleep(3)  # the idle baseline
            measured([str(GRIDGOV), "grids", "import", str(layer)], env)
            new_layer = first_layer + 1
            swapped_at = poller.wait_for_layer(new_layer, timeout_s=120)
            time.sleep(1)
            poller.stop()
        finally:
            server.terminate()
            server.wait(30)
        log.seek(0)
        text = log.read().decode(errors="replace")
    line = next((x for x in text.splitlines() if LOADED_LINE.format(layer=new_layer) in x), None)
    if line is None:
        raise RuntimeError(f"the server never reported loading layer {new_layer}:\n{text}")
    load_s = float(line.rsplit(" in ", 1)[1].split()[0])
    grids = int(line.split(" in force: ", 1)[1].split()[0])
    samples = np.array(poller.samples)  # (sent at, latency s, layer)
    import_started = poller.first_sent_after_baseline
    idle = samples[samples[:, 0] < import_started, 1]
    window = (samples[:, 0] >= swapped_at - load_s) & (samples[:, 0] <= swapped_at)
    return ServerLoad(load_s, idle * 1e3, samples[window, 1] * 1e3, grids)


class _Poller(threading.Thread):
    """GET /healthz one after another on a kept-alive connection, recording every latency."""

    def __init__(self, port: int) -> None:
        super().__init__(daemon=True)
        self.port = port
        self.samples: list[tuple[float, float, int]] = []
        self.first_sent_after_baseline = float("inf")
        self._halt = threading.Event()
        self._began = time.perf_counter()

    def run(self) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        while not self._halt.is_set():
            sent = time.perf_counter()
            connection.request("GET", "/healthz")
            body = json.loads(connection.getresponse().read())
            self.samples.append((sent, time.perf_counter() - sent, body["grid_layer"] or 0))
            if sent - self._began >= 3 and self.first_sent_after_baseline == float("inf"):
                self.first_sent_after_baseline = sent
            time.sleep(0.005)
        connection.close()

    def wait_for_layer(self, layer: int, timeout_s: float) -> float:
        """When the first answer from the new layer was sent."""
        deadline = time.perf_counter() + timeout_s
        while time.perf_counter() < deadline:
            for sent, _latency, seen in list(self.samples):
                if seen == layer:
                    return sent
            time.sleep(0.05)
        raise RuntimeError(f"the server did not take up layer {layer} in {timeout_s:g} s")

    def stop(self) -> None:
        self._halt.set()
        self.join(30)


def _wait_healthy(port: int, timeout_s: float = 120) -> dict:
    deadline = time.perf_counter() + timeout_s
    while time.perf_counter() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/healthz")
            response = connection.getresponse()
            if response.status == 200:
                return json.loads(response.read())
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"gridgov serve did not answer on port {port}")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _section(
    args: argparse.Namespace,
    command: str,
    imported: ProcessRun,
    ours: list[ProcessRun],
    peer: list[ProcessRun],
    agreement: Agreement,
    server: ServerLoad,
) -> Section:
    def median(runs: list[ProcessRun], field: str) -> float:
        return float(np.median([getattr(r, field) for r in runs]))

    speedup = median(peer, "wall_s") / median(ours, "wall_s")
    ours_peak, peer_peak = max(r.peak_mb for r in ours), max(r.peak_mb for r in peer)
    idle_p99 = float(np.percentile(server.idle_ms, 99))
    loading_p99 = float(np.percentile(server.loading_ms, 99)) if len(server.loading_ms) else 0.0
    section = Section("locate", "Bulk location and layer loads as whole processes", command)
    section.rows = [
        Row(
            "`gridgov locate --csv` vs geopandas script, wall",
            f"{speedup:.1f}× ({median(ours, 'wall_s'):.1f} s vs {median(peer, 'wall_s'):.1f} s)",
            f"≥ {SPEEDUP_TARGET:g}×",
            speedup >= SPEEDUP_TARGET,
            f"median of {ROUNDS} runs each, taken in turn",
        ),
        Row(
            "peak memory (RSS)",
            f"{ours_peak:,.0f} MB vs {peer_peak:,.0f} MB",
            "≤ the script's",
            ours_peak <= peer_peak,
            "the highest of the runs",
        ),
        Row(
            "same answers",
            f"{agreement.same / agreement.rows:.4%} of {agreement.rows:,} points",
            "—",
            None,
            f"{agreement.peer_none_ours_grid} on a shared boundary: no grid holds them "
            "`within`; ours gives the lowest code",
        ),
        Row(
            "new layer loaded by a running server",
            f"{server.load_s:.2f} s ({server.grids:,} grids)",
            f"≤ {LOAD_TARGET_S:g} s",
            server.load_s <= LOAD_TARGET_S,
            "stored index read and deserialised off the event loop",
        ),
        Row(
            "/healthz p99 while it loads",
            f"{loading_p99:.1f} ms (n={len(server.loading_ms)})",
            f"≤ {HEALTHZ_P99_TARGET_MS:g} ms",
            bool(len(server.loading_ms)) and loading_p99 <= HEALTHZ_P99_TARGET_MS,
            f"idle before the import: p99 {idle_p99:.1f} ms (n={len(server.idle_ms)})",
        ),
    ]

    def cells(run: ProcessRun) -> list[str]:
        return [f"{run.wall_s:.1f} s", f"{run.cpu_s:.1f} s", f"{run.peak_mb:,.0f} MB"]

    section.add(
        f"{args.grids:,} grids (~40 vertices each) in an EPSG:4547 GeoPackage; "
        f"{args.points:,} WGS84 points in a CSV (id, lon, lat). The database is PostgreSQL; "
        f"`gridgov grids import` took {imported.wall_s:.1f} s wall, {imported.cpu_s:.1f} s CPU, "
        f"{imported.peak_mb:,.0f} MB (it also builds and stores the layer's index). The peer is "
        "`bench/geopandas_locate.py`: `read_file` → `to_crs` → `read_csv` → "
        '`sjoin(predicate="within")` → `to_csv`.',
        markdown_table(
            [
                "round",
                "ours wall",
                "ours CPU",
                "ours peak",
                "script wall",
                "script CPU",
                "script peak",
            ],
            [
                [n + 1, *cells(o), *cells(p)]
                for n, (o, p) in enumerate(zip(ours, peer, strict=True))
            ],
        ),
        "The server test: `gridgov serve` on the same database (configuration checked every "
        "second), /healthz polled back to back on one connection; a second layer of "
        f"{args.grids:,} grids imported with `gridgov grids import`; the window is the load "
        "the server logs, ending when /healthz first names the new layer.",
    )
    return section
