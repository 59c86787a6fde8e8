"""Who is acting: a snapshot of a person's role and scope, taken at the start of a use case."""

from dataclasses import dataclass

from dispatch.core.errors import N_
from models.enums import Role


@dataclass(frozen=True)
class Actor:
    person_id: int | None
    name: str
    role: Role | None
    department_id: int | None = None
    # A supervisor's or dispatcher's community or town; None means the whole county.
    area_id: int | None = None
    # The system acting on its own: its name is a msgid, shown translated.
    system: bool = False

    @property
    def label(self) -> str:
        return self.name


SYSTEM = Actor(person_id=None, name=N_("system supervision"), role=None, system=True)
AUTO_DISPATCH = Actor(
    person_id=None, name=N_("automatic dispatch"), role=Role.DISPATCHER, system=True
)
