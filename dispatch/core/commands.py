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


StepCommand = Action | DispatchTo | TransferTo | MergeInto | RequestExtension


def action_of(command: StepCommand) -> Action:
    return command if isinstance(command, Action) else command.action
