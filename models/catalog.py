"""Event categories with their time limits, routing rules and the working calendar."""

from datetime import date
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, Json, enum_column
from models.enums import AreaLevel, CalendarDayKind, ClockStart, TimeLimitUnit
from models.organisation import Department


class Category(Base):
    """A 大类 (two-digit code, no parent) or a 小类 (four digits: 大类 + 小类)."""

    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(4), unique=True)
    parent_code: Mapped[str | None] = mapped_column(String(2), index=True)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    default_department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    time_limit_value: Mapped[float | None] = mapped_column(Float)
    time_limit_unit: Mapped[TimeLimitUnit | None] = mapped_column(enum_column(TimeLimitUnit))
    clock_start: Mapped[ClockStart] = mapped_column(
        enum_column(ClockStart), default=ClockStart.DISPATCH
    )
    priority: Mapped[int] = mapped_column(Integer, default=2)  # 1 urgent, 2 normal, 3 low
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Whether the public page (政务公开) may show the descriptions of its cases.
    public_description: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=sa_false()
    )
    # Open311 service definition attributes, for categories that need them.
    attributes: Mapped[list[dict[str, Any]] | None] = mapped_column(Json)

    default_department: Mapped[Department | None] = relationship()


class RoutingRule(Base):
    """Category (小类 or 大类) × area (grid, community, town or county) → department."""

    __tablename__ = "routing_rules"
    __table_args__ = (UniqueConstraint("category_code", "area_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    category_code: Mapped[str] = mapped_column(String(4))
    # A grid code (15 digits) or an area code; its level says which.
    area_code: Mapped[str] = mapped_column(String(15))
    area_level: Mapped[str] = mapped_column(String(16))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))

    department: Mapped[Department] = relationship()


GRID_LEVEL = "grid"
ROUTING_LEVELS = (GRID_LEVEL, AreaLevel.COMMUNITY, AreaLevel.TOWN, AreaLevel.COUNTY)


class CalendarDay(Base):
    """An exception to the Monday-to-Friday week: a holiday, or a make-up working day (调休)."""

    __tablename__ = "calendar_days"

    day: Mapped[date] = mapped_column(primary_key=True)
    kind: Mapped[CalendarDayKind] = mapped_column(enum_column(CalendarDayKind))
    name: Mapped[str] = mapped_column(String(100), default="")
