"""The steps of the closed loop taken by a person (file, dispatch, accept, resolve, verify...):
each checks who may act and when, resolves what the step carries, applies it, records it and
queues who hears of it, in one transaction."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from dispatch.core.commands import (
    DispatchTo,
    MergeInto,
    RequestExtension,
    StepCommand,
    TransferTo,
    Verify,
    Void,
    action_of,
)
from dispatch.core.errors import N_, ConcurrentUpdate, IllegalTransition, InvalidInput, Term
from dispatch.core.lifecycle import Action, StepArgument, action_name, check, status_name
from dispatch.intake import PhotoRef
from dispatch.supervision.conditions import closing_check, void_reason
from dispatch.usecases.runtime import Runtime
from models import Case, CaseEvent
from models.enums import CaseStatus


class Steps:
    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime

    async def act(
        self,
        command: StepCommand,
        case_id: int,
        person_id: int,
        note: str = "",
        expected_version: int | None = None,
        photos: list[PhotoRef] | None = None,
    ) -> Case:
        """One step by a person: a bare `Action`, or a typed command for a step that carries
        more (`DispatchTo`, `TransferTo`, `MergeInto`, `RequestExtension`, `Verify`, `Void`)."""
        action = action_of(command)
        now = self.rt.clock()
        try:
            async with self.rt.unit_of_work() as work:
                session = work.session
                actor = await self.rt.actor(session, person_id)
                case = await self.rt.case(session, case_id)
                if expected_version is not None and case.version != expected_version:
                    raise ConcurrentUpdate(number=case.number)
                try:
                    check(action, actor, case, note)  # who and when, before what with
                    argument = await self._argument(session, case, command)
                    await self.rt.apply(
                        work, case, action, actor, now, note, photos or [], argument
                    )
                except IllegalTransition:
                    raise await self._explain(session, case, action) from None
            return case
        except StaleDataError:
            async with self.rt.sessions() as session:
                case = await self.rt.case(session, case_id)
                raise await self._explain(session, case, action) from None

    async def _argument(
        self, session: AsyncSession, case: Case, command: StepCommand
    ) -> StepArgument:
        """What the lifecycle needs beyond the note: an office, the case to merge into, a
        deadline, the closing conditions ticked or the filing condition failed. A step that
        needs one and was asked for by its bare action is refused."""
        match command:
            case Action.DISPATCH:
                return self._office(case, DispatchTo())
            case DispatchTo() | TransferTo():
                return self._office(case, command)
            case Action.TRANSFER:
                raise InvalidInput(N_("Choose the office that should handle the case."))
            case MergeInto(case_id=into):
                return await self.rt.case(session, into)
            case Action.MERGE:
                raise InvalidInput(N_("Choose the earlier case to merge into."))
            case RequestExtension(until=until) if until.tzinfo is not None:
                return until
            case Action.REQUEST_EXTENSION | RequestExtension():
                raise InvalidInput(N_("Give the new deadline you ask for."))
            case Verify(conditions=ticked):
                return closing_check(self.rt.catalog, case, ticked)
            case Action.VERIFY:  # nothing ticked: passes only where no condition is set
                return closing_check(self.rt.catalog, case, ())
            case Void(condition=condition_id):
                return void_reason(self.rt.catalog, case, condition_id)
            case Action.VOID:  # no condition named: passes only where none is set
                return void_reason(self.rt.catalog, case, None)
        return None

    def _office(self, case: Case, command: DispatchTo | TransferTo) -> int:
        department_id = command.department_id
        if department_id is None:  # dispatch to the office the routing rules name
            location = self.rt.directory.locate(case.lon, case.lat)
            category = self.rt.catalog.categories_by_id[case.category_id]
            department_id = self.rt.route(category.code, location) if location else None
        if department_id not in self.rt.catalog.departments:
            raise InvalidInput(N_("Choose the office that should handle the case."))
        return department_id

    async def _explain(self, session: AsyncSession, case: Case, action: Action) -> Exception:
        """The message for a step that lost a race or came too late: who did what first."""
        last = await session.scalar(
            select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id.desc())
        )
        if action is Action.ACCEPT and case.status is CaseStatus.ACCEPTED and last is not None:
            return IllegalTransition(
                N_("Case %(number)s was already accepted by %(name)s."),
                number=case.number,
                name=last.actor_label,
            )
        if last is not None and last.from_status != last.to_status:
            return IllegalTransition(
                N_("Case %(number)s is now %(status)s (%(action)s by %(name)s)."),
                number=case.number,
                status=status_name(case.status),
                action=action_name(last.action),
                name=last.actor_label if last.actor_id else Term(last.actor_label),
            )
        return IllegalTransition(number=case.number, status=status_name(case.status))
