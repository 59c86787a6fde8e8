"""Intake and the chat front end measured as users run them (issue 11 §1 and §4): whole
`gridgov serve --workers N` processes, driven over HTTP by a load generator in a process of
its own (bench/serve_load.py), next to `pgbench` running a report's three inserts on the same
database in the same run.

- citizen reports: Open311 POST requests (`Dispatch.report`, one transaction);
- grid-worker reports: the report flow's last button press (Confirm) on the Telegram
  webhook, filed and dispatched in the same transaction, answered by the bot;
- the chat front end: a text step of the report flow (the description, answered with the
  draft's summary), the Confirm press, and an office member's Accept on the office's case
  card, as Telegram webhook updates per second; and the same text step as WeCom callbacks
  (signature, AES-256-CBC decryption, XML parsing, the step, the answer through
  `message/send`), side by side (issue 8)."""

import asyncio
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine
from wechatpy.enterprise.crypto import WeChatCrypto

from bench.cases_fixture import bench_database, load_county
from bench.dispatch_bench import Reporter, _reporters
from bench.report import Row, Section, Stats, fmt_ms, markdown_table, progress
from bot.conversation.buttons import ButtonSigner, case_step
from bot.conversation.report import DESCRIPTION
from bot.telegram.runtime import WEBHOOK_PATH
from bot.wecom.callback import CALLBACK_PATH
from dispatch.casework import Casework
from dispatch.registration import create_api_key
from models.db import create_engine

CITIZEN_SHARE_TARGET = 0.50  # of pgbench's transactions per second
WORKER_SHARE_TARGET = 0.33
CHAT_TARGET_PER_S = 1000.0
CHAT_P99_TARGET_MS = 50.0
WECOM_TARGET_PER_S = 500.0
WECOM = {  # the app's WeCom settings; the load generator plays WeCom's API
    "GRIDGOV_WECOM_CORP_ID": "wwbenchcorp",
    "GRIDGOV_WECOM_AGENT_ID": "1000002",
    "GRIDGOV_WECOM_SECRET": "bench-wecom-secret",
    "GRIDGOV_WECOM_TOKEN": "benchtoken",
    "GRIDGOV_WECOM_AES_KEY": "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
}
BOT_ID = 999000
TOKEN = f"{BOT_ID}:BENCH-TOKEN"
SECRET = "bench-webhook-secret"
BUTTON_KEY = "bench-button-key"  # the server signs its buttons with it; so do our presses
SIGNER = ButtonSigner(BUTTON_KEY.encode())
USER_BASE = 7_000_000  # Telegram user id of a person: USER_BASE + person id
MEMBERS_PER_OFFICE = 20  # office members added per department, registered on Telegram

# A citizen report's three inserts, as `Dispatch.report` writes them (case, event, outbox).
PGBENCH_SCRIPT = """\
BEGIN;
INSERT INTO cases (source, lon, lat, raw_lon, raw_lat, raw_crs, location_status, address,
  description, category_id, grid_id, community_id, town_id, priority, status, created_at,
  updated_at, escalation_level, reminded, rework_count, version)
  VALUES ('citizen', 119.97, 30.54, 119.97, 30.54, 'wgs84', 'inside', '', 'pgbench',
  :category, :grid, :community, :town, 2, 'reported', now(), now(), 0, false, 0, 1);
INSERT INTO case_events (case_id, action, actor_label, at, to_status, note, payload)
  VALUES (currval('cases_id_seq'), 'report', 'citizen', now(), 'reported', '', '{}');
INSERT INTO outbox_messages (dedupe_key, kind, case_id, recipient_kind, channel, address,
  locale, payload, status, attempts, next_attempt_at, created_at)
  VALUES ('pgbench:' || currval('case_events_id_seq'), 'case.new_report',
  currval('cases_id_seq'), 'person', 'log', 'pgbench', 'zh_CN', '{}', 'pending', 0, now(),
  now());
END;
"""


@dataclass
class ServeOptions:
    workers: int = field(default_factory=lambda: len(os.sched_getaffinity(0)))
    clients: int = 32  # concurrent HTTP clients of the load generator
    reports: int = 1500  # citizen reports
    rounds: int = 4  # report-flow rounds: every grid worker sends a text step, then Confirm
    pgbench_clients: int = 4
    pgbench_seconds: int = 15
    seed: int = 11


@dataclass(frozen=True)
class CpuSeconds:
    """CPU time spent during a run by the app's processes, PostgreSQL's, and the load
    generator's (which also plays the chat platforms' APIs): what a request costs, whatever
    else the machine was doing."""

    app: float = 0.0
    database: float = 0.0
    load: float = 0.0

    def __add__(self, other: "CpuSeconds") -> "CpuSeconds":
        return CpuSeconds(
            self.app + other.app, self.database + other.database, self.load + other.load
        )

    def per_request(self, n: int) -> list[str]:
        ms = 1e3 / max(n, 1)
        return [
            f"{self.app * ms:.1f} ms",
            f"{self.database * ms:.1f} ms",
            f"{self.load * ms:.1f} ms",
        ]


def _cpu_of(pid: int) -> float:
    """User and system CPU seconds of a process so far (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _postgres_cpu() -> dict[int, float]:
    """CPU seconds so far of every PostgreSQL process, by process id."""
    found = {}
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "comm").read_text().strip() == "postgres":
                found[int(entry.name)] = _cpu_of(int(entry.name))
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return found


@dataclass
class CpuMeter:
    """CPU seconds spent between `start` and `stop` by the app's processes, PostgreSQL's
    (the backends alive at the end: one that exits meanwhile takes its time with it) and the
    load generator."""

    app: list[int]
    load: int
    _app: float = 0.0
    _load: float = 0.0
    _database: dict[int, float] = field(default_factory=dict)

    def start(self) -> None:
        self._app = sum(_cpu_of(p) for p in self.app)
        self._load = _cpu_of(self.load)
        self._database = _postgres_cpu()

    def stop(self) -> CpuSeconds:
        database = _postgres_cpu()
        return CpuSeconds(
            sum(_cpu_of(p) for p in self.app) - self._app,
            sum(cpu - self._database.get(pid, 0.0) for pid, cpu in database.items()),
            _cpu_of(self.load) - self._load,
        )


@dataclass(frozen=True)
class Throughput:
    n: int
    seconds: float
    latencies: list[float]
    errors: list[str]
    cpu: CpuSeconds = CpuSeconds()

    @property
    def per_second(self) -> float:
        return self.n / self.seconds if self.seconds else 0.0

    @classmethod
    def merge(cls, runs: list["Throughput"]) -> "Throughput":
        return cls(
            sum(r.n for r in runs),
            sum(r.seconds for r in runs),
            [x for r in runs for x in r.latencies],
            [e for r in runs for e in r.errors],
            sum((r.cpu for r in runs), CpuSeconds()),
        )


async def run(options: ServeOptions, command: str) -> Section:
    section = Section(
        "serve", "Intake and chat through `gridgov serve` (issues 8 and 11 §1, §4)", command
    )
    async with bench_database("serve") as url:
        engine = create_engine(url)
        try:
            now = datetime.now(UTC).replace(microsecond=0)
            casework = await load_county(engine, now)
            key = await _api_key(casework, now)
            found = await _reporters(engine, np.random.default_rng(options.seed))
            reporters = list({r.person_id: r for r in found}.values())  # one grid each
            await _telegram_identities(engine, reporters)
            await _office_members(engine)
            progress(f"pgbench: a report's three inserts, {options.pgbench_clients} clients")
            pgbench = await asyncio.to_thread(pgbench_tps, url, options)
            async with (
                load_generator() as load,
                served(load, url, options.workers) as base,
            ):
                progress(f"citizen reports over Open311, {options.clients} clients")
                forms = _citizen_forms(casework, reporters, key, options)
                await load.run("open311", f"{base}/open311/v2/requests.json", forms[:50], 8)
                citizen = await load.run(
                    "open311", f"{base}/open311/v2/requests.json", forms[50:], options.clients
                )
                steps, confirms, wecom_steps = [], [], []
                webhook = f"{base}{WEBHOOK_PATH}"
                for round_ in range(options.rounds + 1):  # the first round warms up
                    progress(f"Telegram report flow, round {round_}")
                    drafts = await _seed_drafts(engine, casework, reporters, options, round_)
                    step = await load.run(
                        "telegram", webhook, _text_steps(drafts, round_), options.clients
                    )
                    confirm = await load.run(
                        "telegram", webhook, _confirms(drafts, round_), options.clients
                    )
                    wecom_step = await load.run(
                        "wecom", f"{base}{CALLBACK_PATH}", _wecom_steps(drafts), options.clients
                    )
                    if round_:
                        steps.append(step)
                        confirms.append(confirm)
                        wecom_steps.append(wecom_step)
                progress("Telegram: office members accept the dispatched cases")
                presses = await _accept_presses(engine, options)
                accepts = await load.run("telegram", webhook, presses, options.clients)
            reported = await _count_reports(engine, now)
        finally:
            await engine.dispose()
    _rows(
        section,
        options,
        pgbench,
        citizen,
        Throughput.merge(steps),
        Throughput.merge(confirms),
        accepts,
        Throughput.merge(wecom_steps),
    )
    section.add(
        "CPU time per request, from /proc, over each run: the app's worker processes, every "
        "PostgreSQL process, and the load generator (which also plays the Bot API and WeCom's "
        "API). On a machine shared with other work the rates above fall, these stay put: two "
        "dedicated cores give at most 2,000 ms ÷ (app + PostgreSQL + client) requests per "
        "second.",
        markdown_table(
            ["run", "app", "PostgreSQL", "load generator"],
            [
                [name, *result.cpu.per_request(result.n)]
                for name, result in (
                    ("citizen report (Open311 POST)", citizen),
                    ("Telegram text step", Throughput.merge(steps)),
                    ("Telegram Confirm (report filed and dispatched)", Throughput.merge(confirms)),
                    ("Telegram Accept on an office card", accepts),
                    ("WeCom text step", Throughput.merge(wecom_steps)),
                )
            ],
        ),
    )
    section.add(
        f"A throwaway database with the sample county (300 grids, one grid worker each, all "
        f"registered on Telegram). `gridgov serve --workers {options.workers}` in webhook mode "
        "against a Bot API stand-in; the load generator is a separate process "
        f"(`bench/serve_load.py`), {options.clients} concurrent clients, each sending its "
        "next request when the previous one is answered. A Telegram update counts as answered "
        "when the bot makes its first Bot API call about it (the webhook itself answers at "
        "once and handles the update in the background). Cases the servers wrote: "
        f"{reported:,}.",
        "pgbench: `pgbench -n -M prepared -c "
        f"{options.pgbench_clients} -j 2 -T {options.pgbench_seconds}` with a custom script: a "
        "citizen report's case, event and outbox row in one transaction.",
    )
    return section


def _rows(
    section: Section,
    options: ServeOptions,
    pgbench: float | str,
    citizen: Throughput,
    steps: Throughput,
    confirms: Throughput,
    accepts: Throughput,
    wecom_steps: Throughput,
) -> None:
    if isinstance(pgbench, str):
        section.rows.append(Row("pgbench: a report's three inserts", "not run", note=pgbench))
    else:
        section.rows.append(
            Row(
                "pgbench: a report's three inserts",
                f"{pgbench:,.0f} transactions/s",
                note=f"{options.pgbench_clients} clients; the database's limit, this run",
            )
        )
    for name, result, share in (
        ("citizen reports (Open311 POST)", citizen, CITIZEN_SHARE_TARGET),
        (
            "grid-worker reports (Telegram Confirm, filed and dispatched)",
            confirms,
            WORKER_SHARE_TARGET,
        ),
    ):
        stats = Stats.of(result.latencies)
        ratio = result.per_second / pgbench if not isinstance(pgbench, str) else None
        section.rows.append(
            Row(
                name,
                f"{result.per_second:,.0f} reports/s"
                + (f" ({ratio:.0%} of pgbench)" if ratio is not None else ""),
                f"≥ {share:.0%} of pgbench",
                None if ratio is None else ratio >= share,
                f"{result.n:,} reports, median {fmt_ms(stats.median_ms)}, "
                f"p95 {fmt_ms(stats.p95_ms)}" + _errors(result),
            )
        )
    for name, result, target in (
        ("Telegram updates: a text step of the report flow", steps, CHAT_TARGET_PER_S),
        ("Telegram updates: a button press (Confirm)", confirms, CHAT_TARGET_PER_S),
        ("Telegram updates: a button press on an office card (Accept)", accepts, CHAT_TARGET_PER_S),
        ("WeCom callbacks: the same text step (issue 8)", wecom_steps, WECOM_TARGET_PER_S),
    ):
        p99 = float(np.percentile(np.asarray(result.latencies) * 1e3, 99)) if result.n else 0.0
        section.rows.append(
            Row(
                name,
                f"{result.per_second:,.0f} updates/s (p99 {fmt_ms(p99)})",
                f"≥ {target:,.0f}/s, p99 ≤ {CHAT_P99_TARGET_MS:g} ms",
                result.n > 0 and result.per_second >= target and p99 <= CHAT_P99_TARGET_MS,
                f"{result.n:,} updates; median {fmt_ms(Stats.of(result.latencies).median_ms)}"
                + _errors(result),
            )
        )


def _errors(result: Throughput) -> str:
    if not result.errors:
        return ""
    return f"; {len(result.errors)} errors, e.g. {result.errors[0]}"


# -- pgbench ----------------------------------------------------------------------------------


def pgbench_tps(url: str, options: ServeOptions) -> float | str:
    """pgbench's transactions per second, or why it did not run."""
    exe = shutil.which("pgbench")
    if exe is None:
        return "pgbench is missing: `apt-get install postgresql-client` (Debian)"
    target = make_url(url)
    ids = asyncio.run(_place(url))
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as script:
        script.write(PGBENCH_SCRIPT)
    try:
        args = [exe, "-n", "-M", "prepared", "-c", str(options.pgbench_clients), "-j", "2"]
        args += ["-T", str(options.pgbench_seconds), "-f", script.name]
        args += [f"-D{name}={value}" for name, value in ids.items()]
        args += ["-h", target.host or "127.0.0.1", "-p", str(target.port or 5432)]
        args += ["-U", target.username or "postgres", target.database or ""]
        env = {**os.environ, **({"PGPASSWORD": target.password} if target.password else {})}
        done = subprocess.run(args, capture_output=True, text=True, env=env, check=False)
    finally:
        Path(script.name).unlink()
    found = re.search(r"tps = ([\d.]+) \(without initial connection time\)", done.stdout)
    if done.returncode != 0 or found is None:
        return f"pgbench failed ({done.returncode}): {(done.stderr or done.stdout)[-200:]}"
    return float(found.group(1))


async def _place(url: str) -> dict[str, int]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            row = (
                await conn.execute(
                    text(
                        "SELECT g.id, g.community_id, a.parent_id,"
                        " (SELECT min(id) FROM categories WHERE parent_code IS NOT NULL)"
                        " FROM grids g JOIN areas a ON a.id = g.community_id LIMIT 1"
                    )
                )
            ).one()
    finally:
        await engine.dispose()
    return dict(zip(("grid", "community", "town", "category"), row, strict=True))


# -- the servers and the load generator --------------------------------------------------------


@dataclass
class LoadGenerator:
    process: asyncio.subprocess.Process
    emulator: str
    app_pids: list[int] = field(default_factory=list)  # the served workers, once up

    async def run(self, kind: str, url: str, items: list[Any], clients: int) -> Throughput:
        assert self.process.stdin and self.process.stdout
        meter = CpuMeter(self.app_pids, self.process.pid)
        meter.start()
        key = "requests" if kind == "open311" else "updates"  # WeCom's: encrypted callbacks
        run = {"kind": kind, "url": url, "clients": clients, key: items, "secret": SECRET}
        self.process.stdin.write(json.dumps(run).encode() + b"\n")
        await self.process.stdin.drain()
        line = await self.process.stdout.readline()
        if not line:
            raise RuntimeError("the load generator ended")
        result = json.loads(line)
        cpu = meter.stop()
        return Throughput(
            result["n"], result["seconds"], result["latencies"], result["errors"], cpu
        )


@asynccontextmanager
async def load_generator() -> AsyncIterator[LoadGenerator]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.serve_load",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        limit=2**26,
    )
    try:
        assert process.stdout is not None
        emulator = json.loads(await process.stdout.readline())["emulator"]
        yield LoadGenerator(process, emulator)
    finally:
        if process.stdin:
            process.stdin.close()
        await process.wait()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@asynccontextmanager
async def served(load: LoadGenerator, url: str, workers: int) -> AsyncIterator[str]:
    """`gridgov serve --workers N` in webhook mode against the load generator's API
    stand-ins; yields its base URL once every worker answers /healthz (and tells the load
    generator the workers' process ids)."""
    emulator = load.emulator
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "GRIDGOV_DATABASE_URL": url,
        "GRIDGOV_HTTP_PORT": str(port),
        "GRIDGOV_TELEGRAM_TOKEN": TOKEN,
        "GRIDGOV_TELEGRAM_API_BASE": emulator,
        "GRIDGOV_TELEGRAM_MODE": "webhook",
        "GRIDGOV_WEBHOOK_SECRET": SECRET,
        "GRIDGOV_SECRET_KEY": BUTTON_KEY,
        "GRIDGOV_PUBLIC_URL": base,
        "GRIDGOV_WECOM_API_BASE": emulator,
        **WECOM,
    }
    with tempfile.TemporaryDirectory() as media, tempfile.TemporaryFile() as log:
        env["GRIDGOV_MEDIA_DIR"] = media
        server = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "gridgov.cli",
            "serve",
            "--workers",
            str(workers),
            env=env,
            stdout=log,
            stderr=log,
        )
        try:
            load.app_pids = await _all_workers_up(base, workers, server)
            yield base
        finally:
            if server.returncode is None:
                server.send_signal(signal.SIGTERM)
                await asyncio.wait_for(server.wait(), 60)
            if server.returncode:
                log.seek(0)
                print(log.read().decode(errors="replace")[-3000:], file=sys.stderr)


async def _all_workers_up(base: str, workers: int, server: asyncio.subprocess.Process) -> list[int]:
    import aiohttp

    pids: set[int] = set()
    deadline = time.monotonic() + 120
    connector = aiohttp.TCPConnector(force_close=True)
    async with aiohttp.ClientSession(connector=connector) as http:
        while len(pids) < workers:
            if server.returncode is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gridgov serve did not start ({len(pids)} workers up)")
            try:
                async with http.get(f"{base}/healthz") as r:
                    if r.status == 200:
                        pids.add((await r.json())["pid"])
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.05)
    return sorted(pids)


# -- the data ------------------------------------------------------------------------------------


async def _api_key(casework: Casework, now: datetime) -> str:
    async with casework.sessions() as session, session.begin():
        return await create_api_key(session, "bench", now)


async def _telegram_identities(engine: AsyncEngine, reporters: list[Reporter]) -> None:
    """Each grid worker on Telegram and on WeCom (userid `w` + the Telegram user id)."""
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO chat_identities (person_id, channel, external_id, created_at)"
                " VALUES (:person, :channel, :user, now())"
            ),
            [
                {"person": r.person_id, "channel": channel, "user": prefix + str(user)}
                for r in reporters
                for user in [USER_BASE + r.person_id]
                for channel, prefix in (("telegram", ""), ("wecom", "w"))
            ],
        )


async def _office_members(engine: AsyncEngine) -> None:
    """MEMBERS_PER_OFFICE office members for every department, each on Telegram."""
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO people (name, role, department_id, is_head, locale, active,"
                " created_at) SELECT '办事员' || d.id || '-' || n, 'office_member', d.id,"
                " false, 'zh_CN', true, now()"
                " FROM departments d CROSS JOIN generate_series(1, :n) n"
            ),
            {"n": MEMBERS_PER_OFFICE},
        )
        await conn.execute(
            text(
                "INSERT INTO chat_identities (person_id, channel, external_id, created_at)"
                " SELECT p.id, 'telegram', (:base + p.id)::text, now() FROM people p"
                " WHERE p.role = 'office_member' AND NOT EXISTS (SELECT 1 FROM"
                " chat_identities c WHERE c.person_id = p.id)"
            ),
            {"base": USER_BASE},
        )


async def _accept_presses(engine: AsyncEngine, options: ServeOptions) -> list[dict[str, Any]]:
    """Accept on the card of every dispatched case, pressed by a member of its office in a
    private chat; the members of an office take the cards in turn."""
    async with engine.connect() as conn:
        cases = (
            await conn.execute(
                text(
                    "SELECT id, version, department_id FROM cases"
                    " WHERE status = 'dispatched' AND department_id IS NOT NULL ORDER BY id"
                )
            )
        ).all()
        members: dict[int, list[int]] = {}
        for department, user in (
            await conn.execute(
                text(
                    "SELECT p.department_id, c.external_id::bigint FROM people p"
                    " JOIN chat_identities c ON c.person_id = p.id"
                    " WHERE p.role = 'office_member' ORDER BY p.id"
                )
            )
        ).all():
            members.setdefault(department, []).append(user)
    first = (options.rounds + 1) * 2 * 100_000
    presses = []
    for i, (case_id, version, department) in enumerate(cases):
        office = members.get(department)
        if not office:
            continue
        user = office[i % len(office)]
        presses.append(
            {
                "update_id": first + i,
                "callback_query": {
                    "id": f"cq{first + i}",
                    "from": _user(user),
                    "chat_instance": str(user),
                    "message": {
                        "message_id": first + i,
                        "date": int(time.time()),
                        "chat": {"id": user, "type": "private", "first_name": "办事员"},
                        "from": {"id": BOT_ID, "is_bot": True, "first_name": "gridgov"},
                        "text": "新案件",
                    },
                    "data": case_step(SIGNER, "accept", case_id, version),
                },
            }
        )
    return presses


def _leaf_codes(casework: Casework) -> list[str]:
    return sorted(c.code for c in casework.catalog.categories.values() if c.parent_code)


def _citizen_forms(
    casework: Casework, reporters: list[Reporter], key: str, options: ServeOptions
) -> list[dict[str, str]]:
    rng = np.random.default_rng(options.seed)
    codes = _leaf_codes(casework)
    forms = []
    for i in range(options.reports + 50):
        reporter = reporters[int(rng.integers(len(reporters)))]
        lon, lat = reporter.points[int(rng.integers(len(reporter.points)))]
        forms.append(
            {
                "api_key": key,
                "service_code": codes[int(rng.integers(len(codes)))],
                "lat": f"{lat:.7f}",
                "long": f"{lon:.7f}",
                "description": f"压测市民上报 {i}：路灯不亮",
                "phone": "13800000000",
            }
        )
    return forms


@dataclass(frozen=True)
class Draft:
    user: int
    draft: str


async def _seed_drafts(
    engine: AsyncEngine,
    casework: Casework,
    reporters: list[Reporter],
    options: ServeOptions,
    round_: int,
) -> list[Draft]:
    """Every grid worker's report draft, filled up to the description step (as the bot's
    storage keeps it), so the run's updates are the flow's last two steps."""
    rng = np.random.default_rng(options.seed + round_)
    codes = _leaf_codes(casework)
    drafts, rows = [], []
    for reporter in reporters:
        user = USER_BASE + reporter.person_id
        lon, lat = reporter.points[int(rng.integers(len(reporter.points)))]
        draft = Draft(user, uuid.uuid4().hex[:16])
        data = {
            "draft": draft.draft,
            "photos": [],
            "person_id": reporter.person_id,
            "lon": float(lon),
            "lat": float(lat),
            "accuracy": 12.0,
            "address": "",
            "crs": "wgs84",
            "category": codes[int(rng.integers(len(codes)))],
        }
        for key in (f"telegram:{user}:{user}", f"wecom:w{user}:w{user}"):  # `Sender.key`
            rows.append({"key": key, "state": DESCRIPTION, "data": json.dumps(data)})
        drafts.append(draft)
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO chat_states (key, state, data, updated_at)"
                " VALUES (:key, :state, CAST(:data AS json), now())"
                " ON CONFLICT (key) DO UPDATE SET state = excluded.state, data = excluded.data,"
                " updated_at = excluded.updated_at"
            ),
            rows,
        )
    return drafts


def _user(user: int) -> dict[str, Any]:
    return {"id": user, "is_bot": False, "first_name": "网格员", "language_code": "zh-hans"}


def _text_steps(drafts: list[Draft], round_: int) -> list[dict[str, Any]]:
    first = (round_ * 2) * 100_000
    return [
        {
            "update_id": first + i,
            "message": {
                "message_id": first + i,
                "date": int(time.time()),
                "chat": {"id": d.user, "type": "private", "first_name": "网格员"},
                "from": _user(d.user),
                "text": "路灯不亮，灯杆倾斜",
            },
        }
        for i, d in enumerate(drafts)
    ]


def _wecom_steps(drafts: list[Draft]) -> list[dict[str, Any]]:
    """The text step as WeCom's encrypted, signed callbacks, made before the clock starts."""
    crypto = WeChatCrypto(
        WECOM["GRIDGOV_WECOM_TOKEN"],
        WECOM["GRIDGOV_WECOM_AES_KEY"],
        WECOM["GRIDGOV_WECOM_CORP_ID"],
    )
    callbacks = []
    for d in drafts:
        user, now, nonce = f"w{d.user}", str(int(time.time())), uuid.uuid4().hex[:10]
        xml = (
            f"<xml><ToUserName><![CDATA[{WECOM['GRIDGOV_WECOM_CORP_ID']}]]></ToUserName>"
            f"<FromUserName><![CDATA[{user}]]></FromUserName><CreateTime>{now}</CreateTime>"
            "<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[路灯不亮，灯杆倾斜]]>"
            f"</Content><MsgId>{uuid.uuid4().int % 10**18}</MsgId>"
            f"<AgentID>{WECOM['GRIDGOV_WECOM_AGENT_ID']}</AgentID></xml>"
        )
        envelope = crypto.encrypt_message(xml, nonce, now)
        signature = re.search(r"<MsgSignature><!\[CDATA\[(\w+)\]\]>", envelope)
        assert signature is not None
        query = {"msg_signature": signature.group(1), "timestamp": now, "nonce": nonce}
        callbacks.append({"user": user, "query": query, "body": envelope})
    return callbacks


def _confirms(drafts: list[Draft], round_: int) -> list[dict[str, Any]]:
    first = (round_ * 2 + 1) * 100_000
    return [
        {
            "update_id": first + i,
            "callback_query": {
                "id": f"cq{first + i}",
                "from": _user(d.user),
                "chat_instance": str(d.user),
                "message": {
                    "message_id": first + i,
                    "date": int(time.time()),
                    "chat": {"id": d.user, "type": "private", "first_name": "网格员"},
                    "from": {"id": BOT_ID, "is_bot": True, "first_name": "gridgov"},
                    "text": "请核对后提交",
                },
                "data": f"r:confirm:{d.draft}:0",
            },
        }
        for i, d in enumerate(drafts)
    ]


async def _count_reports(engine: AsyncEngine, since: datetime) -> int:
    async with engine.connect() as conn:
        return int(
            await conn.scalar(
                text("SELECT count(*) FROM cases WHERE created_at >= :t AND description <> :p"),
                {"t": since, "p": "pgbench"},
            )
        )
