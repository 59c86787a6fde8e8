"""Uploaded photos: checked, stored under the media directory, linked by a public URL."""

import uuid
from pathlib import Path

from aiohttp import web

from dispatch.intake import PhotoRef
from gridgov.settings import Settings

MEDIA_PREFIX = "/media/"
# The image types accepted, recognised by their first bytes rather than the client's word.
SIGNATURES = {
    b"\xff\xd8\xff": ("image/jpeg", "jpg"),
    b"\x89PNG\r\n\x1a\n": ("image/png", "png"),
    b"GIF87a": ("image/gif", "gif"),
    b"GIF89a": ("image/gif", "gif"),
}


class UploadRejected(ValueError):
    pass


def _sniff(data: bytes) -> tuple[str, str]:
    for magic, kind in SIGNATURES.items():
        if data.startswith(magic):
            return kind
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp", "webp"
    raise UploadRejected("only JPEG, PNG, GIF and WebP images are accepted")


def save_upload(settings: Settings, field: web.FileField, folder: str) -> PhotoRef:
    """Stores one uploaded image under `media_dir/folder/` with a random name."""
    data = field.file.read(settings.max_upload_bytes + 1)
    if len(data) > settings.max_upload_bytes:
        raise UploadRejected(f"the file is larger than {settings.max_upload_bytes} bytes")
    if not data:
        raise UploadRejected("the file is empty")
    content_type, ext = _sniff(data)
    ref = f"{folder}/{uuid.uuid4().hex}.{ext}"
    path = Path(settings.media_dir) / ref
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return PhotoRef("local", ref, content_type, len(data))


def media_url(settings: Settings, storage: str, ref: str) -> str | None:
    """A URL for an attachment anyone may fetch: local files and links given by a client."""
    if storage == "local":
        return f"{settings.public_url.rstrip('/')}{MEDIA_PREFIX}{ref}"
    if storage == "url":
        return ref
    return None
