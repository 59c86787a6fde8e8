"""Reading the body of an Open311 POST without trusting it: text fields are small and held
in memory, the one photo is spooled to disk, and the api_key is checked as soon as it is
known (before the body is read when it comes in the query string; as soon as its field
arrives in a multipart body), so that a wrong key costs the server no more than that."""

import codecs
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import IO
from urllib.parse import parse_qsl

from aiohttp import BodyPartReader, web
from multidict import MultiDict

from web.errors import BadRequest, check_text
from web.open311.render import Open311Error

TEXT_LIMIT = 64 * 1024  # every text field together; a description is at most 4,000 characters
SPOOL_IN_MEMORY = 256 * 1024
FORM = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"
KeyCheck = Callable[[str], Awaitable[bool]]


@dataclass
class Upload:
    file: IO[bytes]
    size: int

    def read(self) -> bytes:
        self.file.seek(0)
        return self.file.read()


@dataclass
class Open311Form:
    fields: MultiDict[str] = field(default_factory=MultiDict)
    media: Upload | None = None
    key_checked: bool = False  # the api_key field was checked on the way

    def close(self) -> None:
        if self.media:
            self.media.file.close()


def _decode(data: bytes, charset: str | None, name: str) -> str:
    try:
        return check_text(data.decode(codecs.lookup(charset or "utf-8").name), name)
    except LookupError:
        raise BadRequest(f"unknown charset {charset}") from None
    except UnicodeDecodeError:
        raise BadRequest(f"{name} is not valid {charset or 'utf-8'}") from None


async def read_form(request: web.Request, check_key: KeyCheck, max_upload: int) -> Open311Form:
    """The fields of a form or multipart body. Raises Open311Error 403 for a wrong api_key
    met in the body, 413 for a body over the limits, BadRequest for one that cannot be read."""
    if request.content_type == MULTIPART:
        return await _multipart(request, check_key, max_upload)
    if request.content_type not in (FORM, ""):
        raise Open311Error(400, f"the body must be {FORM} or {MULTIPART}")
    if (request.content_length or 0) > TEXT_LIMIT:
        raise Open311Error(413, f"the form is larger than {TEXT_LIMIT} bytes")
    body = await request.content.read(TEXT_LIMIT + 1)
    if len(body) > TEXT_LIMIT:
        raise Open311Error(413, f"the form is larger than {TEXT_LIMIT} bytes")
    text = _decode(body, request.charset, "the form")
    try:
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=False)
    except ValueError as exc:
        raise BadRequest(f"the form cannot be read: {exc}") from None
    for name, value in pairs:
        check_text(f"{name}={value}", "the form")
    return Open311Form(MultiDict(pairs))


async def _multipart(request: web.Request, check_key: KeyCheck, max_upload: int) -> Open311Form:
    try:
        reader = await request.multipart()
    except (ValueError, AssertionError, KeyError) as exc:
        raise BadRequest(f"the multipart body cannot be read: {exc}") from None
    form = Open311Form()
    text_size = 0
    try:
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader) or not part.name:
                raise BadRequest("a multipart field has no name")
            if part.name == "media" and part.filename is not None:
                if form.media is not None:
                    raise Open311Error(400, "media: one photo per request")
                form.media = await _spool(part, max_upload)
                continue
            data = bytearray()
            while chunk := await part.read_chunk():
                data += chunk
                if text_size + len(data) > TEXT_LIMIT:
                    raise Open311Error(413, f"the text fields are larger than {TEXT_LIMIT} bytes")
            text_size += len(data)
            value = _decode(bytes(data), part.get_charset(None), part.name)
            form.fields.add(check_text(part.name, "a field name"), value)
            if part.name == "api_key" and not form.key_checked:
                if not await check_key(value):
                    raise Open311Error(403, "Invalid api_key received -- can't proceed.")
                form.key_checked = True
    except BaseException:
        form.close()
        raise
    return form


async def _spool(part: BodyPartReader, max_upload: int) -> Upload:
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115 (returned)
    size = 0
    try:
        while chunk := await part.read_chunk():
            size += len(chunk)
            if size > max_upload:
                raise Open311Error(400, f"media: the file is larger than {max_upload} bytes")
            spool.write(chunk)
    except BaseException:
        spool.close()
        raise
    return Upload(spool, size)
