"""One app instance's share of a multi-process intake run: `python -m bench.intake_process
URL SOURCE REPORTS CLIENTS SEED START_AT NOW`. It builds its own engine and dispatcher like
a real instance, waits for the common start time, sends its reports and prints the moment it
finished (wall-clock seconds), so the parent can time all instances together."""

import asyncio
import sys
import time
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy.ext.asyncio import async_sessionmaker

from bench.dispatch_bench import _drafts, _reporters, intake
from dispatch.casework import Casework
from dispatch.geography import GridDirectory
from gridgov.app import casework_settings
from gridgov.settings import Settings
from models.db import create_engine
from models.enums import CaseSource


async def run(
    url: str,
    source: CaseSource,
    reports: int,
    clients: int,
    seed: int,
    start_at: float,
    now: datetime,
) -> float:
    engine = create_engine(url)
    started = time.perf_counter()
    casework = Casework(
        async_sessionmaker(engine, expire_on_commit=False),
        GridDirectory(30.0),
        casework_settings(Settings()),
        clock=lambda: now + timedelta(seconds=time.perf_counter() - started),
    )
    await casework.refresh()
    reporters = await _reporters(engine, np.random.default_rng(seed))
    drafts = _drafts(casework, reporters, reports, source, seed)
    await intake(casework, _drafts(casework, reporters, 20, source, seed + 1), 4)  # warm up
    await asyncio.sleep(max(0.0, start_at - time.time()))
    await intake(casework, drafts, clients)
    finished = time.time()
    await engine.dispose()
    return finished


def main(argv: list[str]) -> None:
    url, source, reports, clients, seed, start_at, now = argv
    finished = asyncio.run(
        run(
            url,
            CaseSource(source),
            int(reports),
            int(clients),
            int(seed),
            float(start_at),
            datetime.fromisoformat(now),
        )
    )
    print(finished)


if __name__ == "__main__":
    main(sys.argv[1:])
