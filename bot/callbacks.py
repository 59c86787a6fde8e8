"""Callback data of the inline buttons. Case buttons carry the case id and the version the
message showed, so a button from an old message is refused instead of acting on news."""

from aiogram.filters.callback_data import CallbackData


class CaseCb(CallbackData, prefix="c"):
    """A step on a case: accept, return, transfer, resolve, extend (office), urge
    (supervisor), file, dispatch, void (dispatcher)."""

    action: str
    case_id: int
    version: int


class TransferCb(CallbackData, prefix="t"):
    case_id: int
    version: int
    department_id: int


class DispatchCb(CallbackData, prefix="d"):
    """A dispatcher sends a filed or returned case to this office."""

    case_id: int
    version: int
    department_id: int


class ExtensionCb(CallbackData, prefix="x"):
    """A dispatcher's decision on the extension request the message showed: `until` is the
    requested deadline (epoch seconds), so the button only ever decides that request."""

    case_id: int
    until: int
    approve: bool


class VerifyCb(CallbackData, prefix="v"):
    case_id: int
    version: int
    fixed: bool


class CategoryCb(CallbackData, prefix="k"):
    code: str


class ReportCb(CallbackData, prefix="r"):
    """A step of the report draft: done (photos), skip, confirm, cancel, duplicate."""

    action: str
    draft: str
    case_id: int = 0
