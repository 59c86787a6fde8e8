"""No request answers 500 for what it carries: bad input anywhere (a NUL byte, an unknown
charset, undecodable bytes, a malformed body) is answered 400 in the caller's terms (the
Open311 error list, the console's error page), and logged as one line. A real fault is logged
once, compactly (its type, message and where it was raised), never as a traceback a scanner
could repeat until the disk is full."""

import logging
import traceback
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from sqlalchemy.exc import DataError

from dispatch.core.errors import InvalidInput

log = logging.getLogger("gridgov.web")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Answer = Callable[[web.Request, int, str], web.StreamResponse]


class BadRequest(ValueError):
    """Input the server cannot read; the message says what was wrong."""


# What reading a request can raise on input the client got wrong: undecodable text, a number
# or date out of range, a value the database refuses, a malformed multipart part (aiohttp's
# parser errors), an unknown charset (a bare LookupError).
BAD_INPUT = (ValueError, InvalidInput, OverflowError, DataError, HttpProcessingError)


def check_text(value: str, name: str) -> str:
    """PostgreSQL cannot store a NUL character; nobody needs to send one."""
    if "\x00" in value:
        raise BadRequest(f"{name} contains a NUL character")
    return value


def error_middleware(answers: dict[str, Answer]) -> Callable[..., Awaitable[web.StreamResponse]]:
    """`answers`: how a path prefix answers an error (status, message); others get text."""

    def answer(request: web.Request, status: int, message: str) -> web.StreamResponse:
        for prefix, respond in answers.items():
            if request.path.startswith(prefix):
                return respond(request, status, message)
        return web.Response(status=status, text=message)

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            check_text(request.path, "the path")
            for name, value in request.query.items():
                check_text(f"{name}={value}", "the query")
            return await handler(request)
        except web.HTTPException:
            raise
        except Exception as exc:
            if not _is_bad_input(exc):
                _log_fault(request, exc)
                return answer(request, 500, "internal error")
            log.info("400 %s %s: %s", request.method, request.path_qs[:200], _one_line(exc))
            return answer(request, 400, _message(exc))

    return middleware


def _is_bad_input(exc: Exception) -> bool:
    return isinstance(exc, BAD_INPUT) or type(exc) is LookupError


def _log_fault(request: web.Request, exc: Exception) -> None:
    frame = traceback.extract_tb(exc.__traceback__)[-1]
    log.error(
        "500 %s %s: %s at %s:%s",
        request.method,
        request.path_qs[:200],
        _one_line(exc),
        frame.filename,
        frame.lineno,
    )


def _one_line(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {str(exc)[:200]}".replace("\n", " ")


def _message(exc: BaseException) -> str:
    if isinstance(exc, BadRequest):
        return str(exc)
    if isinstance(exc, UnicodeError):
        return "the request is not valid UTF-8 (or its declared charset)"
    if type(exc) is LookupError:
        return "the request declares an unknown charset"
    if isinstance(exc, DataError):
        return "a value in the request is out of range"
    if isinstance(exc, HttpProcessingError):
        return f"the body cannot be read: {exc.message}"
    return f"invalid input: {str(exc)[:200]}"


class OneLineParserErrors(logging.Filter):
    """aiohttp's HTTP parser answers a malformed request itself (400: a line too long, a bad
    header) and logs it with a traceback; this keeps it to one line."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, HttpProcessingError):
            record.msg, record.args = "400 malformed request: %s", (_one_line(error),)
            record.exc_info, record.exc_text = None, None
            record.levelno, record.levelname = logging.INFO, "INFO"
        return True


def quiet_parser_errors() -> None:
    server_log = logging.getLogger("aiohttp.server")
    if not any(isinstance(f, OneLineParserErrors) for f in server_log.filters):
        server_log.addFilter(OneLineParserErrors())
