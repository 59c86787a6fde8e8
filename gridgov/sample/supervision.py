"""The sample county's supervision on top of its cases: a review checklist and scoring formulas,
12345 hotline cases with their follow-up calls (one 不满意 reopening), case-file reviews with
two rectification notices (one answered and accepted, one left to escalate), so that `make demo`
opens on a month of supervision and a ranking."""

import random
from datetime import date, datetime, timedelta

import shapely
from sqlalchemy import select

from dispatch.casework import Casework
from dispatch.core.commands import Verify
from dispatch.core.lifecycle import Action
from dispatch.intake import ReportDraft
from dispatch.supervision.followup import Answer
from dispatch.supervision.review import ChecklistEntry, Verdict
from dispatch.supervision.scoring import Level, Term
from dispatch.supervision.service import Supervision, SupervisionSettings
from gridgov.sample.cases import _Clock, _somewhere_in
from models import Case, Grid, Person, RectificationNotice
from models.enums import CaseSource, CaseStatus, ConditionKind, Role, Satisfaction

CHECKLIST = [
    ChecklistEntry("photos", "处置前后照片齐全、清晰", "Photos before and after, clear", 25, 1),
    ChecklistEntry(
        "in_time", "在规定时限内办结，超时有说明", "Within the limit, or explained", 25, 2
    ),
    ChecklistEntry("reasons", "退回、延期、作废理由记录完整", "Reasons recorded", 20, 3),
    ChecklistEntry("on_site", "核查到现场，结论与照片一致", "Verified on site", 15, 4),
    ChecklistEntry("category", "立案分类准确", "Correct category", 15, 5),
]
FORMULAS = {
    Level.OFFICE: [
        Term("on_time", 35, 0.95),
        Term("closure", 15),
        Term("no_rework", 10, 0.95),
        Term("review_score", 15, 0.9),
        Term("rectification_on_time", 10),
        Term("satisfaction", 15, 0.9),
    ],
    Level.COMMUNITY: [
        Term("on_time", 40, 0.95),
        Term("closure", 20),
        Term("no_rework", 10, 0.95),
        Term("accurate_filing", 15, 0.95),
        Term("satisfaction", 15, 0.9),
    ],
    Level.TOWN: [
        Term("on_time", 40, 0.95),
        Term("closure", 20),
        Term("no_rework", 10, 0.95),
        Term("accurate_filing", 15, 0.95),
        Term("satisfaction", 15, 0.9),
    ],
    Level.GRID_WORKER: [Term("valid_reports", 60, 0.95), Term("verification_on_time", 40, 0.9)],
}
HOTLINE_CALLS = [
    ("0102", "市民来电：小区门口垃圾堆积多日", "李先生", "13905720001"),
    ("0402", "市民来电：菜场门口占道经营", "陈女士", "13905720002"),
    ("0601", "市民来电：夜间施工噪声扰民", "王先生", "13905720003"),
    ("0504", "市民来电：下水道堵塞污水外溢", "赵女士", "13905720004"),
    ("0406", "市民来电：机动车长期占用人行道", "孙先生", "13905720005"),
    ("0701", "市民来电：楼道堆放杂物存在消防隐患", "周女士", "13905720006"),
]


async def seed_supervision(live: Casework, now: datetime, seed: int = 11) -> None:
    rng = random.Random(seed)
    clock = _Clock(now - timedelta(days=12))
    casework = Casework(live.sessions, live.directory, live.settings, clock)
    await casework.refresh()
    s = Supervision(casework.runtime, SupervisionSettings())
    async with casework.sessions() as session:
        people = (await session.scalars(select(Person))).all()
    by_name = {p.username: p for p in people}
    admin, supervisor = by_name["admin"].id, by_name["shenweidong"].id
    dispatcher = by_name["wangqiang"].id
    members = {p.department_id: p.id for p in people if p.role is Role.OFFICE_MEMBER}
    for entry in CHECKLIST:
        await s.reviews.save_item(admin, entry)
    since = date(now.year, now.month, 1) - timedelta(days=62)
    for level, terms in FORMULAS.items():
        await s.formulas.save(admin, level, since.replace(day=1), terms)

    hotline = [
        await _hotline_case(casework, clock, rng, call, now, dispatcher, members)
        for call in HOTLINE_CALLS
    ]
    clock.at = now - timedelta(days=2)
    answers = [
        Answer(Satisfaction.SATISFIED, "处理及时"),
        Answer(Satisfaction.BASICALLY_SATISFIED, "处理了，但用时较长"),
        Answer(Satisfaction.DISSATISFIED, "现场仍有污水，问题没有解决", reopen=True),
        Answer(Satisfaction.SATISFIED, ""),
    ]
    for case, answer in zip(hotline, answers, strict=False):
        if case is not None:
            await s.followups.record_call(dispatcher, case.id, answer)

    async with casework.sessions() as session:
        closed = (
            await session.scalars(
                select(Case)
                .where(Case.status == CaseStatus.CLOSED, Case.source == CaseSource.GRID_WORKER)
                .order_by(Case.closed_at)
            )
        ).all()
    clock.at = now - timedelta(days=8)
    closed = [c for c in closed if c.closed_at is not None and c.closed_at < clock.at]
    findings = [
        {},
        {},
        {"photos": "缺少处置后照片"},
        {},
        {"in_time": "超时未说明原因", "reasons": "无延期记录"},
        {},
    ]
    for case, failed in zip(closed[: len(findings)], findings, strict=False):
        verdicts = [
            Verdict(e.code, e.code not in failed, failed.get(e.code, "")) for e in CHECKLIST
        ]
        await s.reviews.review(supervisor, case.id, verdicts)
    async with casework.sessions() as session:
        first = await session.scalar(select(RectificationNotice).order_by(RectificationNotice.id))
    if first is not None:
        clock.at = now - timedelta(days=5)
        await s.rectifications.answer(
            members[first.department_id], first.id, "已补拍处置后照片并归档"
        )
        clock.at = now - timedelta(days=4)
        await s.rectifications.accept(supervisor, first.id, "整改到位")
    await live.escalation.sweep(now)  # the unanswered notice climbs its ladder


async def _hotline_case(
    casework: Casework,
    clock: _Clock,
    rng: random.Random,
    call: tuple[str, str, str, str],
    now: datetime,
    dispatcher: int,
    members: dict[int | None, int],
) -> Case | None:
    """A 12345 call through the whole loop, closed a week or so ago."""
    code, text, name, phone = call
    async with casework.sessions() as session:
        grids = (await session.scalars(select(Grid).order_by(Grid.id))).all()
    point = _somewhere_in(shapely.from_wkb(rng.choice(grids).geometry_wkb), rng)
    clock.at = reported = now - timedelta(days=rng.uniform(5, 7))
    draft = ReportDraft(
        source=CaseSource.HOTLINE,
        lon=point.x,
        lat=point.y,
        category_code=code,
        description=text,
        reporter_contact={"name": name, "phone": phone, "client": "12345"},
        external_ref=f"sample-12345-{phone}",
    )
    case = (await casework.intake.report(draft)).case
    await casework.steps.act(Action.FILE, case.id, dispatcher)
    case = await casework.steps.act(Action.DISPATCH, case.id, dispatcher)
    member = members.get(case.department_id)
    if member is None:
        return None
    clock.at = reported + timedelta(minutes=40)
    await casework.steps.act(Action.ACCEPT, case.id, member)
    clock.at = reported + timedelta(hours=rng.uniform(2, 20))
    await casework.steps.act(Action.RESOLVE, case.id, member, "已处置，已电话告知来电人")
    clock.at += timedelta(hours=2)
    category = casework.catalog.categories_by_id[case.category_id]
    closing = casework.catalog.conditions_for(category, ConditionKind.CLOSING)
    return await casework.steps.act(Verify(tuple(c.id for c in closing)), case.id, dispatcher)
