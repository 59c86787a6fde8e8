"""Admin use case: a new version of a level's scoring formula, in force from a month on."""

from datetime import date

from sqlalchemy import select

from dispatch.core.errors import N_, PermissionDenied
from dispatch.supervision.scoring import Level, Term, validate_terms
from dispatch.usecases.runtime import Runtime
from models import ScoringFormula
from models.enums import Role


class Formulas:
    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime

    async def save(
        self, person_id: int, level: Level, valid_from: date, terms: list[Term]
    ) -> ScoringFormula:
        """Adds the version in force from `valid_from`'s month, or replaces that month's."""
        validate_terms(level, terms)
        month = valid_from.replace(day=1)
        async with self.rt.unit_of_work() as work:
            actor = await self.rt.actor(work.session, person_id)
            if actor.role is not Role.ADMIN:
                raise PermissionDenied(N_("Only administrators change the scoring formulas."))
            formula = await work.session.scalar(
                select(ScoringFormula).where(
                    ScoringFormula.level == level.value, ScoringFormula.valid_from == month
                )
            )
            if formula is None:
                formula = ScoringFormula(level=level.value, valid_from=month)
                work.session.add(formula)
            formula.terms = [
                {"metric": t.metric, "weight": t.weight, "target": t.target} for t in terms
            ]
            formula.created_by_id = actor.person_id
            formula.created_at = self.rt.clock()
        return formula
