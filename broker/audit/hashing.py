"""What an audit row hashes to: the canonical JSON of its details, their keyed digest,
the content of a row (ids, the action and that digest: no readable details) and the
link to the row before it; and how a broken row is named."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from broker.platform import runtime
from models import AuditEvent

GENESIS = "0" * 64
SEP = "\x1f"

# Why a row breaks the chain, as both walks (the reference one and the fast one) report it.
LINK_BROKEN = "link to the previous row is broken (a row before it was deleted or inserted, or this one forged)"
HASH_BROKEN = "row content does not match its hash (row edited)"
DETAIL_BROKEN = "row details do not match their digest (details edited)"
DETAIL_MISSING = "row details are missing and were not erased (details deleted)"
DETAIL_COLUMNS = ("before", "after", "details")
# The marker event a migration writes when it re-chains the log in the present format.
RECHAINED = "audit.rechained"


def canonical_json(value: Any) -> str | None:
    """The one JSON spelling that is hashed: sorted keys, no spaces, UTF-8 kept."""
    if value is None:
        return None
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def audit_key() -> bytes:
    """The HMAC key of the digests (setting ``AUDIT_KEY``)."""
    return runtime.settings()["AUDIT_KEY"].encode()


def details_text(before: str | None, after: str | None, details: str | None) -> str:
    """The digested spelling of a detail row: its three canonical JSON texts, NULL as ''."""
    return SEP.join((before or "", after or "", details or ""))


def digest_of(before: str | None, after: str | None, details: str | None, key: bytes | None = None) -> str:
    """The keyed digest of a detail row's canonical texts, as the event carries it."""
    return hmac.digest(key or audit_key(), details_text(before, after, details).encode(), "sha256").hex()


# The columns :func:`content_of` reads, in its order: select them (with the id) to hash rows.
CONTENT_COLUMNS = (
    AuditEvent.at,
    AuditEvent.actor,
    AuditEvent.action,
    AuditEvent.object_type,
    AuditEvent.object_id,
    AuditEvent.household_id,
    AuditEvent.request_id,
    AuditEvent.digest,
)


def content_of(row: Any) -> str:
    """The canonical content of an audit row (an ORM row or a Core row of the same
    columns): ids, the action, and the digest of its details — no readable details."""
    return SEP.join(
        (
            row.at.isoformat(timespec="microseconds"),
            row.actor,
            row.action,
            row.object_type,
            "" if row.object_id is None else str(row.object_id),
            "" if row.household_id is None else str(row.household_id),
            "" if row.request_id is None else str(row.request_id),
            row.digest,
        )
    )


def chain_hash(prev_hash: str, content: str) -> str:
    return hashlib.sha256((prev_hash + SEP + content).encode()).hexdigest()


class _Row:
    """Attribute access over a dict, so that :func:`content_of` serves both sides."""

    __slots__ = ("_d",)

    def __init__(self, d: dict) -> None:
        self._d = d

    def __getattr__(self, name: str) -> Any:
        return self._d[name]
