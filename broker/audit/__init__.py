"""The audit log: the hash chain every state change is recorded in, written unchained
and linked in batches by the chainer (:mod:`.chain`), what a row hashes to
(:mod:`.hashing`), its head anchored in Redis (:mod:`.anchor`), the fast parallel walk
(:mod:`.walk`), verifying, in full or on from the last checkpoint (:mod:`.checkpoint`),
and re-anchoring (:mod:`.verification`), and reading the trail (:mod:`.trail`).

It knows no household; every domain imports it.

May import: the platform and ``models`` only — no other domain.

Callers use ``from broker import audit`` and the names below; modules inside the package
import from each other's modules.
"""

from broker.audit.anchor import _push_anchor, anchor_key, read_anchor
from broker.audit.chain import Chained, answer_bell, chain_batch, chain_pending, chain_rows, record
from broker.audit.checkpoint import Checkpoint, read_checkpoint
from broker.audit.hashing import GENESIS, RECHAINED, SEP, canonical_json, content_of, details_text, digest_of
from broker.audit.trail import count, events, loads
from broker.audit.verification import (
    TAIL_STALE_SECONDS,
    VerifyResult,
    iter_rows,
    reset_anchor,
    verify,
    verify_chain,
    verify_rows,
    verify_since_checkpoint,
)
from broker.audit.walk import join_walks, payload_batches, verify_processes, walk_payloads

__all__ = [
    "GENESIS",
    "RECHAINED",
    "SEP",
    "TAIL_STALE_SECONDS",
    "Chained",
    "Checkpoint",
    "VerifyResult",
    "_push_anchor",
    "anchor_key",
    "answer_bell",
    "canonical_json",
    "chain_batch",
    "chain_pending",
    "chain_rows",
    "content_of",
    "count",
    "details_text",
    "digest_of",
    "events",
    "iter_rows",
    "join_walks",
    "loads",
    "payload_batches",
    "read_anchor",
    "read_checkpoint",
    "record",
    "reset_anchor",
    "verify",
    "verify_chain",
    "verify_processes",
    "verify_rows",
    "verify_since_checkpoint",
    "walk_payloads",
]
