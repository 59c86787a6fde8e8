"""What a report carries in, and what the reporter is shown before confirming."""

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from dispatch.core.errors import N_, InvalidInput
from models.enums import CaseSource, CoordSystem

MAX_DESCRIPTION = 4000
MAX_ADDRESS = 500
MAX_PHOTOS = 10


@dataclass(frozen=True)
class PhotoRef:
    storage: str  # "telegram" (a file id) or "local" (a path under the media directory)
    ref: str
    content_type: str = "image/jpeg"
    size_bytes: int | None = None


@dataclass
class ReportDraft:
    source: CaseSource
    lon: float
    lat: float
    category_code: str
    crs: CoordSystem = CoordSystem.WGS84
    accuracy_m: float | None = None
    description: str = ""
    address: str = ""
    reporter_id: int | None = None
    reporter_contact: dict[str, Any] | None = None
    photos: list[PhotoRef] = field(default_factory=list)
    # The sender's id for this report: sending it again returns the same case.
    external_ref: str | None = None
    # Link to this earlier open case instead of opening a new one.
    duplicate_of: int | None = None

    def validate(self) -> None:
        for name in ("lon", "lat"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or not math.isfinite(value):
                raise InvalidInput(N_("The coordinate %(name)s is not a number."), name=name)
        if not -180 <= self.lon <= 180 or not -90 <= self.lat <= 90:
            raise InvalidInput(
                N_("Coordinates out of range: lon %(lon)s, lat %(lat)s."),
                lon=self.lon,
                lat=self.lat,
            )
        if len(self.description) > MAX_DESCRIPTION:
            raise InvalidInput(
                N_("The description is longer than %(max)d characters."), max=MAX_DESCRIPTION
            )
        if len(self.address) > MAX_ADDRESS:
            raise InvalidInput(
                N_("The address is longer than %(max)d characters."), max=MAX_ADDRESS
            )
        if len(self.photos) > MAX_PHOTOS:
            raise InvalidInput(N_("At most %(max)d photos per report."), max=MAX_PHOTOS)


@dataclass(frozen=True)
class DuplicateCandidate:
    case_id: int
    number: str
    distance_m: float
    created_at: datetime
    description: str


@dataclass(frozen=True)
class ReportPreview:
    """What the reporter sees before confirming: where, who, by when, and possible duplicates."""

    lon: float
    lat: float
    location_status: str
    grid_code: str | None
    grid_name: str
    community_name: str
    town_name: str
    department_id: int | None
    department_name: str
    deadline_at: datetime | None
    duplicates: list[DuplicateCandidate]
