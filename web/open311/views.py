"""The Open311 GeoReport v2 endpoints under /open311/v2/, in JSON and XML."""

import asyncio
import hashlib
import math
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web
from multidict import MultiMapping

from dispatch.core.errors import DomainError, NotFound, OutsideJurisdiction, explain
from dispatch.intake import MAX_DESCRIPTION, PhotoRef, ReportDraft
from dispatch.queries.service_requests import RequestFilter, service_request, service_requests
from dispatch.registration import api_key_for
from dispatch.supervision.followup import link_tokens
from models import ApiKey, Category
from models.enums import LocationStatus
from web.context import WebContext, context_of
from web.i18n import choose_locale, translator
from web.media import UploadRejected, discard, store_image
from web.open311 import fields
from web.open311.form import Open311Form, read_form
from web.open311.render import FORMATS, Open311Error, error_response, respond

PREFIX = "/open311/v2"
SPEC_URL = "http://wiki.open311.org/GeoReport_v2"
MAX_RESULTS = 1000
MIN_YEAR, MAX_YEAR = 1970, 2999  # the dates a filter may name
IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,255}")
DEFAULT_RANGE = timedelta(days=90)
CONTACT_FIELDS = ("email", "phone", "first_name", "last_name", "device_id", "account_id")
ATTRIBUTE_KEY = re.compile(r"^attribute\[([^\]]+)\](\[\])?$")

Handler = Callable[[web.Request, WebContext, str], Awaitable[web.Response]]


def endpoint(handler: Handler) -> Callable[[web.Request], Awaitable[web.Response]]:
    """Runs a handler and answers its failures as the spec's error list, in its format."""

    async def wrapped(request: web.Request) -> web.Response:
        fmt = request.match_info["fmt"]
        ctx = context_of(request)
        locale = choose_locale(request, ctx.settings.default_locale)
        try:
            return await handler(request, ctx, fmt)
        except Open311Error as exc:
            return error_response(fmt, exc)
        except NotFound as exc:
            return error_response(fmt, Open311Error(404, explain(exc, locale)))
        except DomainError as exc:
            return error_response(fmt, Open311Error(400, explain(exc, locale)))

    return wrapped


def error_answer(request: web.Request, status: int, message: str) -> web.Response:
    """An error met outside the handlers (an unreadable request), as the spec's error list."""
    fmt = "xml" if request.path.endswith(".xml") else "json"
    return error_response(fmt, Open311Error(status, message))


def _locale(request: web.Request, ctx: WebContext) -> str:
    return choose_locale(request, ctx.settings.default_locale)


def _service_category(ctx: WebContext, code: str) -> Category:
    category = ctx.casework.catalog.categories.get(code)
    if category is None or not category.active or category.parent_code is None:
        raise Open311Error(404, f"service_code {code} was not found")
    return category


@endpoint
async def discovery(request: web.Request, ctx: WebContext, fmt: str) -> web.Response:
    base = ctx.settings.public_url.rstrip("/") + PREFIX
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
async def services(request: web.Request, ctx: WebContext, fmt: str) -> web.Response:
    catalog = ctx.casework.catalog
    locale = _locale(request, ctx)
    listed = sorted(
        (c for c in catalog.categories.values() if c.active and c.parent_code is not None),
        key=lambda c: c.code,
    )
    return respond(fmt, "services", [fields.service(c, catalog, locale) for c in listed])


@endpoint
async def service_definition(request: web.Request, ctx: WebContext, fmt: str) -> web.Response:
    category = _service_category(ctx, request.match_info["code"])
    return respond(fmt, "service_definition", fields.service_definition(category))


def _attributes(category: Category, form: MultiMapping[str]) -> list[str]:
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


def _coordinate(form: MultiMapping[str], name: str) -> float:
    try:
        return float(form[name])
    except (KeyError, TypeError, ValueError):
        raise Open311Error(400, f"{name} must be a number") from None


async def _photos(ctx: WebContext, form: Open311Form) -> list[PhotoRef]:
    photos = []
    if form.media is not None:
        try:
            data = form.media.read()
            photos.append(await asyncio.to_thread(store_image, ctx.settings, data, "open311"))
        except UploadRejected as exc:
            raise Open311Error(400, f"media: {exc}") from None
    link = form.fields.get("media_url", "").strip()
    if link:
        if not re.match(r"^https?://", link) or len(link) > 255:
            raise Open311Error(400, "media_url must be an http(s) URL of at most 255 characters")
        photos.append(PhotoRef("url", link, "image/*"))
    return photos


def _idempotency_ref(request: web.Request, api_key: ApiKey) -> str | None:
    """The case's external reference for the client's Idempotency-Key: a repeat of the key
    (by the same client) finds the case the first request created."""
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    if not IDEMPOTENCY_KEY.fullmatch(key):
        raise Open311Error(400, "Idempotency-Key must be 1 to 255 printable ASCII characters")
    return "open311:" + hashlib.sha256(f"{api_key.id}:{key}".encode()).hexdigest()[:48]


@endpoint
async def create_request(request: web.Request, ctx: WebContext, fmt: str) -> web.Response:
    """The api_key is checked before the body is read when it is in the query string, and as
    soon as its field arrives in a multipart body."""
    found: list[ApiKey] = []

    async def check_key(key: str) -> bool:
        async with ctx.sessions() as session:
            api_key = await api_key_for(session, key) if key else None
        found[:] = [api_key] if api_key else []
        return api_key is not None

    refused = Open311Error(403, "Invalid api_key received -- can't proceed with create_request.")
    in_query = request.query.get("api_key")
    if in_query is not None and not await check_key(in_query):
        raise refused
    form = await read_form(request, check_key, ctx.settings.max_upload_bytes)
    try:
        if in_query is None and not form.key_checked:
            await check_key(form.fields.get("api_key", ""))
        if not found:
            raise refused
        return await _create(request, ctx, fmt, form, found[0])
    finally:
        form.close()


async def _create(
    request: web.Request, ctx: WebContext, fmt: str, form: Open311Form, api_key: ApiKey
) -> web.Response:
    fields_ = form.fields
    code = fields_.get("service_code", "").strip()
    if not code:
        raise Open311Error(400, "service_code was not provided")
    category = _service_category(ctx, code)
    if not fields_.get("lat") or not fields_.get("long"):
        raise Open311Error(
            400, "lat and long are required: this endpoint does not geocode addresses"
        )
    lat, lon = _coordinate(fields_, "lat"), _coordinate(fields_, "long")
    description = fields_.get("description", "")
    if len(description) > MAX_DESCRIPTION:
        raise Open311Error(400, f"description is longer than {MAX_DESCRIPTION} characters")
    extra = _attributes(category, fields_)
    description = "\n".join([description.strip(), *extra]).strip()
    if len(description) > MAX_DESCRIPTION:
        raise Open311Error(
            400, f"description and attributes together are longer than {MAX_DESCRIPTION} characters"
        )
    contact: dict[str, Any] = {
        name: fields_[name] for name in CONTACT_FIELDS if fields_.get(name, "").strip()
    }
    contact["client"] = api_key.name
    draft = ReportDraft(
        source=api_key.source,
        lon=lon,
        lat=lat,
        category_code=category.code,
        description=description,
        address=fields_.get("address_string", ""),
        reporter_contact=contact,
        external_ref=_idempotency_ref(request, api_key),
    )
    draft.validate()  # before any upload is stored
    location = ctx.casework.directory.locate(lon, lat)
    if location is None or location.status == LocationStatus.OUTSIDE:
        raise OutsideJurisdiction(lon=lon, lat=lat)
    draft.photos = await _photos(ctx, form)
    try:
        result = await ctx.casework.intake.report(draft)
    except BaseException:
        discard(ctx.settings, draft.photos)  # no report refers to them
        raise
    if not result.created:
        discard(ctx.settings, draft.photos)  # a repeat: the first request's case stands
    first_contact = result.case.reporter_contact or {}
    return respond(
        fmt,
        "service_requests",
        [
            {
                "service_request_id": result.case.number,
                "service_notice": None,
                "account_id": first_contact.get("account_id"),
            }
        ],
    )


def _date(value: str | None, name: str, tz: ZoneInfo) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace(" ", "+"))
        parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)
        parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        raise Open311Error(
            400, f"{name} is not a w3 date-time, e.g. 2010-01-01T00:00:00Z"
        ) from None
    if not MIN_YEAR <= parsed.year <= MAX_YEAR:
        raise Open311Error(400, f"{name} must lie between {MIN_YEAR} and {MAX_YEAR}")
    return parsed


def _list(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


@endpoint
async def list_requests(request: web.Request, ctx: WebContext, fmt: str) -> web.Response:
    q = request.query
    tz = ctx.settings.tz
    start, end = (
        _date(q.get("start_date"), "start_date", tz),
        _date(q.get("end_date"), "end_date", tz),
    )
    if start and end and end < start:
        raise Open311Error(400, "end_date is before start_date")
    if start and end and end - start > DEFAULT_RANGE:
        raise Open311Error(400, "the date range may not span more than 90 days")
    if end is None:
        end = start + DEFAULT_RANGE if start else ctx.now()
    start = start or end - DEFAULT_RANGE
    statuses = _list(q.get("status"))
    if any(s not in ("open", "closed") for s in statuses):
        raise Open311Error(400, "status must be open or closed")
    codes = _list(q.get("service_code"))
    catalog = ctx.casework.catalog
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
    async with ctx.sessions() as session:
        cases = await service_requests(session, query)
    return await _requests_response(request, ctx, fmt, cases)


async def _requests_response(
    request: web.Request, ctx: WebContext, fmt: str, cases: list[Any]
) -> web.Response:
    locale = _locale(request, ctx)
    _ = translator(locale)
    catalog = ctx.casework.catalog
    async with ctx.sessions() as session:
        tokens = await link_tokens(session, [c.number for c in cases])
    now = ctx.now()
    body = [
        fields.service_request(c, catalog, ctx.settings, now, locale, _, tokens.get(c.number))
        for c in cases
    ]
    return respond(fmt, "service_requests", body)


@endpoint
async def get_request(request: web.Request, ctx: WebContext, fmt: str) -> web.Response:
    number = request.match_info["id"]
    async with ctx.sessions() as session:
        case = await service_request(session, number)
    if case is None:
        raise Open311Error(404, f"service_request_id {number} was not found")
    return await _requests_response(request, ctx, fmt, [case])


@endpoint
async def token(request: web.Request, ctx: WebContext, fmt: str) -> web.Response:
    """Requests are created in real time, so a token is the service_request_id itself."""
    value = request.match_info["token"]
    async with ctx.sessions() as session:
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
