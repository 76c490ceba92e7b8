"""The adapter contract: how the broker reaches a partner organisation.

An adapter is a class with a ``name``, a marshmallow ``config_schema`` for its
per-partner settings (secrets marked ``load_only``), and ``deliver`` / ``withdraw``
methods. It receives plain data (the dataclasses below), never ORM rows, and imports
nothing of the broker but this module. Adapters are found through the entry-point
group ``aidbroker.adapters``; the built-ins are registered the same way.

``deliver`` returns a :class:`Delivery` saying what happened; it raises
:class:`TransientDeliveryError` for a failure worth retrying (timeout, 5xx, connection
refused) and :class:`PermanentDeliveryError` for one that is not (4xx, bad config).
The broker owns retries, backoff, deadlines and state; the adapter only talks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Literal

from marshmallow import Schema

ENTRY_POINT_GROUP = "aidbroker.adapters"


@dataclass(frozen=True)
class PartnerInfo:
    id: int
    name: str
    kind: str
    config: dict[str, Any]
    # Money the partner's fund can still promise; None for an adapter that does not
    # decide by it (``Adapter.reads_balance``), which is spared the ledger read.
    available_fen: int | None


@dataclass(frozen=True)
class OfferInfo:
    """What a partner is allowed to know about a request: no identity numbers, and the
    family's names only when the household consented to share them."""

    id: int
    request_id: int
    category: str
    urgency: str
    amount_fen: int | None
    respond_by: datetime
    community: str
    description: str
    household_label: str  # "张** household" unless consented
    partner_id: int
    # For a fund with a per-household cap: what it already paid this household in money
    # within the cap's period, net of reversals (read under the fund's lock).
    household_received_fen: int = 0


@dataclass(frozen=True)
class Delivery:
    """The outcome of a delivery.

    - ``delivered``: the partner has it and will answer through the API or portal;
    - ``accepted``: the adapter's own rules accepted it at once (``accept_fen``), and
      ``disburse_fen`` (if set) is paid out immediately (``auto_grant``);
    - ``declined``: the adapter's rules declined it (``reason``), as a reject would.
    """

    outcome: Literal["delivered", "accepted", "declined"]
    accept_fen: int | None = None
    disburse_fen: int | None = None
    reason: str = ""
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Context:
    """What the broker lends an adapter for one call."""

    attempt: int  # 1 for the first try
    timeout_seconds: float
    redis: Any = None  # a redis.Redis, for adapters that keep cross-process state
    settings: dict[str, Any] = field(default_factory=dict)


class DeliveryError(Exception):
    """Base of delivery failures."""


class TransientDeliveryError(DeliveryError):
    """Worth retrying with backoff (timeouts, 5xx, connection errors, open breaker)."""


class DeliveryDeferred(TransientDeliveryError):
    """The adapter did not try (the partner's circuit breaker is open): the broker
    delivers again after ``retry_after_seconds`` and does not count the attempt."""

    def __init__(self, message: str, retry_after_seconds: float) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


class PermanentDeliveryError(DeliveryError):
    """Retrying will not help (4xx, invalid config): the offer fails at once."""


class Adapter:
    """Base class of adapters. Subclasses set ``name`` and ``config_schema``."""

    name: ClassVar[str] = ""
    config_schema: ClassVar[type[Schema]] = Schema
    description: ClassVar[str] = ""
    # True when ``deliver`` only decides, with no I/O that could block or fail (the
    # portal inbox, a standing auto-grant rule): the broker then delivers in the same
    # transaction that made the offer, instead of in a job of its own.
    inline: ClassVar[bool] = False
    # True when ``deliver`` decides by what the partner's fund can still promise
    # (``PartnerInfo.available_fen``, read from the ledger for each delivery). An adapter
    # that only carries the offer sets it False and is given None.
    reads_balance: ClassVar[bool] = True

    def deliver(self, offer: OfferInfo, partner: PartnerInfo, ctx: Context) -> Delivery:
        raise NotImplementedError

    def withdraw(self, offer: OfferInfo, partner: PartnerInfo, ctx: Context, reason: str) -> None:
        """Tell the partner an offer was withdrawn (cancelled or expired). Default: nothing."""
        return None
