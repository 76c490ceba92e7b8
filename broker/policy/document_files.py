"""Scans and photos of an application's checklist documents (a phone camera's picture
of the household register, a hospital's diagnosis): checked to be an image of a sane
size by its own bytes (never by the name or type the browser claims), kept in the
instance folder under a random name, and read back only by those who may see the
household. Adding a file ticks its document on the checklist; both are on the audit
chain."""

from __future__ import annotations

import os
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from broker import audit
from broker.platform import photos
from broker.platform.errors import Conflict, Invalid, found
from broker.platform.scope import Principal
from broker.policy.applications import get_application, open_checklist, tick_documents
from models import ApplicationFile

FOLDER = "application_files"
MAX_BYTES = photos.MAX_BYTES
MAX_FILES_PER_DOCUMENT = 10


@dataclass(frozen=True)
class Upload:
    filename: str
    data: bytes


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
    content_type = photos.checked(upload.data)
    count = len(files_of(session, app.id, document_code))
    if count >= MAX_FILES_PER_DOCUMENT:
        raise Conflict(
            f"A document keeps at most {MAX_FILES_PER_DOCUMENT} files.",
            code="too_many_files",
            details={"document": document_code, "max_files": MAX_FILES_PER_DOCUMENT},
        )
    kept = photos.store(FOLDER, upload.data, content_type)
    record = ApplicationFile(
        application_id=app.id,
        document_code=document_code,
        token=kept.token,
        filename=os.path.basename((upload.filename or "").replace("\\", "/"))[:200],
        content_type=content_type,
        size=kept.size,
        sha256=kept.sha256,
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
    return record, photos.read(FOLDER, record.token, record.sha256)
