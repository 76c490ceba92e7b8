"""Photos taken on a phone (a signed form, a household register): recognised by their
own bytes, never by the name or type the browser claims, and kept in the instance folder
under a random name that is the only way back to them."""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from broker.platform import runtime
from broker.platform.errors import Invalid, NotFound

MAX_BYTES = 8 * 1024 * 1024  # a phone photo is 2-6 MB
IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp", "image/heic")
_HEIF_BRANDS = (b"heic", b"heix", b"heim", b"heis", b"hevc", b"mif1", b"msf1")


@dataclass(frozen=True)
class Kept:
    """A photo kept on disk: the token that finds it, and what it is."""

    token: str
    content_type: str
    size: int
    sha256: str


def image_type(data: bytes) -> str | None:
    """The image type of these bytes (JPEG, PNG, WebP, HEIC), or None if not an image."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[4:8] == b"ftyp" and data[8:12] in _HEIF_BRANDS:
        return "image/heic"
    return None


def _path(folder: str, token: str) -> Path:
    return Path(runtime.settings()["INSTANCE_PATH"]) / folder / token[:2] / token


def checked(data: bytes, field: str = "file") -> str:
    """The image type of ``data`` if it is a photo of a sane size (422 ``file_empty``,
    ``file_too_large``, ``not_an_image`` otherwise, naming ``field``)."""
    if not data:
        raise Invalid("The file is empty.", code="file_empty", details={field: ["empty file"]})
    if len(data) > MAX_BYTES:
        raise Invalid(
            f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB.",
            code="file_too_large",
            details={field: ["file too large"], "max_bytes": MAX_BYTES, "size": len(data)},
        )
    content_type = image_type(data)
    if content_type is None:
        raise Invalid(
            "Only a photo or a scanned image (JPEG, PNG, WebP, HEIC) can be kept.",
            code="not_an_image",
            details={field: ["not an image"]},
        )
    return content_type


def store(folder: str, data: bytes, content_type: str) -> Kept:
    """Write checked bytes under ``folder`` with a random name (whole or not at all)."""
    token = secrets.token_hex(32)
    path = _path(folder, token)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.part")
    tmp.write_bytes(data)
    tmp.replace(path)
    return Kept(token=token, content_type=content_type, size=len(data), sha256=hashlib.sha256(data).hexdigest())


def keep(folder: str, data: bytes, field: str = "file") -> Kept:
    """Check that ``data`` is a photo (:func:`checked`) and write it under ``folder``."""
    return store(folder, data, checked(data, field))


def remove(folder: str, token: str) -> None:
    """Delete a kept photo (an erasure); one already gone is fine, so a rerun is safe."""
    _path(folder, token).unlink(missing_ok=True)


def read(folder: str, token: str, sha256: str) -> bytes:
    """The bytes of a kept photo; one missing (404) or changed on disk (422) is refused."""
    try:
        data = _path(folder, token).read_bytes()
    except FileNotFoundError:
        raise NotFound("The stored file is missing.", code="file_missing") from None
    if hashlib.sha256(data).hexdigest() != sha256:
        raise Invalid("The stored file no longer matches its recorded SHA-256.", code="file_changed")
    return data
