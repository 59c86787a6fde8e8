"""Callback data of the inline buttons. Case buttons carry the case id and the version the
message showed, so a button from an old message is refused instead of acting on news."""

from aiogram.filters.callback_data import CallbackData


class CaseCb(CallbackData, prefix="c"):
    """An office or supervisor step on a case: accept, return, transfer, resolve, extend, urge."""

    action: str
    case_id: int
    version: int


class TransferCb(CallbackData, prefix="t"):
    case_id: int
    version: int
    department_id: int


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
