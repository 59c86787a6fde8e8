"""Case-file review (案卷评查): the checklist, drawing a sample of closed cases and scoring a
case against the checklist. A failed review issues a rectification notice to the office in the
same transaction."""

import re
from dataclasses import dataclass
from datetime import date, datetime, time

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from dispatch.core.actors import Actor
from dispatch.core.errors import N_, InvalidInput, NotFound, PermissionDenied
from dispatch.core.lifecycle import MAX_NOTE, Scope, in_scope
from dispatch.supervision import notice_ladder
from dispatch.supervision.trail import record
from dispatch.usecases.runtime import Runtime, UnitOfWork
from models import Case, CaseReview, RectificationNotice, ReviewItem
from models.enums import CaseStatus, NoticeStatus, Role

REVIEW = "review"
NOTICE = "rectification_notice"
ITEM_CODE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
MAX_SAMPLE = 50


@dataclass(frozen=True)
class Verdict:
    """The reviewer's finding on one checklist item; a failed item needs a note."""

    code: str
    passed: bool
    note: str = ""


@dataclass(frozen=True)
class ChecklistEntry:
    code: str
    name_zh: str
    name_en: str
    weight: int
    position: int = 0
    active: bool = True


def month_bounds(month: date, tz: object) -> tuple[datetime, datetime]:
    """The first moment of the month and of the next one, in the office's time zone."""
    start = month.replace(day=1)
    following = date(start.year + start.month // 12, start.month % 12 + 1, 1)
    return (
        datetime.combine(start, time(), tz),  # type: ignore[arg-type]
        datetime.combine(following, time(), tz),  # type: ignore[arg-type]
    )


def require_supervisor(actor: Actor, case: Case) -> None:
    if actor.role is not Role.SUPERVISOR:
        raise PermissionDenied(N_("Only supervisors review case files."))
    if not in_scope(actor, case, Scope.AREA):
        raise PermissionDenied(N_("Case %(number)s is outside your area."), number=case.number)


class Reviews:
    def __init__(self, runtime: Runtime, rectification_days: int) -> None:
        self.rt = runtime
        self.rectification_days = rectification_days

    # -- the checklist ---------------------------------------------------------------

    @staticmethod
    async def checklist(session: AsyncSession, active_only: bool = True) -> list[ReviewItem]:
        query = select(ReviewItem).order_by(ReviewItem.position, ReviewItem.id)
        if active_only:
            query = query.where(ReviewItem.active.is_(True))
        return list((await session.scalars(query)).all())

    async def save_item(self, person_id: int, entry: ChecklistEntry) -> ReviewItem:
        """Adds a checklist item or changes the one with that code (admins only)."""
        if not ITEM_CODE.match(entry.code):
            raise InvalidInput(
                N_("An item code is lower-case letters, digits and _ (%(code)s)."),
                code=entry.code,
            )
        if not entry.name_zh.strip():
            raise InvalidInput(N_("The item needs a name."))
        if not 1 <= entry.weight <= 100:
            raise InvalidInput(N_("An item's weight is between 1 and 100."))
        async with self.rt.unit_of_work() as work:
            actor = await self.rt.actor(work.session, person_id)
            if actor.role is not Role.ADMIN:
                raise PermissionDenied(N_("Only administrators change the review checklist."))
            item = await work.session.scalar(
                select(ReviewItem).where(ReviewItem.code == entry.code)
            )
            if item is None:
                item = ReviewItem(code=entry.code)
                work.session.add(item)
            item.name_zh = entry.name_zh.strip()
            item.name_en = entry.name_en.strip()
            item.weight = entry.weight
            item.position = entry.position
            item.active = entry.active
        return item

    # -- sampling -------------------------------------------------------------------

    async def sample(self, person_id: int, month: date, per_office: int) -> list[Case]:
        """A random draw of up to `per_office` cases per office among the cases closed in the
        month in the supervisor's area and not reviewed yet."""
        if not 1 <= per_office <= MAX_SAMPLE:
            raise InvalidInput(N_("Draw between 1 and %(max)d cases per office."), max=MAX_SAMPLE)
        start, end = month_bounds(month, self.rt.settings.tz)
        async with self.rt.sessions() as session:
            actor = await self.rt.actor(session, person_id)
            if actor.role is not Role.SUPERVISOR:
                raise PermissionDenied(N_("Only supervisors review case files."))
            reviewed = select(CaseReview.id).where(CaseReview.case_id == Case.id).exists()
            conditions = [
                Case.status == CaseStatus.CLOSED,
                Case.closed_at >= start,
                Case.closed_at < end,
                ~reviewed,
            ]
            if actor.area_id is not None:
                conditions.append(
                    (Case.community_id == actor.area_id) | (Case.town_id == actor.area_id)
                )
            draw = (
                select(
                    Case.id,
                    func.row_number()
                    .over(partition_by=Case.department_id, order_by=func.random())
                    .label("n"),
                )
                .where(*conditions)
                .subquery()
            )
            query = (
                select(Case)
                .join(draw, draw.c.id == Case.id)
                .where(draw.c.n <= per_office)
                .order_by(Case.department_id, Case.closed_at)
            )
            return list((await session.scalars(query)).all())

    # -- the review -------------------------------------------------------------------

    async def review(
        self,
        person_id: int,
        case_id: int,
        verdicts: list[Verdict],
        note: str = "",
        notice_department_id: int | None = None,
    ) -> CaseReview:
        """Scores a closed case on the checklist. A failed item fails the review and sends a
        rectification notice to the office that handled the case (or the one named)."""
        now = self.rt.clock()
        if len(note) > MAX_NOTE:
            raise InvalidInput(N_("The note is longer than %(max)d characters."), max=MAX_NOTE)
        async with self.rt.unit_of_work() as work:
            session = work.session
            actor = await self.rt.actor(session, person_id)
            case = await self.rt.case(session, case_id, lock=True)
            require_supervisor(actor, case)
            if case.status is not CaseStatus.CLOSED:
                raise InvalidInput(
                    N_("Case %(number)s is not closed; only closed cases are reviewed."),
                    number=case.number,
                )
            if await session.scalar(select(CaseReview.id).where(CaseReview.case_id == case.id)):
                raise InvalidInput(N_("Case %(number)s was already reviewed."), number=case.number)
            items = _score_items(await self.checklist(session), verdicts)
            total = sum(i["weight"] for i in items)
            score = round(100 * sum(i["weight"] for i in items if i["passed"]) / total, 1)
            passed = all(i["passed"] for i in items)
            department_id = notice_department_id or case.department_id
            if not passed and department_id not in self.rt.catalog.departments:
                raise NotFound(N_("Office %(id)s does not exist."), id=department_id)
            review = CaseReview(
                case_id=case.id,
                department_id=case.department_id,
                reviewer_id=actor.person_id,
                reviewed_at=now,
                score=score,
                passed=passed,
                items=items,
                note=note.strip(),
            )
            session.add(review)
            await session.flush()
            record(
                session,
                case,
                REVIEW,
                actor,
                now,
                note.strip(),
                {"review_id": review.id, "score": score, "passed": passed},
            )
            if not passed:
                assert department_id is not None
                await self._issue(work, case, review, actor, department_id, items, now)
        return review

    async def _issue(
        self,
        work: UnitOfWork,
        case: Case,
        review: CaseReview,
        actor: Actor,
        department_id: int,
        items: list[dict[str, object]],
        now: datetime,
    ) -> RectificationNotice:
        session, notifier = work.session, work.notifier
        calendar, policy = self.rt.catalog.calendar, self.rt.settings.policy
        requirements = "\n".join(f"{i['name_zh']}: {i['note']}" for i in items if not i["passed"])
        notice = RectificationNotice(
            review_id=review.id,
            case=case,
            department_id=department_id,
            issued_by_id=actor.person_id,
            issued_at=now,
            deadline_at=calendar.add_working_days(now, self.rectification_days),
            status=NoticeStatus.OPEN,
            requirements=requirements,
            escalation_level=0,
        )
        notice.next_check_at = notice_ladder.next_check(notice, calendar, policy)
        session.add(notice)
        await session.flush()
        record(
            session,
            case,
            NOTICE,
            actor,
            now,
            requirements,
            {"notice_id": notice.id, "deadline": notice.deadline_at.isoformat()},
            department_id,
        )
        notifier.queue(
            await notifier.office(department_id),
            "rectification.issued",
            f"notice:{notice.id}:issued",
            notice_ladder.payload(notice, self.rt.catalog, actor=actor.label),
            case.id,
            now,
        )
        return notice


def _score_items(checklist: list[ReviewItem], verdicts: list[Verdict]) -> list[dict[str, object]]:
    """The checklist with the reviewer's findings; every active item exactly once."""
    if not checklist:
        raise InvalidInput(N_("The review checklist is empty; an administrator sets it up."))
    found = {v.code: v for v in verdicts}
    known = {i.code for i in checklist}
    repeated = {v.code for v in verdicts if [w.code for w in verdicts].count(v.code) > 1}
    wrong = sorted((set(found) - known) | repeated)
    if wrong:
        raise InvalidInput(
            N_("Unknown or repeated checklist items: %(codes)s."), codes=", ".join(wrong)
        )
    missing = [i.name_zh for i in checklist if i.code not in found]
    if missing:
        raise InvalidInput(N_("Give a finding for: %(items)s."), items="、".join(missing))
    unexplained = [
        i.name_zh for i in checklist if not found[i.code].passed and not found[i.code].note.strip()
    ]
    if unexplained:
        raise InvalidInput(N_("Say what is wrong with: %(items)s."), items="、".join(unexplained))
    return [
        {
            "code": i.code,
            "name_zh": i.name_zh,
            "name_en": i.name_en,
            "weight": i.weight,
            "passed": found[i.code].passed,
            "note": found[i.code].note.strip(),
        }
        for i in checklist
    ]
