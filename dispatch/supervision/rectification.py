"""Rectification (整改): the office answers a notice with what it corrected (text, photos);
the supervisor accepts the answer or sends it back. Each step is one transaction with its
case event and its messages."""

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from dispatch import notifications as notify
from dispatch.core.actors import Actor
from dispatch.core.errors import N_, IllegalTransition, InvalidInput, NotFound, PermissionDenied
from dispatch.core.lifecycle import MAX_NOTE
from dispatch.intake import PhotoRef
from dispatch.supervision import notice_ladder
from dispatch.supervision.review import require_supervisor
from dispatch.supervision.trail import record
from dispatch.usecases.runtime import Runtime, UnitOfWork
from models import Attachment, RectificationNotice
from models.enums import NoticeStatus, Role

ANSWER = "rectification_answer"
ACCEPT = "rectification_accept"
SEND_BACK = "rectification_send_back"


class Rectifications:
    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime

    @staticmethod
    async def notice(
        session: AsyncSession, notice_id: int, lock: bool = False
    ) -> RectificationNotice:
        query = (
            select(RectificationNotice)
            .options(selectinload(RectificationNotice.case))
            .where(RectificationNotice.id == notice_id)
        )
        if lock:
            query = query.with_for_update(of=RectificationNotice)
        notice = await session.scalar(query)
        if notice is None:
            raise NotFound(N_("Rectification notice %(id)s does not exist."), id=notice_id)
        return notice

    async def answer(
        self, person_id: int, notice_id: int, text: str, photos: list[PhotoRef] | None = None
    ) -> RectificationNotice:
        """The office says what it corrected; the notice stops climbing the ladder."""
        now = self.rt.clock()
        _check_note(text, N_("Say what was corrected."))
        async with self.rt.unit_of_work() as work:
            actor = await self.rt.actor(work.session, person_id)
            notice = await self.notice(work.session, notice_id, lock=True)
            if actor.role is not Role.OFFICE_MEMBER or actor.department_id != notice.department_id:
                raise PermissionDenied(
                    N_("Rectification notice %(id)s is not addressed to your office."),
                    id=notice.id,
                )
            _require_status(notice, NoticeStatus.OPEN)
            notice.status = NoticeStatus.ANSWERED
            notice.answer = text.strip()
            notice.answered_at = now
            notice.answered_by_id = actor.person_id
            notice.next_check_at = None
            event = record(
                work.session,
                notice.case,
                ANSWER,
                actor,
                now,
                notice.answer,
                {"notice_id": notice.id, "on_time": now <= notice.deadline_at},
                notice.department_id,
            )
            for photo in photos or []:
                work.session.add(
                    Attachment(
                        case_id=notice.case_id,
                        event=event,
                        purpose="rectification",
                        storage=photo.storage,
                        ref=photo.ref,
                        content_type=photo.content_type,
                        size_bytes=photo.size_bytes,
                    )
                )
            await self._tell(
                work,
                notice,
                actor,
                now,
                "rectification.answered",
                await work.notifier.person(notice.issued_by_id),
                notice.answer,
            )
        return notice

    async def accept(self, person_id: int, notice_id: int, note: str = "") -> RectificationNotice:
        """The correction is accepted; whether it came by the deadline counts in 考核."""
        now = self.rt.clock()
        if len(note) > MAX_NOTE:
            raise InvalidInput(N_("The note is longer than %(max)d characters."), max=MAX_NOTE)
        async with self.rt.unit_of_work() as work:
            actor, notice = await self._decider(work, person_id, notice_id)
            assert notice.answered_at is not None
            notice.status = NoticeStatus.ACCEPTED
            notice.closed_at = now
            notice.on_time = notice.answered_at <= notice.deadline_at
            record(
                work.session,
                notice.case,
                ACCEPT,
                actor,
                now,
                note.strip(),
                {"notice_id": notice.id, "on_time": notice.on_time},
                notice.department_id,
            )
            await self._tell(
                work,
                notice,
                actor,
                now,
                "rectification.accepted",
                await work.notifier.office(notice.department_id),
                note.strip(),
            )
        return notice

    async def send_back(self, person_id: int, notice_id: int, reason: str) -> RectificationNotice:
        """Not corrected yet: the office must answer again, by the same deadline."""
        now = self.rt.clock()
        _check_note(reason, N_("A reason is required to send the answer back."))
        async with self.rt.unit_of_work() as work:
            actor, notice = await self._decider(work, person_id, notice_id)
            notice.status = NoticeStatus.OPEN
            notice.next_check_at = notice_ladder.next_check(
                notice, self.rt.catalog.calendar, self.rt.settings.policy
            )
            record(
                work.session,
                notice.case,
                SEND_BACK,
                actor,
                now,
                reason.strip(),
                {"notice_id": notice.id},
                notice.department_id,
            )
            await self._tell(
                work,
                notice,
                actor,
                now,
                "rectification.sent_back",
                await work.notifier.office(notice.department_id),
                reason.strip(),
            )
        return notice

    async def _decider(
        self, work: UnitOfWork, person_id: int, notice_id: int
    ) -> tuple[Actor, RectificationNotice]:
        actor = await self.rt.actor(work.session, person_id)
        notice = await self.notice(work.session, notice_id, lock=True)
        require_supervisor(actor, notice.case)
        _require_status(notice, NoticeStatus.ANSWERED)
        return actor, notice

    async def _tell(
        self,
        work: UnitOfWork,
        notice: RectificationNotice,
        actor: Actor,
        now: datetime,
        kind: str,
        targets: list[notify.Target],
        note: str,
    ) -> None:
        work.notifier.queue(
            targets,
            kind,
            f"notice:{notice.id}:{kind}:{now.timestamp()}",
            notice_ladder.payload(notice, self.rt.catalog, actor=actor.label, note=note),
            notice.case_id,
            now,
        )


def _check_note(text: str, missing: str) -> None:
    if not text.strip():
        raise InvalidInput(missing)
    if len(text) > MAX_NOTE:
        raise InvalidInput(N_("The note is longer than %(max)d characters."), max=MAX_NOTE)


def _require_status(notice: RectificationNotice, status: NoticeStatus) -> None:
    if notice.status is not status:
        raise IllegalTransition(
            N_("Rectification notice %(id)s is %(status)s; this step is not possible now."),
            id=notice.id,
            status=notice.status.value,
        )
