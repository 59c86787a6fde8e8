"""`Casework`: the use cases of the domain behind one object, built once by the composition
root and handed to the front ends. Each use case is one transaction that writes the case, its
event and its outbox messages together, or nothing at all."""

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dispatch.catalog import Catalog
from dispatch.core.actors import Actor
from dispatch.core.deadlines import DeadlinePlanner
from dispatch.geography import GridDirectory
from dispatch.usecases.digests import Digests
from dispatch.usecases.escalation import EscalationSweep
from dispatch.usecases.intake import Intake
from dispatch.usecases.runtime import CaseworkSettings, Runtime
from dispatch.usecases.steps import Steps
from models import Case, utcnow


class Casework:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        directory: GridDirectory,
        settings: CaseworkSettings,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.runtime = Runtime(sessions, directory, settings, clock)
        self.intake = Intake(self.runtime)
        self.steps = Steps(self.runtime)
        self.escalation = EscalationSweep(self.runtime)
        self.digests = Digests(self.runtime)

    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]:
        return self.runtime.sessions

    @property
    def directory(self) -> GridDirectory:
        return self.runtime.directory

    @property
    def settings(self) -> CaseworkSettings:
        return self.runtime.settings

    @property
    def clock(self) -> Callable[[], datetime]:
        return self.runtime.clock

    @property
    def catalog(self) -> Catalog:
        return self.runtime.catalog

    @property
    def planner(self) -> DeadlinePlanner:
        return self.runtime.planner

    async def refresh(self) -> None:
        """Reloads the catalog and the grid layer (after an admin change or an import)."""
        await self.runtime.refresh()

    async def actor(self, session: AsyncSession, person_id: int) -> Actor:
        return await self.runtime.actor(session, person_id)

    async def find_case(self, number_or_id: str) -> Case:
        return await self.runtime.find_case(number_or_id)

    def light(self, case: Case, now: datetime | None = None) -> str | None:
        return self.runtime.light(case, now)

    def snapshot(self, case: Case, now: datetime | None = None) -> dict[str, Any]:
        """What a message about the case shows (see `dispatch.snapshots`)."""
        return self.runtime.snapshot(case, now)
