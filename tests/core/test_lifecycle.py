"""The state machine on plain objects (no database): who may take which step when, what each
step changes, and a handler for every rule."""

from datetime import datetime

import pytest

from dispatch.core.commands import (
    DispatchTo,
    MergeInto,
    RequestExtension,
    TransferTo,
    action_of,
)
from dispatch.core.errors import IllegalTransition, InvalidInput, PermissionDenied
from dispatch.core.lifecycle import HANDLERS, RULES, Action, Transition, check
from models.enums import CaseStatus
from tests.core.plain import (
    DISPATCHER,
    MEMBER,
    OFFICE,
    OTHER_OFFICE,
    OTHER_WORKER,
    REPORTER,
    SUPERVISOR,
    case,
    planner,
    sh,
)

S = CaseStatus


def transition() -> Transition:
    return Transition(planner(), reopen_days=7)


def test_every_rule_has_a_handler_and_every_handler_a_rule() -> None:
    assert set(HANDLERS) == set(RULES)


def test_a_typed_command_names_its_step() -> None:
    assert action_of(Action.ACCEPT) is Action.ACCEPT
    assert action_of(DispatchTo()) is Action.DISPATCH
    assert action_of(TransferTo(3)) is Action.TRANSFER
    assert action_of(MergeInto(4)) is Action.MERGE
    assert action_of(RequestExtension(sh(3, 3, 9))) is Action.REQUEST_EXTENSION


def test_file_dispatch_accept_resolve_verify_closes_on_time() -> None:
    t, c = transition(), case()
    t.apply(c, Action.FILE, DISPATCHER, sh(3, 2, 9))
    step = t.apply(c, Action.DISPATCH, DISPATCHER, sh(3, 2, 9), argument=OFFICE)
    assert (c.status, c.department_id, c.deadline_at) == (S.DISPATCHED, OFFICE, sh(3, 2, 15))
    assert step.payload == {"department_id": OFFICE}
    assert c.next_check_at == sh(3, 2, 14, 12)
    t.apply(c, Action.ACCEPT, MEMBER, sh(3, 2, 10))
    t.apply(c, Action.RESOLVE, MEMBER, sh(3, 2, 11), "已清理")
    assert c.next_check_at is None  # a resolved case is not escalated
    step = t.apply(c, Action.VERIFY, REPORTER, sh(3, 2, 16))
    assert (c.status, c.closed_on_time, step.payload) == (S.CLOSED, True, {"on_time": True})
    assert c.handling_work_seconds == 2 * 3600


def test_who_may_act_and_on_what() -> None:
    dispatched = case(S.DISPATCHED, department_id=OFFICE)
    with pytest.raises(PermissionDenied, match="may not accept"):
        check(Action.ACCEPT, DISPATCHER, dispatched)
    with pytest.raises(PermissionDenied, match="not with your office"):
        check(Action.ACCEPT, MEMBER, case(S.DISPATCHED, department_id=OTHER_OFFICE))
    with pytest.raises(PermissionDenied, match="outside your area"):
        check(Action.FILE, DISPATCHER, case(community_id=12, town_id=2))
    with pytest.raises(PermissionDenied, match="Only the reporter"):
        check(Action.VERIFY, OTHER_WORKER, case(S.RESOLVED))
    with pytest.raises(IllegalTransition):
        check(Action.ACCEPT, MEMBER, case(S.ACCEPTED, department_id=OFFICE))
    with pytest.raises(InvalidInput, match="reason is required"):
        check(Action.RETURN, MEMBER, case(S.ACCEPTED, department_id=OFFICE), "  ")
    with pytest.raises(InvalidInput, match="longer than"):
        check(Action.URGE, SUPERVISOR, dispatched, "x" * 2001)
    assert check(Action.URGE, SUPERVISOR, dispatched, "请尽快").to_status is None


def test_a_refused_step_changes_nothing() -> None:
    c = case(S.DISPATCHED, department_id=OFFICE)
    before = dict(vars(c))
    with pytest.raises(PermissionDenied):
        transition().apply(c, Action.VOID, MEMBER, sh(3, 2, 9), "no")
    assert vars(c) == before


def test_transfer_to_another_office_only() -> None:
    t = transition()
    c = case(S.ACCEPTED, department_id=OFFICE)
    with pytest.raises(InvalidInput, match="already with that office"):
        t.apply(c, Action.TRANSFER, MEMBER, sh(3, 2, 9), "不归我们", OFFICE)
    step = t.apply(c, Action.TRANSFER, MEMBER, sh(3, 2, 9), "不归我们", OTHER_OFFICE)
    assert (c.status, c.department_id, c.accepted_at) == (S.DISPATCHED, OTHER_OFFICE, None)
    assert step.payload == {"from_department_id": OFFICE, "department_id": OTHER_OFFICE}


def test_extension_before_the_deadline_then_approved() -> None:
    t = transition()
    c = case(S.FILED)
    t.apply(c, Action.DISPATCH, DISPATCHER, sh(3, 2, 9), argument=OFFICE)
    t.apply(c, Action.ACCEPT, MEMBER, sh(3, 2, 9))
    with pytest.raises(InvalidInput, match="later than the current"):
        t.apply(c, Action.REQUEST_EXTENSION, MEMBER, sh(3, 2, 10), "机械", sh(3, 2, 12))
    t.apply(c, Action.REQUEST_EXTENSION, MEMBER, sh(3, 2, 10), "需要机械", sh(3, 3, 17, 30))
    with pytest.raises(InvalidInput, match="already pending"):
        t.apply(c, Action.REQUEST_EXTENSION, MEMBER, sh(3, 2, 10), "again", sh(3, 4, 9))
    step = t.apply(c, Action.APPROVE_EXTENSION, DISPATCHER, sh(3, 2, 11))
    assert c.deadline_at == sh(3, 3, 17, 30)
    assert c.extension_requested_until is None
    assert datetime.fromisoformat(step.payload["old_deadline"]) == sh(3, 2, 15)
    late = case(S.ACCEPTED, department_id=OFFICE, deadline_at=sh(3, 2, 15))
    with pytest.raises(InvalidInput, match="overdue"):
        t.apply(late, Action.REQUEST_EXTENSION, MEMBER, sh(3, 2, 16), "late", sh(3, 3, 9))


def test_suspend_and_resume_return_to_the_status_before() -> None:
    t = transition()
    c = case(S.FILED)
    t.apply(c, Action.DISPATCH, DISPATCHER, sh(3, 2, 9), argument=OFFICE)
    t.apply(c, Action.ACCEPT, MEMBER, sh(3, 2, 9))
    t.apply(c, Action.SUSPEND, DISPATCHER, sh(3, 2, 11), "挂账")
    assert (c.status, c.next_check_at) == (S.SUSPENDED, None)
    step = t.apply(c, Action.RESUME, DISPATCHER, sh(3, 4, 9))
    assert (c.status, step.to_status, c.deadline_at) == (S.ACCEPTED, S.ACCEPTED, sh(3, 4, 11))


def test_rework_restarts_the_limit_and_counts() -> None:
    t = transition()
    c = case(S.RESOLVED, department_id=OFFICE, resolved_at=sh(3, 2, 10))
    step = t.apply(c, Action.REWORK, REPORTER, sh(3, 3, 9), "没扫干净")
    assert (c.status, c.rework_count, c.resolved_at) == (S.ACCEPTED, 1, None)
    assert c.deadline_at == sh(3, 3, 15)  # 4 working hours: 09:00-12:00, 14:00-15:00
    assert step.payload == {"rework_count": 1}


def test_merge_only_into_another_open_case() -> None:
    t = transition()
    c = case(S.FILED)
    with pytest.raises(InvalidInput, match="another open case"):
        t.apply(c, Action.MERGE, DISPATCHER, sh(3, 2, 9), argument=c)
    with pytest.raises(InvalidInput, match="another open case"):
        t.apply(c, Action.MERGE, DISPATCHER, sh(3, 2, 9), argument=case(S.CLOSED, id=99))
    step = t.apply(c, Action.MERGE, DISPATCHER, sh(3, 2, 9), argument=case(S.FILED, id=99))
    assert (c.status, c.duplicate_of_id, step.payload) == (
        S.MERGED,
        99,
        {"into": "20260302000100"},
    )


def test_reopen_within_the_days_only() -> None:
    t = transition()
    closed = dict(department_id=OFFICE, closed_at=sh(3, 2, 9), closed_on_time=True)
    c = case(S.CLOSED, **closed)
    t.apply(c, Action.REOPEN, DISPATCHER, sh(3, 9, 9), "复发")
    assert (c.status, c.closed_at, c.closed_on_time) == (S.DISPATCHED, None, None)
    with pytest.raises(InvalidInput, match="more than 7 days"):
        t.apply(case(S.CLOSED, **closed), Action.REOPEN, DISPATCHER, sh(3, 9, 9, 1), "again")
