"""A throwaway PostgreSQL database holding the sample county and a large, realistic case load.

    async with bench_database("main") as url:
        fixture = await build_fixture(url, FixtureSpec(cases=1_000_000))

The database is created on the local server, migrated with `models.migrate`, and dropped at the
end. The county is the one `make demo` loads (`gridgov/sample/`: grids through
`dispatch.geography.import_layer`, the catalog through `dispatch.configuration.apply_catalog`)
plus one grid worker per grid. The cases are generated with numpy and bulk-loaded with asyncpg's
COPY (`copy_records_to_table`), never through the ORM one by one:

- spread over two years with growth, a weekly rhythm (quieter weekends) and office hours;
- 90 % closed (with a few voided and merged), 10 % open; of the open ones 2 % are overdue with
  a rung of the escalation ladder due (`next_check_at` in the past: the sweep has work), the
  other running cases sit inside their time limit with `next_check_at` ahead;
- deadlines, yellow marks and ladder times of the open running cases come from the real
  working calendar (`DeadlinePlanner`), those of the historic cases from a close vectorised
  approximation; on-time and late closures, rework, handling times and escalation levels in
  plausible proportions;
- two case events per case (the report and the latest step), one delivered outbox message per
  case, and photos for about two cases in three.

Secondary indexes are dropped during the load and rebuilt afterwards, and the tables are
vacuumed and analysed, as a long-running production database would be.
"""

import json
import os
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import numpy as np
import shapely
from sqlalchemy import select, update
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.report import progress, stopwatch
from dispatch.accounts import hash_password
from dispatch.casework import Casework
from dispatch.configuration import apply_catalog
from dispatch.core.deadlines import Rung
from dispatch.core.routing import Place
from dispatch.geography import GridDirectory, import_layer
from geo.boundaries import read_grid_layer
from gridgov.app import casework_settings
from gridgov.sample import CATALOG_PATH, GRIDS_PATH
from gridgov.sample.cases import DESCRIPTIONS
from gridgov.settings import Settings
from models import Case, Category, Grid, Person
from models.db import create_engine, create_session_factory
from models.enums import CaseStatus, ClockStart, TimeLimitUnit
from models.migrate import upgrade_async

SERVER_URL = os.environ.get(
    "GRIDGOV_BENCH_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
BENCH_PASSWORD = "gridgov-bench"
COUNTY_SUPERVISOR = "shenweidong"  # the sample county's county-level supervisor
SHANGHAI = ZoneInfo("Asia/Shanghai")
LOCAL_OFFSET_S = 8 * 3600  # Asia/Shanghai has no daylight saving time
HOUR, DAY = 3600.0, 86400.0
# Plain seconds per working second, on average: a 7-hour working day on 5 days of 7.
WORK_TO_PLAIN = 24 / 7 * 7 / 5
COPY_CHUNK = 100_000
BULK_TABLES = ("cases", "case_events", "outbox_messages", "attachments")
# Reports per local hour of the day, relative: patrols in office hours, a few calls at night.
HOUR_PROFILE = np.array(
    [1, 1, 1, 1, 1, 2, 4, 8, 14, 16, 15, 12, 8, 11, 15, 16, 14, 10, 6, 4, 3, 2, 2, 1], float
)
# Share of the open cases by state; the running ones inside their limit take the rest.
OPEN_SHARES = {
    "reported": 0.08,  # citizen reports waiting to be filed
    "filed": 0.02,
    "returned": 0.02,
    "resolved": 0.20,  # waiting for verification
    "suspended": 0.28,  # 挂账: long-term work
}
CLOSED_SHARES = {"voided": 0.025, "merged": 0.02}


@dataclass(frozen=True)
class FixtureSpec:
    cases: int = 1_000_000
    open_share: float = 0.10
    overdue_share: float = 0.002
    days: int = 730
    seed: int = 1

    @property
    def open(self) -> int:
        return round(self.cases * self.open_share)

    @property
    def overdue(self) -> int:
        return round(self.cases * self.overdue_share)


@dataclass
class Fixture:
    """What the benchmarks need to know about a loaded database."""

    name: str
    url: str  # SQLAlchemy URL (asyncpg driver)
    now: datetime  # the moment the cases were generated for; sweeps run "as of" it
    spec: FixtureSpec
    counts: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    size_mb: float = 0.0


def asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _database_url(name: str) -> str:
    return make_url(SERVER_URL).set(database=name).render_as_string(hide_password=False)


@asynccontextmanager
async def bench_database(label: str, keep: bool = False) -> AsyncIterator[str]:
    """A new database migrated to head; dropped on exit unless `keep`."""
    name = f"gridgov_bench_{label}_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(asyncpg_dsn(SERVER_URL))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    url = _database_url(name)
    try:
        await upgrade_async(url)
        yield url
    finally:
        if keep:
            print(f"kept database {name}")
        else:
            await drop_database(name)


async def drop_database(name: str) -> None:
    admin = await asyncpg.connect(asyncpg_dsn(SERVER_URL))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def existing_fixture(name: str) -> Fixture:
    """A database kept by an earlier run (--keep-db), for iterating on the benchmarks."""
    url = _database_url(name)
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        raw = await conn.fetchval("SELECT value FROM bench_fixture WHERE key = 'fixture'")
    finally:
        await conn.close()
    data = json.loads(raw)
    return Fixture(
        name,
        url,
        datetime.fromisoformat(data["now"]),
        FixtureSpec(**data["spec"]),
        data["counts"],
        data["seconds"],
        data["size_mb"],
    )


async def build_fixture(url: str, spec: FixtureSpec, now: datetime | None = None) -> Fixture:
    now = (now or datetime.now(UTC)).replace(microsecond=0)
    fixture = Fixture(make_url(url).database or "", url, now, spec)
    engine = create_engine(url)
    try:
        with stopwatch() as t:
            casework = await load_county(engine, now)
        fixture.seconds["county"] = t[0]
        generator = CaseGenerator(casework, spec, now)
        with stopwatch() as t:
            tables = await generator.generate(engine)
        fixture.seconds["generate"] = t[0]
        conn = await asyncpg.connect(asyncpg_dsn(url))
        try:
            with stopwatch() as t:
                await _bulk_load(conn, tables)
            fixture.seconds["copy + indexes"] = t[0]
            with stopwatch() as t:
                progress("VACUUM ANALYZE")
                for table in BULK_TABLES:
                    await conn.execute(f"VACUUM (ANALYZE) {table}")
            fixture.seconds["vacuum analyze"] = t[0]
            fixture.counts = await _counts(conn, now)
            await remember_due(conn, now)
            fixture.size_mb = await conn.fetchval("SELECT pg_database_size(current_database())")
            fixture.size_mb /= 2**20
            await _remember(conn, fixture)
        finally:
            await conn.close()
    finally:
        await engine.dispose()
    return fixture


async def load_county(engine: AsyncEngine, now: datetime) -> Casework:
    """The sample county with one grid worker per grid and a known console password."""
    progress("loading the sample county")
    sessions = create_session_factory(engine)
    catalog = json.loads(CATALOG_PATH.read_text("utf-8"))
    layer = read_grid_layer(GRIDS_PATH)
    covered = {code for p in catalog["people"] for code in p.get("grids", [])}
    catalog["people"] += [
        {
            "name": f"网格员{f.code[-6:]}",
            "role": "grid_worker",
            "username": f"gw{f.code}",
            "grids": [f.code],
        }
        for f in layer.features
        if f.code not in covered
    ]
    password = hash_password(BENCH_PASSWORD)
    async with sessions() as session, session.begin():
        await import_layer(session, layer, "sample county")
        await apply_catalog(session, catalog)
        await session.execute(
            update(Person).where(Person.username.is_not(None)).values(password_hash=password)
        )
    casework = Casework(
        sessions, GridDirectory(30.0), casework_settings(Settings()), clock=lambda: now
    )
    await casework.refresh()
    return casework


# -- generation -------------------------------------------------------------------------------

Columns = dict[str, np.ndarray]


@dataclass
class Tables:
    """Column arrays per table, ready for COPY."""

    cases: Columns
    events: Columns
    outbox: Columns
    attachments: Columns


class CaseGenerator:
    """Makes the cases of one county, kind by kind, as column arrays."""

    def __init__(self, casework: Casework, spec: FixtureSpec, now: datetime) -> None:
        self.casework = casework
        self.spec = spec
        self.now = now
        self.now_s = now.timestamp()
        self.rng = np.random.default_rng(spec.seed)
        catalog = casework.catalog
        self.categories: list[Category] = sorted(
            (c for c in catalog.categories.values() if c.parent_code and c.active),
            key=lambda c: c.code,
        )
        policy = casework.settings.policy
        self.level_after_ws = (0.0, policy.level2_after_seconds, policy.level3_after_seconds)

    # The pieces every kind draws from.

    async def _setup(self, engine: AsyncEngine) -> None:
        rng, casework = self.rng, self.casework
        sessions = create_session_factory(engine)
        async with sessions() as session:
            grids = (await session.scalars(select(Grid).order_by(Grid.code))).all()
        info = casework.directory.info
        self.grid_codes = [g.code for g in grids]
        self.grid_ids = np.array([info[g.code].grid_id for g in grids])
        self.community_ids = np.array([info[g.code].community_id for g in grids])
        self.town_ids = np.array([info[g.code].town_id for g in grids])
        self.addresses = np.array(
            [
                f"{info[g.code].town_name}{info[g.code].community_name}{info[g.code].grid_name}附近"
                for g in grids
            ],
            dtype=object,
        )
        # Busy and quiet grids; popular and rare categories.
        self.grid_weights = rng.lognormal(0.0, 0.6, len(grids))
        self.grid_weights /= self.grid_weights.sum()
        weights = np.array([3.0 if c.parent_code in ("01", "04") else 1.0 for c in self.categories])
        weights *= rng.lognormal(0.0, 0.7, len(weights))
        self.category_weights = weights / weights.sum()
        # 64 points inside each grid, by rejection sampling.
        polygons = [shapely.from_wkb(g.geometry_wkb) for g in grids]
        self.points = np.stack([self._points_in(p, 64) for p in polygons])  # grid × 64 × 2
        # The grid worker of each grid (the first one listed if several).
        async with sessions() as session:
            assigned = (
                await session.execute(
                    select(Grid.code, Person.id, Person.name).join(Person.grids).order_by(Person.id)
                )
            ).all()
        worker_of: dict[str, tuple[int, str]] = {}
        for code, person_id, name in assigned:
            worker_of.setdefault(code, (person_id, name))
        self.worker_ids = np.array([worker_of[code][0] for code in self.grid_codes])
        self.worker_names = np.array([worker_of[code][1] for code in self.grid_codes], dtype=object)
        # The responsible department per (category, grid), by the real routing rules.
        routing, county = casework.catalog.routing, casework.directory.county_code or ""
        self.departments = np.array(
            [
                [
                    _department(routing.route(c.code, Place(code, code[:12], code[:9], county)))
                    for code in self.grid_codes
                ]
                for c in self.categories
            ]
        )
        calendar = casework.catalog.calendar
        self.limit_ws = np.array(
            [
                calendar.limit_seconds(c.time_limit_value or 1, (c.time_limit_unit or "hours"))
                for c in self.categories
            ],
            float,
        )
        plain = np.array([c.time_limit_unit is TimeLimitUnit.HOURS for c in self.categories])
        self.limit_plain = np.where(plain, self.limit_ws, self.limit_ws * WORK_TO_PLAIN)
        self.work_factor = np.where(plain, 1.0, WORK_TO_PLAIN)
        self.clock_at_accept = np.array(
            [c.clock_start is ClockStart.ACCEPT for c in self.categories]
        )

    def _points_in(self, polygon: Any, k: int) -> np.ndarray:
        x0, y0, x1, y1 = polygon.bounds
        found: list[np.ndarray] = []
        while sum(len(f) for f in found) < k:
            xy = self.rng.uniform((x0, y0), (x1, y1), (4 * k, 2))
            found.append(xy[shapely.contains_xy(polygon, xy[:, 0], xy[:, 1])])
        return np.concatenate(found)[:k]

    def _intake_times(self, k: int, min_age_s: float = 60.0) -> np.ndarray:
        """Report times over the whole period: growing intake, quieter weekends, office
        hours. Epoch seconds, at least `min_age_s` before now."""
        rng = self.rng
        local_now = self.now_s + LOCAL_OFFSET_S
        today = np.floor(local_now / DAY) * DAY  # local midnight, as a "local epoch"
        back = np.arange(self.spec.days)
        day_start = today - back * DAY
        weekday = ((day_start // DAY).astype(int) + 3) % 7  # 1970-01-01 was a Thursday
        weights = (1.25 - 0.5 * back / self.spec.days) * np.where(weekday >= 5, 0.55, 1.0)
        out = np.empty(0)
        while len(out) < k:
            m = k - len(out)
            days = rng.choice(len(back), m, p=weights / weights.sum())
            hours = rng.choice(24, m, p=HOUR_PROFILE / HOUR_PROFILE.sum())
            t = day_start[days] + hours * HOUR + rng.uniform(0, HOUR, m) - LOCAL_OFFSET_S
            out = np.concatenate([out, t[t <= self.now_s - min_age_s]])
        return out

    def _recent(self, k: int, mean_days: float, max_days: float, min_s: float = 300) -> np.ndarray:
        age = np.clip(self.rng.exponential(mean_days * DAY, k), min_s, max_days * DAY)
        return self.now_s - age

    def _exp(self, k: int, mean_s: float, cap_s: float | None = None) -> np.ndarray:
        x = self.rng.exponential(mean_s, k) + 1.0
        return np.minimum(x, cap_s) if cap_s else x

    def _base(self, k: int, kind: str, sources: tuple[float, float, float]) -> Columns:
        """Where, what and by whom: grid, point, category, source, reporter, text."""
        rng = self.rng
        g = rng.choice(len(self.grid_codes), k, p=self.grid_weights)
        c = rng.choice(len(self.categories), k, p=self.category_weights)
        xy = self.points[g, rng.integers(0, self.points.shape[1], k)]
        source = rng.choice(np.array(["grid_worker", "citizen", "console"]), k, p=sources)
        worker = source == "grid_worker"
        cols: Columns = {
            "kind": np.full(k, kind, dtype=object),
            "g": g,
            "c": c,
            "source": source.astype(object),
            "reporter_id": np.where(worker, self.worker_ids[g], -1),
            "lon": xy[:, 0],
            "lat": xy[:, 1],
            "accuracy_m": np.where(worker, rng.uniform(3, 35, k).round(1), np.nan),
            "department_id": self.departments[c, g].astype(float),
            "priority": np.array([self.categories[i].priority for i in c]),
        }
        return cols

    def _handled(self, cols: Columns, created: np.ndarray, late_share: float = 0.1) -> None:
        """Filing, dispatch, acceptance, the clock and resolution, vectorised (historic)."""
        rng, k = self.rng, len(created)
        c = cols["c"]
        worker = cols["source"] == "grid_worker"
        filed = np.where(worker, created, created + self._exp(k, 2 * HOUR, 2 * DAY))
        dispatched = np.where(worker, created, filed + self._exp(k, 15 * 60, DAY))
        accepted = dispatched + self._exp(k, 40 * 60, DAY)
        start = np.where(self.clock_at_accept[c], accepted, dispatched)
        limit = self.limit_plain[c]
        late = rng.random(k) < late_share
        ratio = np.where(late, 1 + rng.exponential(0.6, k), rng.beta(2, 2.5, k))
        resolved = np.maximum(start + ratio * limit, accepted + 60)
        cols.update(
            created=created,
            filed=filed,
            dispatched=dispatched,
            accepted=accepted,
            clock_started=start,
            deadline=start + limit,
            yellow=start + 0.8 * limit,
            resolved=resolved,
            ratio=ratio,
        )
        overdue_work = (resolved - cols["deadline"]) / self.work_factor[c]
        level = np.zeros(k, int)
        for i, after in enumerate(self.level_after_ws, start=1):
            level = np.where(overdue_work > after, i, level)
        cols["escalation_level"] = level
        cols["reminded"] = (ratio >= 0.8) & (level == 0)

    def _shift_before(self, cols: Columns, last: str, margin_s: float) -> None:
        """Moves whole timelines back where their `last` moment would lie in the future."""
        over = cols[last] - (self.now_s - margin_s)
        shift = np.where(over > 0, over + self.rng.uniform(0, 2 * DAY, len(over)), 0.0)
        for name in TIME_COLUMNS:
            if name in cols:
                cols[name] = cols[name] - shift

    # The kinds of cases.

    def closed(self, k: int) -> Columns:
        cols = self._base(k, "closed", (0.80, 0.17, 0.03))
        self._handled(cols, self._intake_times(k))
        c = cols["c"]
        rework = self.rng.random(k) < 0.04
        closed = cols["resolved"] + self._exp(k, 4 * HOUR, 3 * DAY) + rework * DAY
        cols.update(closed=closed, rework_count=rework.astype(int))
        self._shift_before(cols, "closed", 600)
        cols["status"] = np.full(k, "closed", dtype=object)
        cols["closed_on_time"] = cols["resolved"] <= cols["deadline"]
        cols["handling_work_seconds"] = np.round(cols["ratio"] * self.limit_ws[c])
        cols["updated"] = cols["closed"]
        return cols

    def voided(self, k: int) -> Columns:
        cols = self._base(k, "voided", (0.30, 0.65, 0.05))
        created = self._intake_times(k, 6 * HOUR)
        filed = np.where(self.rng.random(k) < 0.5, created + self._exp(k, HOUR, DAY), np.nan)
        voided = np.fmax(created, filed) + self._exp(k, 3 * HOUR, 2 * DAY)
        cols.update(created=created, filed=filed, voided=voided, updated=voided)
        self._shift_before(cols, "voided", 600)
        cols["department_id"] = np.full(k, np.nan)
        cols["status"] = np.full(k, "voided", dtype=object)
        return cols

    def merged(self, k: int) -> Columns:
        cols = self._base(k, "merged", (0.60, 0.37, 0.03))
        created = self._intake_times(k, 6 * HOUR)
        cols.update(created=created, updated=created + self._exp(k, 2 * HOUR, DAY))
        self._shift_before(cols, "updated", 600)
        cols["department_id"] = np.full(k, np.nan)
        cols["status"] = np.full(k, "merged", dtype=object)
        return cols

    def reported(self, k: int) -> Columns:
        cols = self._base(k, "reported", (0.0, 0.85, 0.15))
        created = self._recent(k, 4, 60)
        cols.update(created=created, updated=created)
        cols["department_id"] = np.full(k, np.nan)
        cols["status"] = np.full(k, "reported", dtype=object)
        return cols

    def filed(self, k: int) -> Columns:
        cols = self._base(k, "filed", (0.0, 0.85, 0.15))
        created = self._recent(k, 3, 30, 2 * HOUR)
        filed = np.minimum(created + self._exp(k, HOUR, DAY), self.now_s - 60)
        cols.update(created=created, filed=filed, updated=filed)
        cols["department_id"] = np.full(k, np.nan)
        cols["status"] = np.full(k, "filed", dtype=object)
        return cols

    def returned(self, k: int) -> Columns:
        cols = self._base(k, "returned", (0.80, 0.17, 0.03))
        self._handled(cols, self._recent(k, 5, 60, 3 * HOUR))
        cols["updated"] = cols["dispatched"] + self._exp(k, 2 * HOUR, DAY)
        self._shift_before(cols, "updated", 600)
        cols["accepted"] = np.full(k, np.nan)
        cols["resolved"] = np.full(k, np.nan)
        cols["status"] = np.full(k, "returned", dtype=object)
        return cols

    def resolved(self, k: int) -> Columns:
        cols = self._base(k, "resolved", (0.80, 0.17, 0.03))
        self._handled(cols, self._recent(k, 5, 90, 2 * HOUR))
        self._shift_before(cols, "resolved", 600)
        cols["updated"] = cols["resolved"]
        cols["status"] = np.full(k, "resolved", dtype=object)
        return cols

    def suspended(self, k: int) -> Columns:
        cols = self._base(k, "suspended", (0.80, 0.17, 0.03))
        self._handled(cols, self._intake_times(k, 3 * DAY), late_share=0.0)
        c = cols["c"]
        used = self.rng.uniform(0.1, 0.9, k)
        suspended = cols["clock_started"] + used * self.limit_plain[c]
        cols.update(
            suspended=suspended,
            updated=suspended,
            remaining_work_seconds=np.round((1 - used) * self.limit_ws[c]),
        )
        self._shift_before(cols, "suspended", 600)
        cols["resolved"] = np.full(k, np.nan)
        cols["escalation_level"] = np.zeros(k, int)
        cols["reminded"] = np.zeros(k, bool)
        cols["status"] = np.full(k, "suspended", dtype=object)
        return cols

    def running(self, k: int, overdue: bool) -> Columns:
        """Dispatched or accepted cases, timed with the real working calendar: inside their
        limit (next_check_at ahead), or overdue with the next rung of the ladder due."""
        kind = "overdue" if overdue else "running"
        cols = self._base(k, kind, (0.80, 0.17, 0.03))
        rng, planner, now = self.rng, self.casework.planner, self.now
        accepted_share = 0.8 if overdue else 0.7
        names = ("created", "filed", "dispatched", "accepted", "clock_started", "deadline")
        out = {n: np.full(k, np.nan) for n in (*names, "yellow", "next_check")}
        status = np.where(rng.random(k) < accepted_share, "accepted", "dispatched").astype(object)
        level = np.zeros(k, int)
        reminded = np.zeros(k, bool)
        extension = np.full(k, np.nan)
        for i in range(k):
            category = self.categories[cols["c"][i]]
            at_accept = category.clock_start is ClockStart.ACCEPT
            if at_accept and status[i] == "dispatched" and not overdue:
                dispatched = self.now_s - rng.exponential(2 * HOUR) - 60
                out["dispatched"][i] = dispatched
                continue  # the clock starts when the office accepts
            if at_accept:
                status[i] = "accepted"
            case = Case(category=category, category_id=category.id, status=CaseStatus(status[i]))
            span = float(self.limit_plain[cols["c"][i]])
            start = self._start_time(case, span, overdue)
            assert case.deadline_at is not None and case.yellow_at is not None
            if overdue:
                times = planner.rung_times(case)
                due = [r for r in (Rung.LEVEL1, Rung.LEVEL2, Rung.LEVEL3) if times[r] <= now]
                case.escalation_level = int(due[-1]) - 1
                case.reminded = True
            else:
                case.reminded = case.yellow_at <= now
            next_check = planner.next_check(case)
            assert next_check is not None and (next_check <= now) == overdue
            level[i], reminded[i] = case.escalation_level, case.reminded
            s = start.timestamp()
            if at_accept:
                accepted, dispatched = s, s - rng.exponential(30 * 60) - 60
            else:
                dispatched = s
                accepted = (
                    min(s + rng.exponential(40 * 60) + 60, self.now_s - 30)
                    if status[i] == "accepted"
                    else np.nan
                )
            out["dispatched"][i], out["accepted"][i], out["clock_started"][i] = (
                dispatched,
                accepted,
                s,
            )
            out["deadline"][i] = case.deadline_at.timestamp()
            out["yellow"][i] = case.yellow_at.timestamp()
            out["next_check"][i] = next_check.timestamp()
            if not overdue and status[i] == "accepted" and rng.random() < 0.02:
                extension[i] = out["deadline"][i] + rng.uniform(1, 5) * DAY
        worker = cols["source"] == "grid_worker"
        gap = np.where(worker, 0.0, self._exp(k, 2 * HOUR, DAY))
        out["created"] = out["dispatched"] - gap
        out["filed"] = np.where(worker, out["created"], out["dispatched"] - 60)
        cols.update(out)
        cols.update(
            status=status,
            escalation_level=level,
            reminded=reminded,
            extension=extension,
            updated=np.fmax(out["dispatched"], out["accepted"]),
        )
        return cols

    def _start_time(self, case: Case, span: float, overdue: bool) -> datetime:
        """A clock start that leaves the case inside its limit, or overdue, at `now`."""
        planner, rng = self.casework.planner, self.rng
        for _ in range(40):
            offset = span * (rng.uniform(1.05, 6.0) if overdue else rng.uniform(0.0, 1.0))
            start = self.now - timedelta(seconds=offset + (0 if overdue else 60))
            planner.start(case, start)
            assert case.deadline_at is not None
            if (case.deadline_at <= self.now) == overdue:
                return start
            span = span * 2 if overdue else span / 2
        start = self.now - timedelta(seconds=60)
        planner.start(case, start)
        return start

    # Putting it together.

    async def generate(self, engine: AsyncEngine) -> Tables:
        await self._setup(engine)
        spec = self.spec
        open_rest = spec.open - spec.overdue
        counts = {kind: round(spec.open * share) for kind, share in OPEN_SHARES.items()}
        counts["running"] = open_rest - sum(counts.values())
        closed_side = spec.cases - spec.open
        closed_counts = {kind: round(closed_side * s) for kind, s in CLOSED_SHARES.items()}
        closed_counts["closed"] = closed_side - sum(closed_counts.values())
        progress(f"generating {spec.cases:,} cases ({spec.open:,} open, {spec.overdue:,} overdue)")
        blocks = [
            self.closed(closed_counts["closed"]),
            self.voided(closed_counts["voided"]),
            self.merged(closed_counts["merged"]),
            self.reported(counts["reported"]),
            self.filed(counts["filed"]),
            self.returned(counts["returned"]),
            self.resolved(counts["resolved"]),
            self.suspended(counts["suspended"]),
        ]
        progress(f"timing {counts['running'] + spec.overdue:,} running cases on the calendar")
        blocks += [self.running(counts["running"], False), self.running(spec.overdue, True)]
        cols = _concat(blocks)
        order = np.argsort(cols["created"], kind="stable")
        cols = {name: values[order] for name, values in cols.items()}
        return self._tables(cols)

    def _tables(self, cols: Columns) -> Tables:
        n = len(cols["created"])
        rng = self.rng
        ids = np.arange(1, n + 1)
        g, c = cols["g"], cols["c"]
        kind = cols["kind"]
        local_day = np.datetime_as_string(
            ((cols["created"] + LOCAL_OFFSET_S) * 1e6).astype("datetime64[us]"), unit="D"
        )
        number = np.char.add(np.char.replace(local_day, "-", ""), np.char.zfill(ids.astype(str), 6))
        merged = kind == "merged"
        duplicate_of = np.where(merged, np.maximum(1, ids - rng.integers(1, 300, n)), -1)
        citizen = cols["source"] == "citizen"
        contacts = np.full(n, None, dtype=object)
        phones = rng.integers(13_000_000_000, 19_000_000_000, n)
        contacts[citizen] = [
            json.dumps({"phone": str(p), "client": "12345热线"}) for p in phones[citizen]
        ]
        gcj = citizen & (rng.random(n) < 0.5)
        descriptions = self._descriptions(c)
        cases: Columns = {
            "id": ids,
            "number": number.astype(object),
            "source": cols["source"],
            "reporter_id": _nullable_int(cols["reporter_id"]),
            "reporter_contact": contacts,
            "lon": cols["lon"],
            "lat": cols["lat"],
            "raw_lon": np.where(gcj, cols["lon"] + 0.00465, cols["lon"]),
            "raw_lat": np.where(gcj, cols["lat"] - 0.00245, cols["lat"]),
            "raw_crs": np.where(gcj, "gcj02", "wgs84").astype(object),
            "accuracy_m": _nullable_float(cols["accuracy_m"]),
            "location_status": np.full(n, "inside", dtype=object),
            "address": self.addresses[g],
            "description": descriptions,
            "category_id": np.array([cat.id for cat in self.categories])[c],
            "grid_id": self.grid_ids[g],
            "community_id": self.community_ids[g],
            "town_id": self.town_ids[g],
            "department_id": _nullable_int(cols["department_id"]),
            "priority": cols["priority"],
            "status": cols["status"],
            "escalation_level": cols["escalation_level"],
            "reminded": cols["reminded"],
            "extension_requested_until": _times(cols["extension"]),
            "extension_reason": np.where(
                np.isnan(cols["extension"]), None, "需协调施工单位，申请延期"
            ),
            "duplicate_of_id": _nullable_int(duplicate_of),
            "rework_count": cols["rework_count"],
            "closed_on_time": _nullable_bool(cols["closed_on_time"]),
            "handling_work_seconds": _nullable_int(cols["handling_work_seconds"]),
            "status_before_suspension": np.where(kind == "suspended", "accepted", None),
            "remaining_work_seconds": _nullable_int(cols["remaining_work_seconds"]),
            "version": np.full(n, 1) + (kind != "reported") * rng.integers(1, 6, n),
        }
        for name, column in CASE_TIMES.items():
            cases[column] = _times(cols[name])
        events, second = self._events(cols, ids, descriptions)
        return Tables(
            cases,
            events,
            self._outbox(cols, ids, number, second),
            self._attachments(cols, ids, second),
        )

    def _descriptions(self, c: np.ndarray) -> np.ndarray:
        texts = [DESCRIPTIONS.get(cat.parent_code or "", ["情况待核实"]) for cat in self.categories]
        pick = self.rng.integers(0, 1000, len(c))
        names = [cat.name_zh for cat in self.categories]
        return np.array(
            [f"{texts[i][p % len(texts[i])]}（{names[i]}）" for i, p in zip(c, pick, strict=True)],
            dtype=object,
        )

    def _events(
        self, cols: Columns, ids: np.ndarray, descriptions: np.ndarray
    ) -> tuple[Columns, np.ndarray]:
        """The report event of every case, then the latest step of those that moved on;
        returns the events and, per case, the id of its latest event."""
        n = len(ids)
        kind, status = cols["kind"], cols["status"]
        worker = cols["source"] == "grid_worker"
        reporter_label = np.where(worker, self.worker_names[cols["g"]], "市民")
        report = {
            "id": ids,
            "case_id": ids,
            "action": np.full(n, "report", dtype=object),
            "actor_id": _nullable_int(cols["reporter_id"]),
            "actor_label": reporter_label.astype(object),
            "at": _times(cols["created"]),
            "from_status": np.full(n, None, dtype=object),
            "to_status": np.full(n, "reported", dtype=object),
            "department_id": np.full(n, None, dtype=object),
            "note": descriptions,
            "payload": np.array(
                [f'{{"location_status": "inside", "source": "{s}"}}' for s in cols["source"]],
                dtype=object,
            ),
        }
        # The latest step: (action, from, to, the moment it happened).
        steps = {
            "closed": ("verify", "resolved", "closed", "closed"),
            "voided": ("void", "filed", "voided", "voided"),
            "merged": ("merge", "reported", "merged", "updated"),
            "filed": ("file", "reported", "filed", "filed"),
            "returned": ("return", "dispatched", "returned", "updated"),
            "resolved": ("resolve", "accepted", "resolved", "resolved"),
            "suspended": ("suspend", "accepted", "suspended", "suspended"),
        }
        moved = kind != "reported"
        m = int(moved.sum())
        action = np.empty(n, dtype=object)
        from_status = np.empty(n, dtype=object)
        at = np.full(n, np.nan)
        for name, (act, before, _after, moment) in steps.items():
            where = kind == name
            action[where], from_status[where] = act, before
            if name == "voided":
                from_status[where] = np.where(np.isnan(cols["filed"][where]), "reported", "filed")
            at[where] = cols[moment][where]
        running = (kind == "running") | (kind == "overdue")
        accepted = running & (status == "accepted")
        action[running] = np.where(accepted[running], "accept", "dispatch")
        from_status[running] = np.where(accepted[running], "dispatched", "filed")
        at[running] = np.where(
            accepted[running], cols["accepted"][running], cols["dispatched"][running]
        )
        second = np.where(moved, n + np.cumsum(moved), ids)
        on_time = cols["closed_on_time"]
        payload = np.where(
            kind == "closed",
            np.where(on_time == 1, '{"on_time": true}', '{"on_time": false}'),
            "{}",
        )
        latest = {
            "id": second[moved],
            "case_id": ids[moved],
            "action": action[moved],
            "actor_id": np.full(m, None, dtype=object),
            "actor_label": np.where(kind[moved] == "closed", reporter_label[moved], "系统").astype(
                object
            ),
            "at": _times(at[moved]),
            "from_status": from_status[moved],
            "to_status": status[moved],
            "department_id": _nullable_int(cols["department_id"][moved]),
            "note": np.where(action[moved] == "resolve", "已处置完毕", "").astype(object),
            "payload": payload[moved].astype(object),
        }
        return _concat([report, latest]), second

    def _outbox(
        self, cols: Columns, ids: np.ndarray, number: np.ndarray, event_ids: np.ndarray
    ) -> Columns:
        """One delivered message per case: the office's card, or the dispatchers' notice."""
        n = len(ids)
        department = cols["department_id"]
        office = ~np.isnan(department)
        dept = np.where(office, department, 0).astype(int).astype(str)
        kind = np.where(office, "case.card", "case.new_report")
        address = np.where(office, np.char.add("office:", dept), "person:dispatchers")
        at = np.fmax(cols["created"], np.fmax(cols["dispatched"], cols["filed"]))
        at = np.where(np.isnan(at), cols["created"], at)
        keys = np.char.add(
            np.char.add(np.char.add("e", event_ids.astype(str)), np.char.add(":", kind)),
            np.char.add(":log:", address),
        )
        return {
            "id": ids,
            "dedupe_key": keys.astype(object),
            "kind": kind.astype(object),
            "case_id": ids,
            "recipient_kind": np.where(office, "office", "person").astype(object),
            "recipient_id": _nullable_int(np.where(office, department, -1)),
            "channel": np.full(n, "log", dtype=object),
            "address": address.astype(object),
            "locale": np.full(n, "zh_CN", dtype=object),
            "payload": np.char.add(np.char.add('{"number": "', number), '"}').astype(object),
            "status": np.full(n, "sent", dtype=object),
            "attempts": np.ones(n, int),
            "next_attempt_at": _times(at),
            "created_at": _times(at),
            "sent_at": _times(at + 2),
        }

    def _attachments(self, cols: Columns, ids: np.ndarray, event_ids: np.ndarray) -> Columns:
        """A report photo for two cases in three; a result photo for half the closed ones."""
        rng = self.rng
        n = len(ids)
        report = rng.random(n) < 0.65
        result = (cols["kind"] == "closed") & (rng.random(n) < 0.5)
        citizen = cols["source"] == "citizen"
        case_ids = np.concatenate([ids[report], ids[result]])
        k = len(case_ids)
        storage = np.where(
            np.concatenate([citizen[report], citizen[result]]), "url", "telegram"
        ).astype(object)
        tokens = rng.integers(0, 2**62, k).astype(str)
        refs = np.where(
            storage == "url",
            np.char.add(np.char.add("https://12345.example.cn/media/", tokens), ".jpg"),
            np.char.add("AgACAgUAAxkBAAI", tokens),
        )
        at = np.concatenate(
            [cols["created"][report], np.where(np.isnan(cols["closed"]), 0, cols["closed"])[result]]
        )
        return {
            "id": np.arange(1, k + 1),
            "case_id": case_ids,
            "event_id": np.concatenate([ids[report], event_ids[result]]),
            "purpose": np.array(["report"] * int(report.sum()) + ["result"] * int(result.sum())),
            "storage": storage,
            "ref": refs.astype(object),
            "content_type": np.full(k, "image/jpeg", dtype=object),
            "size_bytes": rng.integers(80_000, 2_500_000, k),
            "created_at": _times(at),
        }


# Generation column → cases column, for the timestamps.
CASE_TIMES = {
    "created": "created_at",
    "updated": "updated_at",
    "filed": "filed_at",
    "dispatched": "dispatched_at",
    "accepted": "accepted_at",
    "resolved": "resolved_at",
    "closed": "closed_at",
    "voided": "voided_at",
    "clock_started": "clock_started_at",
    "deadline": "deadline_at",
    "yellow": "yellow_at",
    "suspended": "suspended_at",
    "next_check": "next_check_at",
}
TIME_COLUMNS = tuple(CASE_TIMES)
DEFAULTS: dict[str, Any] = {
    **{name: np.nan for name in TIME_COLUMNS},
    "extension": np.nan,
    "rework_count": 0,
    "closed_on_time": np.nan,
    "handling_work_seconds": np.nan,
    "remaining_work_seconds": np.nan,
    "escalation_level": 0,
    "reminded": False,
    "ratio": np.nan,
}


def _department(route: Any) -> float:
    return float(route.department_id) if route is not None else np.nan


def _concat(blocks: Sequence[Columns]) -> Columns:
    """Concatenates column blocks; a column missing from a block takes its default."""
    names = list(dict.fromkeys(name for block in blocks for name in block))
    out: Columns = {}
    for name in names:
        parts = []
        for block in blocks:
            k = len(next(iter(block.values())))
            if name in block:
                parts.append(np.asarray(block[name]))
            else:
                parts.append(np.full(k, DEFAULTS.get(name)))
        if any(p.dtype == object for p in parts):
            parts = [p.astype(object) for p in parts]
        out[name] = np.concatenate(parts)
    return out


def _times(seconds: np.ndarray) -> np.ndarray:
    """Epoch seconds (NaN: none) → datetime64 (NaT), which COPY gets as naive UTC datetimes
    (asyncpg encodes a naive datetime for timestamptz as UTC) or None."""
    seconds = np.asarray(seconds, dtype=float)
    out = np.full(len(seconds), np.datetime64("NaT"), dtype="datetime64[us]")
    ok = ~np.isnan(seconds)
    out[ok] = np.round(seconds[ok] * 1e6).astype("int64").astype("datetime64[us]")
    return out


def _nullable_int(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, dtype=float)
    out = np.full(len(values), None, dtype=object)
    ok = ~np.isnan(values) & (values >= 0)
    out[ok] = values[ok].astype(int).tolist()
    return out


def _nullable_float(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, dtype=float)
    out = values.astype(object)
    out[np.isnan(values)] = None
    return out


def _nullable_bool(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, dtype=float)
    out = (values == 1).astype(object)
    out[np.isnan(values)] = None
    return out


# -- loading ----------------------------------------------------------------------------------


async def _bulk_load(conn: asyncpg.Connection, tables: Tables) -> None:
    """COPY with the secondary indexes dropped and foreign-key triggers off (the rows are
    generated consistent), then the indexes rebuilt and the id sequences moved past the rows."""
    indexes = await conn.fetch(
        """
        SELECT i.indexname, i.indexdef FROM pg_indexes i
        WHERE i.schemaname = 'public' AND i.tablename = ANY($1::text[])
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)
        """,
        list(BULK_TABLES),
    )
    for row in indexes:
        await conn.execute(f'DROP INDEX "{row["indexname"]}"')
    await conn.execute("SET session_replication_role = replica")
    for table, columns in (
        ("cases", tables.cases),
        ("case_events", tables.events),
        ("outbox_messages", tables.outbox),
        ("attachments", tables.attachments),
    ):
        await _copy(conn, table, columns)
    await conn.execute("SET session_replication_role = DEFAULT")
    await conn.execute("SET maintenance_work_mem = '512MB'")
    progress(f"rebuilding {len(indexes)} indexes")
    for row in indexes:
        await conn.execute(row["indexdef"])
    for table in BULK_TABLES:
        await conn.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f"(SELECT coalesce(max(id), 1) FROM {table}))"
        )


async def _copy(conn: asyncpg.Connection, table: str, columns: Columns) -> None:
    names = list(columns)
    n = len(columns[names[0]])
    for lo in range(0, n, COPY_CHUNK):
        hi = min(n, lo + COPY_CHUNK)
        progress(f"COPY {table}: {lo:,}–{hi:,} of {n:,}")
        # datetime64 → datetime (NaT → None), numpy scalars → Python values
        chunk = [columns[name][lo:hi].tolist() for name in names]
        await conn.copy_records_to_table(table, records=zip(*chunk, strict=True), columns=names)


async def _counts(conn: asyncpg.Connection, now: datetime) -> dict[str, int]:
    counts = {
        f"cases {r['status']}": r["n"]
        for r in await conn.fetch("SELECT status, count(*) AS n FROM cases GROUP BY status")
    }
    counts["cases"] = sum(counts.values())
    counts["open"] = sum(
        v for k, v in counts.items() if k.split()[-1] not in ("closed", "voided", "merged", "cases")
    )
    counts["overdue"] = await conn.fetchval(
        "SELECT count(*) FROM cases"
        " WHERE status IN ('dispatched', 'accepted') AND deadline_at < $1",
        now,
    )
    counts["due"] = await conn.fetchval("SELECT count(*) FROM cases WHERE next_check_at <= $1", now)
    for table in ("case_events", "outbox_messages", "attachments"):
        counts[table] = await conn.fetchval(f"SELECT count(*) FROM {table}")
    return counts


async def remember_due(conn: asyncpg.Connection, now: datetime) -> int:
    """Keeps the due cases' ladder state in `bench_due`, so that a benchmark can put them
    back after a sweep and sweep again (also on a database kept for a later run)."""
    await conn.execute(
        "CREATE TABLE IF NOT EXISTS bench_due AS SELECT id, next_check_at, escalation_level,"
        " reminded, version, updated_at FROM cases WHERE next_check_at <= $1",
        now,
    )
    return int(await conn.fetchval("SELECT count(*) FROM bench_due"))


async def _remember(conn: asyncpg.Connection, fixture: Fixture) -> None:
    await conn.execute("CREATE TABLE bench_fixture (key text PRIMARY KEY, value jsonb)")
    data = {
        "now": fixture.now.isoformat(),
        "spec": asdict(fixture.spec),
        "counts": fixture.counts,
        "seconds": fixture.seconds,
        "size_mb": fixture.size_mb,
    }
    await conn.execute(
        "INSERT INTO bench_fixture VALUES ('fixture', $1::jsonb)", json.dumps(data, default=str)
    )
