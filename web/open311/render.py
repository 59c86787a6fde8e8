"""Open311 responses in JSON and XML. The XML follows the spec's element names; the JSON is
its Spark-convention mapping (lists become arrays, empty elements become null)."""

import json
import re
from typing import Any
from xml.etree import ElementTree as ET

from aiohttp import web

FORMATS = "json|xml"
# The element name of one item in each list, by the list's element name.
ITEMS = {
    "services": "service",
    "attributes": "attribute",
    "values": "value",
    "service_requests": "request",
    "errors": "error",
    "endpoints": "endpoint",
    "formats": "format",
}
# Characters that XML 1.0 cannot carry, even escaped.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class Open311Error(Exception):
    """An error answered as the spec's error list."""

    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return _XML_INVALID.sub("", str(value))


def _element(name: str, value: Any) -> ET.Element:
    element = ET.Element(name)
    if isinstance(value, list):
        item = ITEMS[name]
        element.extend(_element(item, v) for v in value)
    elif isinstance(value, dict):
        element.extend(_element(k, v) for k, v in value.items())
    else:
        element.text = _text(value)
    return element


def to_xml(root: str, value: Any) -> str:
    body = ET.tostring(_element(root, value), encoding="unicode")
    return f'<?xml version="1.0" encoding="utf-8"?>\n{body}'


def respond(fmt: str, root: str, value: Any, status: int = 200) -> web.Response:
    if fmt == "xml":
        return web.Response(
            text=to_xml(root, value), status=status, content_type="text/xml", charset="utf-8"
        )
    return web.Response(
        text=json.dumps(value, ensure_ascii=False),
        status=status,
        content_type="application/json",
        charset="utf-8",
    )


def error_response(fmt: str, error: Open311Error) -> web.Response:
    return respond(
        fmt, "errors", [{"code": error.status, "description": error.description}], error.status
    )
