"""The steps that carry more than a note, as typed commands. A step that carries nothing else
is asked for by its bare `Action`."""

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from dispatch.core.lifecycle import Action


@dataclass(frozen=True)
class DispatchTo:
    department_id: int | None = None  # None: the office the routing rules name
    action: ClassVar[Action] = Action.DISPATCH


@dataclass(frozen=True)
class TransferTo:
    department_id: int
    action: ClassVar[Action] = Action.TRANSFER


@dataclass(frozen=True)
class MergeInto:
    case_id: int  # the earlier open case
    action: ClassVar[Action] = Action.MERGE


@dataclass(frozen=True)
class RequestExtension:
    until: datetime  # the new deadline asked for, timezone-aware
    action: ClassVar[Action] = Action.REQUEST_EXTENSION


@dataclass(frozen=True)
class Verify:
    conditions: tuple[int, ...] = ()  # the closing conditions (结案条件) ticked, by id
    action: ClassVar[Action] = Action.VERIFY


@dataclass(frozen=True)
class Void:
    condition: int | None = None  # the filing condition (立案条件) the report fails, by id
    action: ClassVar[Action] = Action.VOID


StepCommand = Action | DispatchTo | TransferTo | MergeInto | RequestExtension | Verify | Void


def action_of(command: StepCommand) -> Action:
    return command if isinstance(command, Action) else command.action
