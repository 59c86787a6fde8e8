"""Cases and categories as Open311 resources; the reporter's identity is never part of them."""

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from dispatch.catalog import Catalog
from dispatch.queries.service_requests import CLOSED_STATUSES, ServiceRequestView
from models import Category
from models.enums import CaseStatus
from web.context import WebSettings
from web.i18n import Translate
from web.media import signed_url

# Why a case is where it is, in words for the public (translated).
STATUS_NOTES = {
    CaseStatus.REPORTED: "Received; waiting to be filed.",
    CaseStatus.FILED: "Filed; waiting to be dispatched.",
    CaseStatus.DISPATCHED: "Dispatched to the responsible office.",
    CaseStatus.ACCEPTED: "Being handled by the responsible office.",
    CaseStatus.RETURNED: "Being re-dispatched to the right office.",
    CaseStatus.RESOLVED: "Reported fixed; waiting for verification.",
    CaseStatus.SUSPENDED: "Long-term work; suspended.",
    CaseStatus.CLOSED: "Fixed and verified.",
    CaseStatus.VOIDED: "Not a case; voided.",
    CaseStatus.MERGED: "Duplicate request.",
}


def w3(value: datetime | None, tz: ZoneInfo) -> str | None:
    return value.astimezone(tz).isoformat(timespec="seconds") if value else None


def category_name(category: Category, locale: str) -> str:
    return category.name_en if locale == "en" and category.name_en else category.name_zh


def service(category: Category, catalog: Catalog, locale: str) -> dict[str, Any]:
    group = catalog.categories.get(category.parent_code or "")
    return {
        "service_code": category.code,
        "service_name": category_name(category, locale),
        "description": f"{category.name_zh} ({category.name_en})",
        "metadata": bool(category.attributes),
        "type": "realtime",
        "keywords": ", ".join(
            n for n in (category.name_zh, category.name_en, group and group.name_zh) if n
        ),
        "group": category_name(group, locale) if group else "",
    }


def service_definition(category: Category) -> dict[str, Any]:
    return {
        "service_code": category.code,
        "attributes": [
            {
                "variable": a.get("variable", True),
                "code": a["code"],
                "datatype": a.get("datatype", "string"),
                "required": a.get("required", False),
                "datatype_description": a.get("datatype_description"),
                "order": a.get("order", i + 1),
                "description": a.get("description", ""),
                "values": [{"key": v["key"], "name": v["name"]} for v in a.get("values", [])],
            }
            for i, a in enumerate(category.attributes or [])
        ],
    }


def _closed_at(case: ServiceRequestView) -> datetime | None:
    if case.status is CaseStatus.CLOSED:
        return case.closed_at
    if case.status is CaseStatus.VOIDED:
        return case.voided_at
    return None


def _media_url(settings: WebSettings, storage: str, ref: str, now: datetime) -> str | None:
    """A signed, expiring link to a stored photo, or the link the client gave."""
    if storage == "local":
        return signed_url(settings, ref, now)
    return ref if storage == "url" else None


def _status_notes(
    case: ServiceRequestView, settings: WebSettings, _: Translate, token: str | None
) -> str:
    """The status, and for a closed case waiting for its follow-up the citizen's one-time link."""
    notes = _(STATUS_NOTES[case.status])
    if token:
        link = f"{settings.public_url.rstrip('/')}/followup/{token}"
        notes += " " + _("How satisfied are you? Answer once here: %(link)s") % {"link": link}
    return notes


def service_request(
    case: ServiceRequestView,
    catalog: Catalog,
    settings: WebSettings,
    now: datetime,
    locale: str,
    _: Translate,
    follow_up_token: str | None = None,
) -> dict[str, Any]:
    tz = settings.tz
    category = catalog.categories_by_id[case.category_id]
    media = [_media_url(settings, a.storage, a.ref, now) for a in case.attachments]
    return {
        "service_request_id": case.number,
        "status": "closed" if case.status in CLOSED_STATUSES else "open",
        "status_notes": _status_notes(case, settings, _, follow_up_token),
        "service_name": category_name(category, locale),
        "service_code": category.code,
        "description": case.description,
        "agency_responsible": catalog.department_name(case.department_id, locale) or None,
        "service_notice": None,
        "requested_datetime": w3(case.created_at, tz),
        "updated_datetime": w3(_closed_at(case) or case.updated_at, tz),
        "expected_datetime": w3(case.deadline_at, tz),
        "address": case.address,
        "address_id": None,
        "zipcode": None,
        "lat": case.lat,
        "long": case.lon,
        "media_url": next((m for m in media if m), None),
    }
