"""What every benchmark shares: progress on a terminal, timing statistics, the machine, and
docs/benchmarks.md, whose generated sections are replaced in place.

Each section of the document sits between `<!-- bench:NAME -->` and `<!-- /bench:NAME -->`;
a run rewrites the sections it measured and leaves the others, and any text outside the
markers, as they were."""

import os
import platform
import re
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
DOC_HEADER = """# Benchmarks

Written by `python -m bench` (what `make bench` runs). Every section says when and on what
machine it was measured and the command that reproduces it; `python -m bench --only NAME`
re-measures one section and leaves the others alone. Targets are the "Speed" sections of
issues 2, 3, 5 and 11.
"""


def progress(message: str) -> None:
    """A line of progress, only on a terminal: scripts and CI stay quiet."""
    if sys.stdout.isatty():
        print(f"… {message}", flush=True)


@contextmanager
def stopwatch() -> Iterator[list[float]]:
    """`with stopwatch() as t: ...` leaves the elapsed seconds in t[0]."""
    elapsed: list[float] = []
    started = time.perf_counter()
    try:
        yield elapsed
    finally:
        elapsed.append(time.perf_counter() - started)


@dataclass(frozen=True)
class Stats:
    """Latencies of repeated runs, in milliseconds."""

    n: int
    median_ms: float
    p95_ms: float
    max_ms: float

    @classmethod
    def of(cls, seconds: Sequence[float]) -> "Stats":
        ms = np.asarray(seconds, dtype=float) * 1e3
        return cls(len(ms), float(np.median(ms)), float(np.percentile(ms, 95)), float(ms.max()))

    def __str__(self) -> str:
        return f"median {fmt_ms(self.median_ms)}, p95 {fmt_ms(self.p95_ms)} (n={self.n})"


def fmt_ms(ms: float) -> str:
    if ms < 10:
        return f"{ms:.2f} ms"
    if ms < 100:
        return f"{ms:.1f} ms"
    return f"{ms:,.0f} ms"


@dataclass
class Row:
    """One line of a results table: our number, the target and whether we meet it."""

    name: str
    result: str
    target: str = "—"
    passed: bool | None = None  # None: a comparison or a detail, no target
    note: str = ""

    @property
    def verdict(self) -> str:
        return {True: "**pass**", False: "**FAIL**", None: "—"}[self.passed]


def rows_table(rows: Sequence[Row]) -> str:
    lines = ["| benchmark | result | target | met | notes |", "|---|---:|---:|:---:|---|"]
    lines += [f"| {r.name} | {r.result} | {r.target} | {r.verdict} | {r.note} |" for r in rows]
    return "\n".join(lines)


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    aligned = ["---"] + ["---:"] * (len(header) - 1)
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(aligned) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


@dataclass
class Section:
    """A generated part of docs/benchmarks.md."""

    key: str  # the marker name: geo, fixture, dispatch, web
    title: str
    command: str
    body: list[str] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    load_at_start: float = field(default_factory=lambda: os.getloadavg()[0])

    def add(self, *paragraphs: str) -> None:
        self.body.extend(paragraphs)

    def render(self) -> str:
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        load = f"{self.load_at_start:.1f} at the start, {os.getloadavg()[0]:.1f} at the end"
        parts = [
            f"## {self.title}",
            f"Measured {stamp} on {machine()}; load average (1 min) {load}.  \n"
            f"Reproduce: `{self.command}`",
        ]
        if self.rows:
            parts.append(rows_table(self.rows))
        parts.extend(self.body)
        return "\n\n".join(parts)

    @property
    def failed(self) -> list[Row]:
        return [r for r in self.rows if r.passed is False]


def machine() -> str:
    return (
        f"{os.cpu_count()} CPUs ({cpu_model()}), "
        f"{_memory_gb():.0f} GB RAM, Python {platform.python_version()}"
    )


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _memory_gb() -> float:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError, AttributeError):
        return 0.0


def write_sections(doc: Path, sections: Sequence[Section]) -> None:
    """Replaces each section's marked block in `doc` (appending new ones in order)."""
    text = doc.read_text("utf-8") if doc.exists() else DOC_HEADER
    for section in sections:
        block = (
            f"<!-- bench:{section.key} -->\n{section.render().rstrip()}\n"
            f"<!-- /bench:{section.key} -->"
        )
        pattern = re.compile(
            rf"<!-- bench:{re.escape(section.key)} -->.*?<!-- /bench:{re.escape(section.key)} -->",
            re.DOTALL,
        )
        if pattern.search(text):
            text = pattern.sub(lambda _m, b=block: b, text, count=1)
        else:
            text = text.rstrip("\n") + "\n\n" + block + "\n"
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(text if text.endswith("\n") else text + "\n", "utf-8")
