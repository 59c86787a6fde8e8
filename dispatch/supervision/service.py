"""The supervision use cases, built once at the composition root over the casework runtime."""

from dataclasses import dataclass

from dispatch.supervision.conditions import Conditions
from dispatch.supervision.followup import FollowUps
from dispatch.supervision.formulas import Formulas
from dispatch.supervision.rectification import Rectifications
from dispatch.supervision.review import Reviews
from dispatch.usecases.runtime import Runtime


@dataclass(frozen=True)
class SupervisionSettings:
    rectification_days: int = 5  # working days an office has to answer a notice


class Supervision:
    def __init__(self, runtime: Runtime, settings: SupervisionSettings) -> None:
        self.settings = settings
        self.reviews = Reviews(runtime, settings.rectification_days)
        self.rectifications = Rectifications(runtime)
        self.conditions = Conditions(runtime)
        self.followups = FollowUps(runtime)
        self.formulas = Formulas(runtime)
