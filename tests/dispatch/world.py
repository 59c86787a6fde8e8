"""A small county for the dispatch tests: one town, two communities, four square grids,
a handful of offices, categories and people, and a clock the test moves."""

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from shapely import box
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from dispatch.casework import Casework, CaseworkSettings
from dispatch.configuration import apply_catalog
from dispatch.core.deadlines import EscalationPolicy
from dispatch.core.workcalendar import WorkingHours
from dispatch.geography import GridDirectory, import_layer
from dispatch.intake import ReportDraft
from geo.grids import GridFeature, GridLayerData
from models import Person
from models.db import create_session_factory
from models.enums import CaseSource

SHANGHAI = ZoneInfo("Asia/Shanghai")
TOWN = "330521101"
COMMUNITY_A = TOWN + "001"
COMMUNITY_B = TOWN + "002"
# Grid cells of 0.01° (about 1 km): A1, A2 in community A, B1, B2 in community B.
GRIDS = {
    COMMUNITY_A + "001": (120.00, 30.50),
    COMMUNITY_A + "002": (120.01, 30.50),
    COMMUNITY_B + "001": (120.00, 30.51),
    COMMUNITY_B + "002": (120.01, 30.51),
}
INSIDE_A1 = (120.005, 30.505)
INSIDE_B2 = (120.015, 30.515)

CATALOG = {
    "county": {"code": "330521", "name": "德清县"},
    "departments": [
        {"code": "hw", "name": "环卫处", "name_en": "Sanitation"},
        {"code": "cgzf", "name": "综合执法局", "name_en": "Enforcement"},
    ],
    "categories": [
        {"code": "01", "name_zh": "市容环境", "name_en": "City appearance"},
        {
            "code": "0102",
            "parent_code": "01",
            "name_zh": "暴露垃圾",
            "name_en": "Exposed garbage",
            "default_department": "hw",
            "time_limit_value": 4,
            "time_limit_unit": "work_hours",
        },
        {
            "code": "0103",
            "parent_code": "01",
            "name_zh": "绿地脏乱",
            "name_en": "Dirty green",
            "default_department": "hw",
            "time_limit_value": 5,
            "time_limit_unit": "work_days",
            "clock_start": "accept",
        },
        {"code": "05", "name_zh": "突发事件", "name_en": "Emergencies"},
        {
            "code": "0501",
            "parent_code": "05",
            "name_zh": "路面塌陷",
            "name_en": "Road collapse",
            "default_department": "cgzf",
            "time_limit_value": 2,
            "time_limit_unit": "hours",
            "priority": 1,
        },
        {"code": "07", "name_zh": "社会治安", "name_en": "Public security"},
        {
            "code": "0701",
            "parent_code": "07",
            "name_zh": "矛盾纠纷",
            "name_en": "Disputes",
            "time_limit_value": 3,
            "time_limit_unit": "work_days",
        },
    ],
    "routing_rules": [],
    "calendar": [{"day": f"2026-10-0{d}", "kind": "holiday", "name": "国庆节"} for d in range(1, 8)]
    + [{"day": "2026-10-10", "kind": "workday", "name": "国庆调休"}],
    "people": [
        {
            "name": "张伟",
            "role": "grid_worker",
            "username": "worker",
            "grids": [COMMUNITY_A + "001", COMMUNITY_A + "002"],
        },
        {
            "name": "刘洋",
            "role": "grid_worker",
            "username": "worker2",
            "grids": [COMMUNITY_B + "001"],
        },
        {
            "name": "李娜",
            "role": "office_member",
            "username": "hw1",
            "department": "hw",
            "is_head": True,
        },
        {"name": "陈静", "role": "office_member", "username": "hw2", "department": "hw"},
        {"name": "杨帆", "role": "office_member", "username": "cg1", "department": "cgzf"},
        {"name": "王强", "role": "dispatcher", "username": "dispatcher"},
        {"name": "周敏", "role": "supervisor", "username": "sup_comm", "area_code": COMMUNITY_A},
        {"name": "吴刚", "role": "supervisor", "username": "sup_town", "area_code": TOWN},
        {"name": "郑洁", "role": "supervisor", "username": "sup_county"},
        {"name": "管理员", "role": "admin", "username": "admin"},
    ],
}


def layer() -> GridLayerData:
    features = [
        GridFeature(
            code,
            f"网格{code[-3:]}",
            code[:12],
            "英溪社区" if code[:12] == COMMUNITY_A else "城北村",
            TOWN,
            "武康街道",
            box(x, y, x + 0.01, y + 0.01),
        )
        for code, (x, y) in GRIDS.items()
    ]
    return GridLayerData(features, "EPSG:4326")


@dataclass
class Clock:
    now: datetime = field(default_factory=lambda: datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI))

    def __call__(self) -> datetime:
        return self.now


def settings(**overrides: object) -> CaseworkSettings:
    values: dict[str, object] = dict(
        tz=SHANGHAI,
        working_hours=WorkingHours.from_spec("08:30-12:00,14:00-17:30"),
        policy=EscalationPolicy(0.8, 4 * 3600, 16 * 3600),
    )
    values.update(overrides)
    return CaseworkSettings(**values)  # type: ignore[arg-type]


@dataclass
class World:
    casework: Casework
    clock: Clock
    people: dict[str, int]

    def draft(
        self,
        who: str = "worker",
        category: str = "0102",
        at: tuple[float, float] = INSIDE_A1,
        **kw: object,
    ) -> ReportDraft:
        source = kw.pop("source", CaseSource.GRID_WORKER)
        reporter = self.people[who] if who else None
        return ReportDraft(
            source=source,
            lon=at[0],
            lat=at[1],
            category_code=category,  # type: ignore[arg-type]
            reporter_id=reporter,
            **kw,
        )  # type: ignore[arg-type]


async def build_world(engine: AsyncEngine, **overrides: object) -> World:
    sessions = create_session_factory(engine)
    async with sessions() as session, session.begin():
        await import_layer(session, layer(), "test")
        await apply_catalog(session, CATALOG)
    async with sessions() as session:
        people = {p.username: p.id for p in (await session.scalars(select(Person))).all()}
    clock = Clock()
    casework = Casework(sessions, GridDirectory(30.0), settings(**overrides), clock)
    await casework.refresh()
    return World(casework, clock, people)
