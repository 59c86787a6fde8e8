"""Supervision on a large case load (issue 12): a month's 考核 ranking for every level, the
year's score trends, the case file (案卷) page, and the public page (政务公开) answered from
its cache."""

import tempfile
import time
from datetime import date
from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select

from bench.cases_fixture import SHANGHAI, Fixture
from bench.dispatch_bench import make_casework
from bench.report import Row, Section, Stats, fmt_ms, progress
from bench.web_bench import Scenario, WebOptions, _login, _measure
from dispatch.supervision.scoring import Level, month_range, previous_month, rankings
from dispatch.supervision.trends import MONTHS, trends
from gridgov.app import App
from gridgov.settings import Settings
from models import Case, CaseEvent, ScoringFormula
from models.db import create_engine, create_session_factory
from models.enums import CaseStatus
from web.app import create_web_app

RANKING_TARGET_MS = 1000.0
TREND_TARGET_MS = 3000.0
CASE_FILE_TARGET_MS = 300.0
PUBLIC_TARGET_MS = 100.0
FORMULAS = {
    Level.OFFICE: [
        ("on_time", 40),
        ("closure", 20),
        ("no_rework", 10),
        ("review_score", 10),
        ("rectification_on_time", 10),
        ("satisfaction", 10),
    ],
    Level.COMMUNITY: [
        ("on_time", 40),
        ("closure", 20),
        ("no_rework", 10),
        ("accurate_filing", 15),
        ("satisfaction", 15),
    ],
    Level.TOWN: [
        ("on_time", 40),
        ("closure", 20),
        ("no_rework", 10),
        ("accurate_filing", 15),
        ("satisfaction", 15),
    ],
    Level.GRID_WORKER: [("valid_reports", 60), ("verification_on_time", 40)],
}


async def run(fixture: Fixture, options: WebOptions, command: str) -> Section:
    section = Section(
        "supervision", f"Supervision on {fixture.spec.cases:,} cases (issue 12)", command
    )
    engine = create_engine(fixture.url)
    sessions = create_session_factory(engine)
    try:
        casework = await make_casework(sessions, fixture.now)
        async with sessions() as session, session.begin():
            if not await session.scalar(select(func.count(ScoringFormula.id))):
                session.add_all(
                    ScoringFormula(
                        level=level.value,
                        valid_from=date(2000, 1, 1),
                        terms=[{"metric": m, "weight": w, "target": 1.0} for m, w in terms],
                    )
                    for level, terms in FORMULAS.items()
                )
        month = previous_month(fixture.now.astimezone(SHANGHAI).date().replace(day=1))
        progress("supervision: the month's ranking of every level")
        seconds = []
        units = 0
        for _ in range(options.warmup + 5):
            started = time.perf_counter()
            async with sessions() as session:
                found = await rankings(session, casework.catalog, month, SHANGHAI, fixture.now)
            units = sum(len(r.rows) for r in found.values())
            assert len(found) == len(Level)
            seconds.append(time.perf_counter() - started)
        stats = Stats.of(seconds[options.warmup :])
        progress("supervision: the year's score trends of every level")
        trend_seconds = []
        for _ in range(options.warmup + 3):
            started = time.perf_counter()
            async with sessions() as session:
                lines = await trends(session, casework.catalog, month, SHANGHAI, fixture.now)
            trend_seconds.append(time.perf_counter() - started)
        trend_stats = Stats.of(trend_seconds[options.warmup :])
        start, end = month_range(month, SHANGHAI)
        async with sessions() as session:
            in_month = await session.scalar(
                select(func.count(Case.id)).where(Case.created_at >= start, Case.created_at < end)
            )
            numbers = (
                await session.scalars(
                    select(Case.number)
                    .where(Case.status == CaseStatus.CLOSED, Case.closed_at >= start)
                    .order_by(Case.id)
                    .limit(20)
                )
            ).all()
            events = await session.scalar(
                select(func.count(CaseEvent.id))
                .join(Case, Case.id == CaseEvent.case_id)
                .where(Case.number.in_(numbers))
            )
        section.rows.append(
            Row(
                f"the {month:%Y-%m} ranking of all four levels",
                f"{fmt_ms(stats.median_ms)} (p95 {fmt_ms(stats.p95_ms)})",
                f"≤ {RANKING_TARGET_MS:,.0f} ms",
                stats.p95_ms <= RANKING_TARGET_MS,
                f"{stats.n} runs; {units} units ranked; {in_month:,} cases reported that month, "
                "and the month before for the change",
            )
        )
        section.rows.append(
            Row(
                f"score trends of all four levels, the {MONTHS} months up to {month:%Y-%m}",
                f"{fmt_ms(trend_stats.median_ms)} (p95 {fmt_ms(trend_stats.p95_ms)})",
                f"≤ {TREND_TARGET_MS:,.0f} ms",
                trend_stats.p95_ms <= TREND_TARGET_MS,
                f"{trend_stats.n} runs; {sum(len(t.lines) for t in lines.values())} lines",
            )
        )
        with tempfile.TemporaryDirectory() as media:
            settings = Settings(
                database_url=fixture.url,
                public_url="http://bench.local",
                media_dir=Path(media),
                public_page=True,
                public_requests_per_minute=1_000_000,
            )
            app = App(settings, engine, sessions, casework, {})
            async with TestClient(TestServer(create_web_app(app.web_context()))) as client:
                await _measure(
                    section,
                    client,
                    Scenario(
                        "public page `/public/` from its cache",
                        ["/public/"],
                        PUBLIC_TARGET_MS,
                        "the first request (untimed warm-up) fills the cache",
                    ),
                    options,
                )
                await _login(client)
                await _measure(
                    section,
                    client,
                    Scenario(
                        "case file page `/console/cases/N/file`",
                        [f"/console/cases/{n}/file" for n in numbers],
                        CASE_FILE_TARGET_MS,
                        f"{len(numbers)} closed cases in turn, {events / max(len(numbers), 1):.0f} "
                        "events each on average",
                    ),
                    options,
                )
    finally:
        await engine.dispose()
    section.add(
        "The ranking is computed in one session for the office, community, town and grid "
        "worker levels, each for the month and the month before (scored with the formula in "
        "force then): one GROUPING SETS query over each month's cases gives every unit of "
        "every level its counts (`dispatch/supervision/tallies.py`). The trends score each of "
        "the twelve months the same way (`/console/assessment/trend.json`). "
        "The pages are requested over HTTP as in the web section; the case file "
        "is read by the county supervisor."
    )
    return section
