"""The case state machine: which step is legal from which status, for whom, and what it
changes. Pure code: it mutates the case object it is given and returns the event to record;
it never touches the database or the clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any
from uuid import uuid4

from dispatch.core.actors import Actor
from dispatch.core.deadlines import DeadlinePlanner
from dispatch.core.errors import N_, IllegalTransition, InvalidInput, PermissionDenied, Term
from models.enums import CaseStatus, Role

if TYPE_CHECKING:
    from models import Case

S = CaseStatus
MAX_NOTE = 2000


class Action(StrEnum):
    REPORT = "report"
    FILE = "file"
    DISPATCH = "dispatch"
    ACCEPT = "accept"
    RETURN = "return"
    TRANSFER = "transfer"
    REQUEST_EXTENSION = "request_extension"
    APPROVE_EXTENSION = "approve_extension"
    DENY_EXTENSION = "deny_extension"
    SUSPEND = "suspend"
    RESUME = "resume"
    RESOLVE = "resolve"
    VERIFY = "verify"  # fixed: close the case
    REWORK = "rework"  # not fixed: back to the office
    VOID = "void"
    MERGE = "merge"
    REOPEN = "reopen"
    URGE = "urge"
    DUPLICATE_REPORT = "duplicate_report"
    REMIND = "remind"
    ESCALATE = "escalate"


# What each step and status is called in messages (msgids of the dispatch catalog).
ACTION_NAMES = {
    Action.REPORT: N_("report"),
    Action.FILE: N_("file"),
    Action.DISPATCH: N_("dispatch"),
    Action.ACCEPT: N_("accept"),
    Action.RETURN: N_("return"),
    Action.TRANSFER: N_("transfer"),
    Action.REQUEST_EXTENSION: N_("request an extension for"),
    Action.APPROVE_EXTENSION: N_("approve extensions for"),
    Action.DENY_EXTENSION: N_("deny extensions for"),
    Action.SUSPEND: N_("suspend"),
    Action.RESUME: N_("resume"),
    Action.RESOLVE: N_("resolve"),
    Action.VERIFY: N_("verify"),
    Action.REWORK: N_("send back for rework"),
    Action.VOID: N_("void"),
    Action.MERGE: N_("merge"),
    Action.REOPEN: N_("reopen"),
    Action.URGE: N_("urge"),
    Action.DUPLICATE_REPORT: N_("add a repeated report to"),
    Action.REMIND: N_("remind"),
    Action.ESCALATE: N_("escalate"),
}
STATUS_NAMES = {
    CaseStatus.REPORTED: N_("reported"),
    CaseStatus.FILED: N_("filed"),
    CaseStatus.DISPATCHED: N_("dispatched"),
    CaseStatus.ACCEPTED: N_("accepted"),
    CaseStatus.RETURNED: N_("returned"),
    CaseStatus.RESOLVED: N_("resolved"),
    CaseStatus.CLOSED: N_("closed"),
    CaseStatus.SUSPENDED: N_("suspended"),
    CaseStatus.VOIDED: N_("voided"),
    CaseStatus.MERGED: N_("merged"),
}


def action_name(action: Action | str) -> Term:
    return Term(ACTION_NAMES[Action(action)])


def status_name(status: CaseStatus | str) -> Term:
    return Term(STATUS_NAMES[CaseStatus(status)])


class Scope(StrEnum):
    AREA = "area"  # the actor's area contains the case
    DEPARTMENT = "department"  # the case is with the actor's own office
    REPORTER = "reporter"  # the actor reported the case


@dataclass(frozen=True)
class Rule:
    from_statuses: tuple[CaseStatus, ...]
    roles: dict[Role, Scope]
    to_status: CaseStatus | None = None  # None: the status does not change
    needs_reason: bool = False


OPEN_HANDLING = (S.DISPATCHED, S.ACCEPTED)
ANY_OPEN = (S.REPORTED, S.FILED, S.DISPATCHED, S.ACCEPTED, S.RETURNED, S.RESOLVED, S.SUSPENDED)
DISPATCHER = {Role.DISPATCHER: Scope.AREA}
OFFICE = {Role.OFFICE_MEMBER: Scope.DEPARTMENT}

RULES: dict[Action, Rule] = {
    Action.FILE: Rule((S.REPORTED,), DISPATCHER, S.FILED),
    Action.DISPATCH: Rule((S.FILED, S.RETURNED), DISPATCHER, S.DISPATCHED),
    Action.ACCEPT: Rule((S.DISPATCHED,), OFFICE, S.ACCEPTED),
    Action.RETURN: Rule(OPEN_HANDLING, OFFICE, S.RETURNED, needs_reason=True),
    Action.TRANSFER: Rule(
        (*OPEN_HANDLING, S.RETURNED), {**DISPATCHER, **OFFICE}, S.DISPATCHED, needs_reason=True
    ),
    Action.REQUEST_EXTENSION: Rule((S.ACCEPTED,), OFFICE, needs_reason=True),
    Action.APPROVE_EXTENSION: Rule(OPEN_HANDLING, DISPATCHER),
    Action.DENY_EXTENSION: Rule(OPEN_HANDLING, DISPATCHER, needs_reason=True),
    Action.SUSPEND: Rule(OPEN_HANDLING, DISPATCHER, S.SUSPENDED, needs_reason=True),
    Action.RESUME: Rule((S.SUSPENDED,), DISPATCHER),
    Action.RESOLVE: Rule((S.ACCEPTED,), OFFICE, S.RESOLVED, needs_reason=True),
    Action.VERIFY: Rule(
        (S.RESOLVED,), {Role.GRID_WORKER: Scope.REPORTER, Role.DISPATCHER: Scope.AREA}, S.CLOSED
    ),
    Action.REWORK: Rule(
        (S.RESOLVED,),
        {Role.GRID_WORKER: Scope.REPORTER, Role.DISPATCHER: Scope.AREA},
        S.ACCEPTED,
        needs_reason=True,
    ),
    Action.VOID: Rule(ANY_OPEN, DISPATCHER, S.VOIDED, needs_reason=True),
    Action.MERGE: Rule((S.REPORTED, S.FILED, S.DISPATCHED), DISPATCHER, S.MERGED),
    Action.REOPEN: Rule((S.CLOSED,), DISPATCHER, S.DISPATCHED, needs_reason=True),
    Action.URGE: Rule((*OPEN_HANDLING, S.RETURNED, S.RESOLVED), {Role.SUPERVISOR: Scope.AREA}),
}


@dataclass
class Step:
    """What a transition did, for the event trail and the notifications."""

    action: Action
    from_status: CaseStatus | None
    to_status: CaseStatus | None
    note: str = ""
    payload: dict[str, Any] = field(default_factory=dict)
    # Names this step in the outbox's dedupe keys, before the event row has an id.
    key: str = field(default_factory=lambda: uuid4().hex)


def in_scope(actor: Actor, case: Case, scope: Scope) -> bool:
    if scope is Scope.DEPARTMENT:
        return actor.department_id is not None and actor.department_id == case.department_id
    if scope is Scope.REPORTER:
        return actor.person_id is not None and actor.person_id == case.reporter_id
    return actor.area_id is None or actor.area_id in (case.community_id, case.town_id)


def check(action: Action, actor: Actor, case: Case, note: str = "") -> Rule:
    """Raises the domain error that explains why `actor` may not take `action` now."""
    rule = RULES[action]
    scope = rule.roles.get(actor.role) if actor.role else None
    if scope is None:
        raise PermissionDenied(
            N_("Your role may not %(action)s cases."), action=action_name(action)
        )
    if not in_scope(actor, case, scope):
        if scope is Scope.DEPARTMENT:
            raise PermissionDenied(
                N_("Case %(number)s is not with your office."), number=case.number
            )
        if scope is Scope.REPORTER:
            raise PermissionDenied(
                N_("Only the reporter may verify case %(number)s."), number=case.number
            )
        raise PermissionDenied(N_("Case %(number)s is outside your area."), number=case.number)
    if case.status not in rule.from_statuses:
        raise IllegalTransition(number=case.number, status=status_name(case.status))
    if rule.needs_reason and not note.strip():
        raise InvalidInput(N_("A reason is required to %(action)s."), action=action_name(action))
    if len(note) > MAX_NOTE:
        raise InvalidInput(N_("The note is longer than %(max)d characters."), max=MAX_NOTE)
    return rule


# What a step carries beyond its note, resolved by the use case: the office of a dispatch or
# transfer (`int`), the case a merge goes into (`Case`), the deadline an extension asks for,
# the closing conditions a verification ticked and the filing condition a void names (texts).
StepArgument = Any
Handler = Callable[["Transition", "Case", datetime, Step, StepArgument], None]


@dataclass
class Transition:
    """Applies one action to a case, after `check`. The planner keeps the deadlines right."""

    planner: DeadlinePlanner
    reopen_days: int
    # How far from now an extension may move the deadline (a date centuries away would make
    # the working-time arithmetic crawl or overflow).
    max_extension: timedelta = timedelta(days=365)

    def apply(
        self,
        case: Case,
        action: Action,
        actor: Actor,
        now: datetime,
        note: str = "",
        argument: StepArgument = None,
    ) -> Step:
        rule = check(action, actor, case, note)
        step = Step(action, case.status, rule.to_status or case.status, note.strip())
        HANDLERS[action](self, case, now, step, argument)
        if rule.to_status:
            case.status = rule.to_status
        case.next_check_at = self.planner.next_check(case)
        return step

    def _only_record(self, case: Case, now: datetime, step: Step, _: None) -> None:
        """A step that changes nothing on the case: it goes on the record and to its recipients
        (urge)."""

    def _file(self, case: Case, now: datetime, step: Step, _: None) -> None:
        case.filed_at = now

    def _dispatch(self, case: Case, now: datetime, step: Step, department_id: int) -> None:
        case.department_id = department_id
        case.dispatched_at = now
        case.accepted_at = None
        step.payload["department_id"] = department_id
        self.planner.on_dispatch(case, now)

    def _accept(self, case: Case, now: datetime, step: Step, _: None) -> None:
        case.accepted_at = now
        self.planner.on_accept(case, now)

    def _return(self, case: Case, now: datetime, step: Step, _: None) -> None:
        step.payload["department_id"] = case.department_id
        self.planner.stop(case)

    def _transfer(self, case: Case, now: datetime, step: Step, department_id: int) -> None:
        if department_id == case.department_id:
            raise InvalidInput(N_("The case is already with that office."))
        step.payload.update(from_department_id=case.department_id, department_id=department_id)
        self._dispatch(case, now, step, department_id)

    def _request_extension(self, case: Case, now: datetime, step: Step, until: datetime) -> None:
        if case.deadline_at is None:
            raise InvalidInput(
                N_("Case %(number)s has no time limit to extend."), number=case.number
            )
        if now >= case.deadline_at:
            raise InvalidInput(
                N_(
                    "An extension must be requested before the deadline; "
                    "case %(number)s is overdue."
                ),
                number=case.number,
            )
        if until <= case.deadline_at:
            raise InvalidInput(N_("The new deadline must be later than the current one."))
        self._within_limit(now, until)
        if case.extension_requested_until is not None:
            raise InvalidInput(
                N_("An extension request for case %(number)s is already pending."),
                number=case.number,
            )
        case.extension_requested_until = until
        case.extension_reason = step.note
        step.payload["until"] = until.isoformat()

    def _pending_extension(self, case: Case) -> datetime:
        if case.extension_requested_until is None:
            raise InvalidInput(
                N_("Case %(number)s has no pending extension request."), number=case.number
            )
        return case.extension_requested_until

    def _within_limit(self, now: datetime, until: datetime) -> None:
        if until - now > self.max_extension:
            raise InvalidInput(
                N_("The new deadline may be at most %(days)d days from now."),
                days=self.max_extension.days,
            )

    def _approve_extension(self, case: Case, now: datetime, step: Step, _: None) -> None:
        until = self._pending_extension(case)
        self._within_limit(now, until)
        step.payload.update(old_deadline=_iso(case.deadline_at), until=until.isoformat())
        self.planner.extend(case, until)
        case.extension_requested_until = None

    def _deny_extension(self, case: Case, now: datetime, step: Step, _: None) -> None:
        step.payload["until"] = self._pending_extension(case).isoformat()
        case.extension_requested_until = None

    def _suspend(self, case: Case, now: datetime, step: Step, _: None) -> None:
        case.status_before_suspension = case.status
        case.suspended_at = now
        self.planner.pause(case, now)

    def _resume(self, case: Case, now: datetime, step: Step, _: None) -> None:
        step.to_status = case.status = case.status_before_suspension or S.DISPATCHED
        case.status_before_suspension = None
        case.suspended_at = None
        self.planner.resume(case, now)

    def _resolve(self, case: Case, now: datetime, step: Step, _: None) -> None:
        case.resolved_at = now

    def _verify(self, case: Case, now: datetime, step: Step, conditions: list[str] | None) -> None:
        if conditions:
            step.payload["conditions"] = conditions  # the closing conditions ticked
        case.closed_at = now
        case.closed_on_time = case.deadline_at is None or (
            case.resolved_at is not None and case.resolved_at <= case.deadline_at
        )
        case.handling_work_seconds = self.planner.handling_seconds(case)
        step.payload["on_time"] = case.closed_on_time

    def _rework(self, case: Case, now: datetime, step: Step, _: None) -> None:
        case.rework_count += 1
        case.resolved_at = None
        step.payload["rework_count"] = case.rework_count
        self.planner.restart(case, now)

    def _void(self, case: Case, now: datetime, step: Step, condition: str | None) -> None:
        if condition:
            step.payload["condition"] = condition  # the filing condition not met
        case.voided_at = now
        self.planner.stop(case)

    def _merge(self, case: Case, now: datetime, step: Step, into: Case) -> None:
        if into.id == case.id or into.status not in ANY_OPEN:
            raise InvalidInput(N_("A case can only be merged into another open case."))
        case.duplicate_of_id = into.id
        step.payload["into"] = into.number
        self.planner.stop(case)

    def _reopen(self, case: Case, now: datetime, step: Step, _: None) -> None:
        assert case.closed_at is not None
        if now - case.closed_at > timedelta(days=self.reopen_days):
            raise InvalidInput(
                N_(
                    "Case %(number)s was closed more than %(days)d days ago and cannot be reopened."
                ),
                number=case.number,
                days=self.reopen_days,
            )
        case.closed_at = None
        case.resolved_at = None
        case.closed_on_time = None
        case.handling_work_seconds = None
        self._dispatch(case, now, step, case.department_id)


HANDLERS: dict[Action, Handler] = {
    Action.FILE: Transition._file,
    Action.DISPATCH: Transition._dispatch,
    Action.ACCEPT: Transition._accept,
    Action.RETURN: Transition._return,
    Action.TRANSFER: Transition._transfer,
    Action.REQUEST_EXTENSION: Transition._request_extension,
    Action.APPROVE_EXTENSION: Transition._approve_extension,
    Action.DENY_EXTENSION: Transition._deny_extension,
    Action.SUSPEND: Transition._suspend,
    Action.RESUME: Transition._resume,
    Action.RESOLVE: Transition._resolve,
    Action.VERIFY: Transition._verify,
    Action.REWORK: Transition._rework,
    Action.VOID: Transition._void,
    Action.MERGE: Transition._merge,
    Action.REOPEN: Transition._reopen,
    Action.URGE: Transition._only_record,
}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
