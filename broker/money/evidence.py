"""Evidence files for disbursements (a receipt, a signed delivery note), kept under the
instance folder by their SHA-256 so that the same file is stored once and any later
change to it is detectable."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from broker.platform import runtime
from broker.platform.errors import Invalid

FOLDER = "evidence"


@dataclass(frozen=True)
class Upload:
    filename: str
    content_type: str
    data: bytes


def store(upload: Upload) -> dict:
    """Write the file (content-addressed) and return what the disbursement records."""
    limit = runtime.settings()["EVIDENCE_MAX_BYTES"]
    if not upload.data:
        raise Invalid("The evidence file is empty.", details={"evidence": ["empty file"]})
    if len(upload.data) > limit:
        raise Invalid(
            f"The evidence file is larger than {limit // (1024 * 1024)} MB.",
            details={"evidence": ["file too large"]},
        )
    digest = hashlib.sha256(upload.data).hexdigest()
    relative = Path(FOLDER) / digest[:2] / digest
    path = Path(runtime.settings()["INSTANCE_PATH"]) / relative
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.part")
        tmp.write_bytes(upload.data)
        tmp.replace(path)
    return {
        "sha256": digest,
        "filename": os.path.basename(upload.filename or "evidence")[:200],
        "content_type": (upload.content_type or "application/octet-stream")[:100],
        "size": len(upload.data),
        "path": relative.as_posix(),
    }


def read(record: dict) -> bytes:
    """The stored file's bytes, checked against the recorded hash."""
    path = Path(runtime.settings()["INSTANCE_PATH"]) / record["path"]
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != record["sha256"]:
        raise Invalid("The stored evidence file no longer matches its recorded SHA-256.")
    return data
