"""The Open311 GeoReport v2 endpoints under /open311/v2/, in JSON and XML."""

import math
import re
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web
from multidict import MultiDictProxy

from dispatch.core.errors import DomainError, NotFound, OutsideJurisdiction, explain
from dispatch.intake import MAX_DESCRIPTION, PhotoRef, ReportDraft
from dispatch.queries.service_requests import RequestFilter, service_request, service_requests
from dispatch.registration import api_key_for
from gridgov.app import App
from models import Category
from models.enums import CaseSource, LocationStatus
from web.health import APP_KEY
from web.i18n import choose_locale, translator
from web.media import UploadRejected, save_upload
from web.open311 import fields
from web.open311.render import FORMATS, Open311Error, error_response, respond

PREFIX = "/open311/v2"
SPEC_URL = "http://wiki.open311.org/GeoReport_v2"
MAX_RESULTS = 1000
DEFAULT_RANGE = timedelta(days=90)
CONTACT_FIELDS = ("email", "phone", "first_name", "last_name", "device_id", "account_id")
ATTRIBUTE_KEY = re.compile(r"^attribute\[([^\]]+)\](\[\])?$")

Handler = Callable[[web.Request, App, str], Awaitable[web.Response]]


def endpoint(handler: Handler) -> Callable[[web.Request], Awaitable[web.Response]]:
    """Runs a handler and answers its failures as the spec's error list, in its format."""

    async def wrapped(request: web.Request) -> web.Response:
        fmt = request.match_info["fmt"]
        app = request.app[APP_KEY]
        locale = choose_locale(request, app.settings.default_locale)
        try:
            return await handler(request, app, fmt)
        except Open311Error as exc:
            return error_response(fmt, exc)
        except NotFound as exc:
            return error_response(fmt, Open311Error(404, explain(exc, locale)))
        except DomainError as exc:
            return error_response(fmt, Open311Error(400, explain(exc, locale)))

    return wrapped


def _locale(request: web.Request, app: App) -> str:
    return choose_locale(request, app.settings.default_locale)


def _service_category(app: App, code: str) -> Category:
    category = app.casework.catalog.categories.get(code)
    if category is None or not category.active or category.parent_code is None:
        raise Open311Error(404, f"service_code {code} was not found")
    return category


@endpoint
async def discovery(request: web.Request, app: App, fmt: str) -> web.Response:
    base = app.settings.public_url.rstrip("/") + PREFIX
    return respond(
        fmt,
        "discovery",
        {
            "changeset": "2026-01-01T00:00:00Z",
            "contact": "",
            "key_service": "",
            "endpoints": [
                {
                    "specification": SPEC_URL,
                    "url": base,
                    "changeset": "2026-01-01T00:00:00Z",
                    "type": "production",
                    "formats": ["text/xml", "application/json"],
                }
            ],
        },
    )


@endpoint
async def services(request: web.Request, app: App, fmt: str) -> web.Response:
    catalog = app.casework.catalog
    locale = _locale(request, app)
    listed = sorted(
        (c for c in catalog.categories.values() if c.active and c.parent_code is not None),
        key=lambda c: c.code,
    )
    return respond(fmt, "services", [fields.service(c, catalog, locale) for c in listed])


@endpoint
async def service_definition(request: web.Request, app: App, fmt: str) -> web.Response:
    category = _service_category(app, request.match_info["code"])
    return respond(fmt, "service_definition", fields.service_definition(category))


def _attributes(category: Category, form: MultiDictProxy[Any]) -> list[str]:
    """Checks attribute[code]=value against the service definition; returns description lines
    ("question: answer"), since the answers have no column of their own. Attributes that are
    not variable are information for the client and take no answer."""
    given: dict[str, list[str]] = {}
    for key, value in form.items():
        match = ATTRIBUTE_KEY.match(key)
        if match and isinstance(value, str) and value.strip():
            given.setdefault(match.group(1), []).append(value.strip())
    lines = []
    for attr in sorted(category.attributes or [], key=lambda a: a.get("order", 0)):
        if not attr.get("variable", True):
            continue
        name = f"attribute[{attr['code']}]"
        values = given.get(attr["code"], [])
        if not values:
            if attr.get("required"):
                raise Open311Error(400, f"{name} is required")
            continue
        datatype = attr.get("datatype", "string")
        if datatype != "multivaluelist" and len(values) > 1:
            raise Open311Error(400, f"{name} takes one value")
        if datatype in ("singlevaluelist", "multivaluelist"):
            names = {str(v["key"]): v["name"] for v in attr.get("values", [])}
            unknown = [v for v in values if v not in names]
            if unknown:
                raise Open311Error(400, f"{name}: unknown value {unknown[0]}")
            values = [names[v] for v in values]
        elif datatype == "number" and not _is_number(values[0]):
            raise Open311Error(400, f"{name} must be a number")
        elif datatype == "datetime" and not _is_datetime(values[0]):
            raise Open311Error(400, f"{name} is not a w3 date-time, e.g. 2010-01-01T00:00:00Z")
        lines.append(f"{attr.get('description') or attr['code']}: {', '.join(values)}")
    return lines


def _is_datetime(text: str) -> bool:
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


def _is_number(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def _coordinate(form: MultiDictProxy[Any], name: str) -> float:
    try:
        return float(form[name])
    except (KeyError, TypeError, ValueError):
        raise Open311Error(400, f"{name} must be a number") from None


def _photos(app: App, form: MultiDictProxy[Any]) -> list[PhotoRef]:
    photos = []
    media = form.get("media")
    if isinstance(media, web.FileField):
        try:
            photos.append(save_upload(app.settings, media, "open311"))
        except UploadRejected as exc:
            raise Open311Error(400, f"media: {exc}") from None
    link = form.get("media_url")
    if isinstance(link, str) and link.strip():
        if not re.match(r"^https?://", link.strip()) or len(link.strip()) > 255:
            raise Open311Error(400, "media_url must be an http(s) URL of at most 255 characters")
        photos.append(PhotoRef("url", link.strip(), "image/*"))
    return photos


async def _form(request: web.Request) -> MultiDictProxy[Any]:
    try:
        return await request.post()
    except web.HTTPRequestEntityTooLarge:
        raise Open311Error(400, "the request is larger than the upload limit") from None


@endpoint
async def create_request(request: web.Request, app: App, fmt: str) -> web.Response:
    form = await _form(request)
    key = form.get("api_key") or request.query.get("api_key") or ""
    async with app.sessions() as session:
        api_key = await api_key_for(session, key) if isinstance(key, str) and key else None
    if api_key is None:
        raise Open311Error(403, "Invalid api_key received -- can't proceed with create_request.")
    code = form.get("service_code")
    if not isinstance(code, str) or not code.strip():
        raise Open311Error(400, "service_code was not provided")
    category = _service_category(app, code.strip())
    if not form.get("lat") or not form.get("long"):
        raise Open311Error(
            400, "lat and long are required: this endpoint does not geocode addresses"
        )
    lat, lon = _coordinate(form, "lat"), _coordinate(form, "long")
    description = str(form.get("description") or "")
    if len(description) > MAX_DESCRIPTION:
        raise Open311Error(400, f"description is longer than {MAX_DESCRIPTION} characters")
    extra = _attributes(category, form)
    description = "\n".join([description.strip(), *extra]).strip()
    if len(description) > MAX_DESCRIPTION:
        raise Open311Error(
            400, f"description and attributes together are longer than {MAX_DESCRIPTION} characters"
        )
    contact: dict[str, Any] = {
        name: str(form[name]) for name in CONTACT_FIELDS if str(form.get(name) or "").strip()
    }
    contact["client"] = api_key.name
    draft = ReportDraft(
        source=CaseSource.CITIZEN,
        lon=lon,
        lat=lat,
        category_code=category.code,
        description=description,
        address=str(form.get("address_string") or ""),
        reporter_contact=contact,
    )
    draft.validate()  # before any upload is stored
    location = app.casework.directory.locate(lon, lat)
    if location is None or location.status == LocationStatus.OUTSIDE:
        raise OutsideJurisdiction(lon=lon, lat=lat)
    draft.photos = _photos(app, form)
    result = await app.casework.intake.report(draft)
    return respond(
        fmt,
        "service_requests",
        [
            {
                "service_request_id": result.case.number,
                "service_notice": None,
                "account_id": contact.get("account_id"),
            }
        ],
    )


def _date(value: str | None, name: str, tz: ZoneInfo) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace(" ", "+"))
    except ValueError:
        raise Open311Error(
            400, f"{name} is not a w3 date-time, e.g. 2010-01-01T00:00:00Z"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)


def _list(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


@endpoint
async def list_requests(request: web.Request, app: App, fmt: str) -> web.Response:
    q = request.query
    tz = ZoneInfo(app.settings.tz)
    start, end = (
        _date(q.get("start_date"), "start_date", tz),
        _date(q.get("end_date"), "end_date", tz),
    )
    if start and end and end < start:
        raise Open311Error(400, "end_date is before start_date")
    if start and end and end - start > DEFAULT_RANGE:
        raise Open311Error(400, "the date range may not span more than 90 days")
    if end is None:
        end = start + DEFAULT_RANGE if start else app.casework.clock()
    start = start or end - DEFAULT_RANGE
    statuses = _list(q.get("status"))
    if any(s not in ("open", "closed") for s in statuses):
        raise Open311Error(400, "status must be open or closed")
    codes = _list(q.get("service_code"))
    catalog = app.casework.catalog
    missing = [c for c in codes if c not in catalog.categories]
    if missing:
        raise Open311Error(404, f"service_code {missing[0]} was not found")
    query = RequestFilter(
        numbers=_list(q.get("service_request_id"))[:MAX_RESULTS],
        category_ids=[catalog.categories[c].id for c in codes],
        start=start,
        end=end,
        statuses=statuses,
        limit=MAX_RESULTS,
    )
    async with app.sessions() as session:
        cases = await service_requests(session, query)
    return _requests_response(request, app, fmt, cases)


def _requests_response(request: web.Request, app: App, fmt: str, cases: list[Any]) -> web.Response:
    locale = _locale(request, app)
    _ = translator(locale)
    catalog = app.casework.catalog
    body = [fields.service_request(c, catalog, app.settings, locale, _) for c in cases]
    return respond(fmt, "service_requests", body)


@endpoint
async def get_request(request: web.Request, app: App, fmt: str) -> web.Response:
    number = request.match_info["id"]
    async with app.sessions() as session:
        case = await service_request(session, number)
    if case is None:
        raise Open311Error(404, f"service_request_id {number} was not found")
    return _requests_response(request, app, fmt, [case])


@endpoint
async def token(request: web.Request, app: App, fmt: str) -> web.Response:
    """Requests are created in real time, so a token is the service_request_id itself."""
    value = request.match_info["token"]
    async with app.sessions() as session:
        case = await service_request(session, value)
    if case is None:
        raise Open311Error(404, f"token {value} was not found")
    return respond(fmt, "service_requests", [{"service_request_id": case.number, "token": value}])


def setup(webapp: web.Application) -> None:
    r = webapp.router
    suffix = f".{{fmt:{FORMATS}}}"
    r.add_get(f"{PREFIX}/discovery{suffix}", discovery)
    r.add_get(f"{PREFIX}/services{suffix}", services)
    r.add_get(f"{PREFIX}/services/{{code:[^/.]+}}{suffix}", service_definition)
    r.add_get(f"{PREFIX}/requests{suffix}", list_requests)
    r.add_post(f"{PREFIX}/requests{suffix}", create_request)
    r.add_get(f"{PREFIX}/requests/{{id:[^/.]+}}{suffix}", get_request)
    r.add_get(f"{PREFIX}/tokens/{{token:[^/.]+}}{suffix}", token)
