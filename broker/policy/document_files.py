"""Scans and photos of an application's checklist documents (a phone camera's picture
of the household register, a hospital's diagnosis): checked to be an image of a sane
size by its own bytes (never by the name or type the browser claims), kept in the
instance folder under a random name, and read back only by those who may see the
household. Adding a file ticks its document on the checklist; both are on the audit
chain."""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from broker import audit
from broker.platform import runtime
from broker.platform.errors import Conflict, Invalid, NotFound, found
from broker.platform.scope import Principal
from broker.policy.applications import get_application, open_checklist, tick_documents
from models import ApplicationFile

FOLDER = "application_files"
MAX_BYTES = 8 * 1024 * 1024  # a phone photo is 2-6 MB
MAX_FILES_PER_DOCUMENT = 10
# What a phone camera or a scanner gives, by the first bytes of the file.
IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp", "image/heic")
_HEIF_BRANDS = (b"heic", b"heix", b"heim", b"heis", b"hevc", b"mif1", b"msf1")


@dataclass(frozen=True)
class Upload:
    filename: str
    data: bytes


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


def _path(token: str) -> Path:
    return Path(runtime.settings()["INSTANCE_PATH"]) / FOLDER / token[:2] / token


def add_file(
    session: Session, principal: Principal, application_id: int, document_code: str, upload: Upload
) -> ApplicationFile:
    """Keep a photo or scan of one checklist document and tick the document. Refused:
    an empty or too large file (422 ``file_too_large``), anything but an image (422
    ``not_an_image``), a document not on the checklist (422), a checklist already
    closed (409)."""
    app, policy = open_checklist(session, principal, application_id)
    if document_code not in policy.document_codes():
        raise Invalid(
            f"Not on the {policy.name} checklist: {document_code}.",
            code="unknown_document",
            details={"document": [f"not on the checklist; known: {', '.join(policy.document_codes())}"]},
        )
    data = upload.data
    if not data:
        raise Invalid("The file is empty.", code="file_empty", details={"file": ["empty file"]})
    if len(data) > MAX_BYTES:
        raise Invalid(
            f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB.",
            code="file_too_large",
            details={"file": ["file too large"], "max_bytes": MAX_BYTES, "size": len(data)},
        )
    content_type = image_type(data)
    if content_type is None:
        raise Invalid(
            "Only a photo or a scanned image (JPEG, PNG, WebP, HEIC) can be kept with a document.",
            code="not_an_image",
            details={"file": ["not an image"]},
        )
    count = len(files_of(session, app.id, document_code))
    if count >= MAX_FILES_PER_DOCUMENT:
        raise Conflict(
            f"A document keeps at most {MAX_FILES_PER_DOCUMENT} files.",
            code="too_many_files",
            details={"document": document_code, "max_files": MAX_FILES_PER_DOCUMENT},
        )
    token = secrets.token_hex(32)
    path = _path(token)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.part")
    tmp.write_bytes(data)
    tmp.replace(path)
    record = ApplicationFile(
        application_id=app.id,
        document_code=document_code,
        token=token,
        filename=os.path.basename((upload.filename or "").replace("\\", "/"))[:200],
        content_type=content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        uploaded_by_id=principal.user_id,
    )
    session.add(record)
    session.flush()
    audit.record(
        session,
        "application.file_added",
        app,
        household_id=app.household_id,
        after={
            "file_id": record.id,
            "document": document_code,
            "content_type": content_type,
            "size": record.size,
            "sha256": record.sha256,
        },
    )
    tick_documents(session, principal, app.id, {document_code: True})
    return record


def files_of(session: Session, application_id: int, document_code: str | None = None) -> list[ApplicationFile]:
    """The files kept for an application (or one of its documents), oldest first; the
    caller has checked the application may be seen."""
    stmt = select(ApplicationFile).where(ApplicationFile.application_id == application_id)
    if document_code is not None:
        stmt = stmt.where(ApplicationFile.document_code == document_code)
    return list(session.execute(stmt.order_by(ApplicationFile.id)).scalars())


def read_file(session: Session, principal: Principal, file_id: int) -> tuple[ApplicationFile, bytes]:
    """A kept file and its bytes, for those who may see the household (404 otherwise);
    a file changed on disk since it was kept is refused."""
    record = found(session.get(ApplicationFile, file_id), "file")
    get_application(session, principal, record.application_id)
    try:
        data = _path(record.token).read_bytes()
    except FileNotFoundError:
        raise NotFound("The stored file is missing.", code="file_missing") from None
    if hashlib.sha256(data).hexdigest() != record.sha256:
        raise Invalid("The stored file no longer matches its recorded SHA-256.", code="file_changed")
    return record, data
