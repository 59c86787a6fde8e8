"""A new case written with SQLAlchemy Core: the case row as it ends up after the steps of its
unit of work, its number made in the same statement, then its events in one multi-row insert
and its photos. The ORM's flush and its bookkeeping cost more than the rows themselves on the
busiest write path (report intake)."""

from typing import Any

from sqlalchemy import Insert, String, Text, bindparam, cast, func, insert, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached

from dispatch.intake import PhotoRef
from models import Attachment, Case, CaseEvent

_CASES = Case.__table__
# Every column the report gives or the lifecycle sets; the id and the number are made by the
# insert itself.
_WRITTEN = [a.key for a in sa_inspect(Case).column_attrs if a.key not in ("id", "number")]
# What a case starts with when the report says nothing (escalation level 0, version 1...).
_STARTING = {
    c.key: c.default.arg
    for c in _CASES.columns
    if c.default is not None and c.default.is_scalar and c.key != "id"
}


def new_case(**values: Any) -> Case:
    """A case not yet written, every column set (None where nothing is known yet), so the
    lifecycle can run on it and, once written, it reads like a case loaded from the table."""
    case = Case(**{**dict.fromkeys(_WRITTEN), **_STARTING, **values})
    case.attachments = []
    return case


def _insert_case(dialect: str) -> Insert:
    """INSERT ... SELECT of the case with its id from the table's sequence and its number,
    the office's date then the id in at least six digits, in one statement."""
    if dialect == "postgresql":
        new_id = func.nextval("cases_id_seq")
    else:  # SQLite writes one transaction at a time: the next id is max + 1
        new_id = select(func.coalesce(func.max(_CASES.c.id), 0) + 1).scalar_subquery()
    n = select(new_id.label("id")).subquery("n")
    if dialect == "postgresql":
        digits = cast(n.c.id, Text)
        digits = func.lpad(digits, func.greatest(6, func.length(digits)), "0")
    else:
        digits = func.printf("%06d", n.c.id)
    number = bindparam("day", type_=String()).concat(digits)
    values = [bindparam(key, type_=_CASES.c[key].type) for key in _WRITTEN]
    if dialect == "postgresql":  # a parameter in a select list has no type of its own there
        values = [cast(value, value.type) for value in values]
    return (
        insert(_CASES)
        .from_select(["id", "number", *_WRITTEN], select(n.c.id, number, *values))
        .returning(_CASES.c.id, _CASES.c.number)
    )


_INSERT_CASE = {dialect: _insert_case(dialect) for dialect in ("postgresql", "sqlite")}
# Table inserts, not the ORM's bulk insert of entities: plain rows in, ids out.
_EVENTS = CaseEvent.__table__
_INSERT_EVENTS = insert(_EVENTS).returning(_EVENTS.c.id, sort_by_parameter_order=True)
_INSERT_ATTACHMENTS = insert(Attachment.__table__)


async def write_new_case(
    session: AsyncSession,
    case: Case,
    day: str,
    events: list[dict[str, Any]],
    photos: list[PhotoRef],
) -> None:
    """Writes the case (`day`: YYYYMMDD in the office's time zone, the start of its number),
    its events in order (the first one brings the photos) and its photos. The case object
    gets its id and number and then behaves like a case loaded and detached after commit.
    The same report sent again fails here on the unique (source, external_ref)."""
    state = sa_inspect(case).dict
    connection = await session.connection()  # Core statements need none of the ORM's session
    row = (
        await connection.execute(
            _INSERT_CASE[connection.dialect.name],
            {"day": day, **{key: state[key] for key in _WRITTEN}},
        )
    ).one()
    case.id, case.number = row.id, row.number
    for event in events:
        event["case_id"] = case.id
    event_ids = (await connection.execute(_INSERT_EVENTS, events)).scalars().all()
    if photos:
        attachments = [
            {
                "case_id": case.id,
                "event_id": event_ids[0],
                "purpose": "report",
                "storage": photo.storage,
                "ref": photo.ref,
                "content_type": photo.content_type,
                "size_bytes": photo.size_bytes,
            }
            for photo in photos
        ]
        await connection.execute(_INSERT_ATTACHMENTS, attachments)
        case.attachments = [Attachment(**values) for values in attachments]
    make_transient_to_detached(case)
