"""Every benchmark in one run, written to docs/benchmarks.md (`make bench`).

    python -m bench                       # the full run: 1,000,000 cases
    python -m bench --cases 100000        # a quicker run on a smaller case load
    python -m bench --only dispatch,web   # some sections; the others stay as they were

Sections: geo (grid location, issue 2), locate (`gridgov locate --csv` against a geopandas
script and a layer load in a running server, whole processes, issue 11), dispatch (sweep,
intake, figures, issue 3), web (Open311, the supervisor dashboard and /metrics, issues 5 and
11), serve (intake, the Telegram webhook and the WeCom callback through whole `gridgov serve`
processes next to pgbench, issues 8 and 11), outbox (a backlog for one chat, issue 10, on its
own small database) and supervision (ranking, case file, public page, issue 12); dispatch,
web and supervision share one throwaway PostgreSQL database with the sample county and
--cases generated cases (see bench/cases_fixture.py), described in the "fixture" section.
Progress is shown only on a terminal. Missed targets are listed at the end; with --strict
they make the exit status 1.
"""

import argparse
import asyncio
import sys
from pathlib import Path

from bench import (
    dispatch_bench,
    geo_bench,
    locate_bench,
    outbox_bench,
    serve_bench,
    supervision_bench,
    web_bench,
)
from bench.cases_fixture import (
    Fixture,
    FixtureSpec,
    bench_database,
    build_fixture,
    existing_fixture,
)
from bench.report import DOC, Section, markdown_table, progress, write_sections

SECTIONS = ("geo", "locate", "dispatch", "web", "supervision", "serve", "outbox")


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--only", default=",".join(SECTIONS), help="sections, comma-separated")
    parser.add_argument("--cases", type=int, default=1_000_000, help="cases in the database")
    parser.add_argument("--reports", type=int, default=1500, help="reports per intake run")
    parser.add_argument("--clients", default="1,8,16", help="concurrent intake clients")
    parser.add_argument("--requests", type=int, default=40, help="HTTP requests per scenario")
    parser.add_argument(
        "--no-scaling",
        action="store_true",
        help="skip the idle sweep on smaller tables (builds two more databases)",
    )
    parser.add_argument("--doc", type=Path, default=DOC, help="markdown file to write")
    parser.add_argument("--keep-db", action="store_true", help="keep the case database")
    parser.add_argument("--reuse-db", metavar="NAME", help="use a database kept by --keep-db")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    serve = parser.add_argument_group("serve")
    serve.add_argument("--workers", type=int, help="gridgov serve --workers (default: CPUs)")
    serve.add_argument("--serve-clients", type=int, default=32, help="load generator clients")
    serve.add_argument("--rounds", type=int, default=4, help="Telegram report-flow rounds")
    geo = parser.add_argument_group("geo")
    geo_bench.add_arguments(geo)
    args = parser.parse_args(argv)
    args.sections = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = set(args.sections) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown section(s): {', '.join(sorted(unknown))}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    given = sys.argv[1:] if argv is None else argv
    # --keep-db and --strict change nothing measured; the rest is needed to reproduce the run.
    command = " ".join(
        ["python -m bench", *(a for a in given if a not in ("--keep-db", "--strict"))]
    )
    sections: list[Section] = []
    if "geo" in args.sections:
        progress("geo: grid location")
        geo_section = geo_bench.run(args, command)
        write_sections(args.doc, [geo_section])
        sections.append(geo_section)
    if "locate" in args.sections:
        progress("locate: gridgov locate --csv and layer loads, as whole processes")
        locate_section = locate_bench.run(args, command)
        write_sections(args.doc, [locate_section])
        sections.append(locate_section)
    if {"dispatch", "web", "supervision"} & set(args.sections):
        sections += asyncio.run(_with_cases(args, command))
    if "outbox" in args.sections:
        outbox_section = asyncio.run(outbox_bench.run(command))
        write_sections(args.doc, [outbox_section])
        sections.append(outbox_section)
    if "serve" in args.sections:
        options = serve_bench.ServeOptions(
            clients=args.serve_clients, reports=args.reports, rounds=args.rounds
        )
        if args.workers:
            options.workers = args.workers
        serve_section = asyncio.run(serve_bench.run(options, command))
        write_sections(args.doc, [serve_section])
        sections.append(serve_section)
    for section in sections:
        print(section.render(), end="\n\n")
    failed = [f"{s.key}: {r.name}" for s in sections for r in s.failed]
    if failed:
        print("targets missed:\n  " + "\n  ".join(failed), file=sys.stderr)
    print(f"written to {args.doc}")
    return 1 if failed and args.strict else 0


async def _with_cases(args: argparse.Namespace, command: str) -> list[Section]:
    if args.reuse_db:
        fixture = await existing_fixture(args.reuse_db)
        return await _measure(fixture, args, command)
    spec = FixtureSpec(cases=args.cases, seed=args.seed)
    async with bench_database("main", keep=args.keep_db) as url:
        progress(f"building the case database ({spec.cases:,} cases)")
        fixture = await build_fixture(url, spec)
        return await _measure(fixture, args, command)


async def _measure(fixture: Fixture, args: argparse.Namespace, command: str) -> list[Section]:
    """The web section runs first, on the database as built: the dispatch section sweeps and
    adds thousands of reports."""
    sections = [fixture_section(fixture, command)]
    write_sections(args.doc, sections)
    web = None
    if "web" in args.sections:
        web = await web_bench.run(fixture, web_bench.WebOptions(requests=args.requests), command)
    if "supervision" in args.sections:
        web_options = web_bench.WebOptions(requests=args.requests)
        sections.append(await supervision_bench.run(fixture, web_options, command))
    if "dispatch" in args.sections:
        options = dispatch_bench.DispatchOptions(
            reports=args.reports,
            clients=[int(c) for c in args.clients.split(",")],
            scaling=not args.no_scaling,
        )
        sections.append(await dispatch_bench.run(fixture, options, command))
    if web is not None:
        sections.append(web)
    write_sections(args.doc, sections[1:])
    return sections


def fixture_section(fixture: Fixture, command: str) -> Section:
    spec = fixture.spec
    section = Section("fixture", f"The case database ({spec.cases:,} cases)", command)
    counts = fixture.counts
    statuses = sorted(
        ((k.split(" ", 1)[1], v) for k, v in counts.items() if k.startswith("cases ")),
        key=lambda kv: -kv[1],
    )
    section.add(
        "A throwaway PostgreSQL database, migrated with `models.migrate.upgrade`, holding the "
        "sample county (`gridgov/sample/`: 3 towns, their communities and 300 grids, the "
        "catalog, one grid worker per grid) and generated cases bulk-loaded with COPY "
        "(`bench/cases_fixture.py`): two years of intake with growth, quieter weekends and "
        "office hours; deadlines and ladder times of the open running cases from the real "
        "working calendar; then indexes rebuilt and `VACUUM ANALYZE`. It is dropped after "
        f'the run. "Now" for the sweeps and the dashboard is {fixture.now:%Y-%m-%d %H:%M} UTC.',
        markdown_table(
            ["rows", "count"],
            [
                *([f"cases {status}", f"{n:,}"] for status, n in statuses),
                ["cases in all", f"{counts.get('cases', 0):,}"],
                ["open", f"{counts.get('open', 0):,}"],
                ["overdue (running, past the deadline)", f"{counts.get('overdue', 0):,}"],
                ["due for the sweep (`next_check_at` passed)", f"{counts.get('due', 0):,}"],
                ["case events", f"{counts.get('case_events', 0):,}"],
                ["outbox messages", f"{counts.get('outbox_messages', 0):,}"],
                ["attachments", f"{counts.get('attachments', 0):,}"],
            ],
        ),
        "Build time: "
        + ", ".join(f"{stage} {seconds:.0f} s" for stage, seconds in fixture.seconds.items())
        + f"; database size {fixture.size_mb:,.0f} MB.",
    )
    return section


if __name__ == "__main__":
    sys.exit(main())
