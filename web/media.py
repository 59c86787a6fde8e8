"""Uploaded photos: decoded and re-encoded (so that nothing but the picture is stored), kept
under the media directory, and served only to console users or through a signed, expiring
link."""

import asyncio
import hashlib
import hmac
import io
import mimetypes
import uuid
from datetime import datetime

from aiohttp import web
from PIL import Image, ImageOps, UnidentifiedImageError

from dispatch.intake import PhotoRef
from web.context import WebSettings, context_of

MEDIA_PREFIX = "/media/"
MAX_PIXELS = 40_000_000  # larger pictures are refused before they are decoded
# The formats accepted, and what they are stored as: a JPEG stays a JPEG, the rest become PNG.
FORMATS = {"JPEG": ("JPEG", "image/jpeg", "jpg"), "PNG": ("PNG", "image/png", "png")}
ACCEPTED = ("JPEG", "PNG", "GIF", "WEBP")


class UploadRejected(ValueError):
    pass


def reencode(data: bytes) -> tuple[bytes, str, str]:
    """The picture alone, encoded again: (bytes, content type, extension). Whatever a file
    carries besides the picture (HTML after a JPEG's magic bytes, metadata with the
    reporter's GPS position) does not survive."""
    if not data:
        raise UploadRejected("the file is empty")
    try:
        with Image.open(io.BytesIO(data), formats=ACCEPTED) as image:
            if image.width * image.height > MAX_PIXELS:
                raise UploadRejected("the picture has too many pixels")
            image.load()
            picture = ImageOps.exif_transpose(image)
            kind = image.format or ""
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError):
        raise UploadRejected("only JPEG, PNG, GIF and WebP images are accepted") from None
    fmt, content_type, ext = FORMATS.get(kind, FORMATS["PNG"])
    if fmt == "JPEG" and picture.mode not in ("RGB", "L"):
        picture = picture.convert("RGB")
    if fmt == "PNG" and picture.mode not in ("RGB", "RGBA", "L", "LA", "P"):
        picture = picture.convert("RGBA")
    out = io.BytesIO()
    picture.save(out, fmt, **({"quality": 90} if fmt == "JPEG" else {}))
    return out.getvalue(), content_type, ext


def store_image(settings: WebSettings, data: bytes, folder: str) -> PhotoRef:
    """Re-encodes one uploaded picture and stores it under `media_dir/folder/` with a random
    name. The caller removes it (`discard`) if the report it belongs to is not written."""
    if len(data) > settings.max_upload_bytes:
        raise UploadRejected(f"the file is larger than {settings.max_upload_bytes} bytes")
    picture, content_type, ext = reencode(data)
    ref = f"{folder}/{uuid.uuid4().hex}.{ext}"
    path = settings.media_dir / ref
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(picture)
    return PhotoRef("local", ref, content_type, len(picture))


async def store_upload(settings: WebSettings, upload: web.FileField, folder: str) -> PhotoRef:
    """`store_image` for a file of a parsed form, off the event loop."""
    data = upload.file.read(settings.max_upload_bytes + 1)
    return await asyncio.to_thread(store_image, settings, data, folder)


def discard(settings: WebSettings, photos: list[PhotoRef]) -> None:
    """Removes stored files whose report was not written."""
    for photo in photos:
        if photo.storage == "local":
            (settings.media_dir / photo.ref).unlink(missing_ok=True)


def _signature(settings: WebSettings, ref: str, expires: int) -> str:
    message = f"{ref}\n{expires}".encode()
    return hmac.new(settings.media_link_secret, message, hashlib.sha256).hexdigest()[:32]


def signed_url(settings: WebSettings, ref: str, now: datetime) -> str:
    """A link to a stored photo for someone without a console session (an Open311 client),
    valid for `media_link_ttl`."""
    expires = int((now + settings.media_link_ttl).timestamp())
    signature = _signature(settings, ref, expires)
    return f"{settings.public_url.rstrip('/')}{MEDIA_PREFIX}{ref}?expires={expires}&sig={signature}"


def _signed_ok(settings: WebSettings, request: web.Request, ref: str, now: datetime) -> bool:
    try:
        expires = int(request.query.get("expires", ""))
    except ValueError:
        return False
    given = request.query.get("sig", "")
    return expires > now.timestamp() and hmac.compare_digest(
        _signature(settings, ref, expires), given
    )


CONSOLE_MEDIA_PREFIX = "/console/media/"


def console_url(ref: str) -> str:
    """A stored photo's address on console pages, behind the console's log-in."""
    return f"{CONSOLE_MEDIA_PREFIX}{ref}"


def _file(settings: WebSettings, ref: str) -> web.FileResponse:
    root = settings.media_dir.resolve()
    path = (root / ref).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        raise web.HTTPNotFound()
    response = web.FileResponse(path)
    response.content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


async def serve_signed(request: web.Request) -> web.StreamResponse:
    """GET /media/{ref}?expires=…&sig=…: a photo through a signed, unexpired link."""
    ctx = context_of(request)
    ref = request.match_info["ref"]
    if not _signed_ok(ctx.settings, request, ref, ctx.now()):
        raise web.HTTPForbidden(text="this link is not valid (or no longer)")
    return _file(ctx.settings, ref)


async def serve_console(request: web.Request) -> web.StreamResponse:
    """GET /console/media/{ref}: a photo for a logged-in console user (the console's
    middleware has checked the session)."""
    return _file(context_of(request).settings, request.match_info["ref"])
