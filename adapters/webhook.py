"""``webhook``: the offer is POSTed as JSON to the partner's own system, signed per the
Standard Webhooks spec (https://www.standardwebhooks.com/); the partner answers through
the broker's API.

Each event has a stable ``webhook-id`` (``offer-<id>.created``, ``offer-<id>.withdrawn``),
so a partner de-duplicates the retries the broker makes. Outcomes: 2xx delivered;
408, 429, 5xx, timeouts and connection errors are transient (the broker retries with
backoff); any other answer is permanent (the offer fails at once).

A circuit breaker per partner, kept in Redis so that every worker process shares it,
stops calling a partner that keeps failing: after ``BREAKER_THRESHOLD`` consecutive
transient failures it opens for ``BREAKER_COOLDOWN_SECONDS`` (a delivery is deferred
until the breaker reopens, without a call and without spending an attempt); then it is
half-open and lets exactly one call through; that call's success closes it, its failure
opens it again. (The breaker lives in this
module because an adapter imports nothing but :mod:`adapters.base`.)"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
from datetime import UTC, datetime
from typing import Any, ClassVar

import httpx
from marshmallow import Schema, ValidationError, fields, validate, validates
from standardwebhooks import Webhook

from adapters.base import (
    Adapter,
    Context,
    Delivery,
    DeliveryDeferred,
    OfferInfo,
    PartnerInfo,
    PermanentDeliveryError,
    TransientDeliveryError,
)

SECRET_PREFIX = "whsec_"  # noqa: S105 - the spec's prefix, not a secret
USER_AGENT = "aidbroker-webhook/1"
TRANSIENT_STATUSES = frozenset({408, 425, 429})


class WebhookConfig(Schema):
    url = fields.Url(
        required=True,
        schemes={"http", "https"},
        require_tld=False,
        metadata={"description": "The partner's endpoint; offers are POSTed here as JSON."},
    )
    secret = fields.String(
        required=True,
        load_only=True,
        metadata={"description": "Signing secret, whsec_ followed by 24-64 random bytes in base64. Never shown."},
    )
    timeout_seconds = fields.Float(
        load_default=None,
        allow_none=True,
        validate=validate.Range(min=0.5, max=30),
        metadata={"description": "How long to wait for the partner's answer (default: the broker's setting)."},
    )

    @validates("secret")
    def _check_secret(self, value: str, **_kw: Any) -> None:
        secret_bytes(value)


def secret_bytes(secret: str) -> bytes:
    """Decode a ``whsec_<base64>`` secret; :class:`ValidationError` if it is malformed."""
    if not secret.startswith(SECRET_PREFIX):
        raise ValidationError("must start with whsec_ followed by base64 (Standard Webhooks secret)")
    raw = secret[len(SECRET_PREFIX) :]
    try:
        key = base64.b64decode(raw + "=" * (-len(raw) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError("the part after whsec_ is not valid base64") from None
    if not 24 <= len(key) <= 64:
        raise ValidationError(f"must hold 24 to 64 random bytes; this one holds {len(key)}")
    return key


def _json_safe(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return value


def offer_payload(offer: OfferInfo) -> dict[str, Any]:
    """The offer as JSON-safe data (timestamps in ISO 8601 UTC)."""
    return {key: _json_safe(value) for key, value in dataclasses.asdict(offer).items()}


def event_id(offer: OfferInfo, event: str) -> str:
    """Stable per offer and event, so every retry carries the same ``webhook-id``."""
    return f"offer-{offer.id}.{event}"


class Breaker:
    """A per-partner circuit breaker in Redis. All transitions are single Lua scripts,
    so concurrent workers on any host see one consistent state."""

    # KEYS: failures, open, probe. ARGV: threshold, probe ttl (ms).
    # Returns "closed", "open" or "half_open" (this caller holds the one trial call).
    _ALLOW = """
    if redis.call('EXISTS', KEYS[2]) == 1 then return 'open' end
    local failures = tonumber(redis.call('GET', KEYS[1]) or '0')
    if failures < tonumber(ARGV[1]) then return 'closed' end
    if redis.call('SET', KEYS[3], '1', 'NX', 'PX', ARGV[2]) then return 'half_open' end
    return 'open'
    """
    # KEYS: failures, open, probe. ARGV: threshold, cooldown (ms). Returns the failure count.
    _FAIL = """
    local failures = redis.call('INCR', KEYS[1])
    if failures >= tonumber(ARGV[1]) then
      redis.call('SET', KEYS[2], '1', 'PX', ARGV[2])
    end
    redis.call('DEL', KEYS[3])
    return failures
    """

    def __init__(self, redis: Any, partner_id: int, *, threshold: int, cooldown_seconds: float) -> None:
        self.redis = redis
        self.threshold = max(1, int(threshold))
        self.cooldown_ms = max(1, int(cooldown_seconds * 1000))
        prefix = f"aidbroker:breaker:webhook:{partner_id}"
        self.keys = [f"{prefix}:failures", f"{prefix}:open", f"{prefix}:probe"]

    def allow(self, probe_seconds: float) -> str:
        """``closed`` or ``half_open`` (go ahead) or ``open`` (do not call)."""
        state = self.redis.eval(self._ALLOW, 3, *self.keys, self.threshold, max(1000, int(probe_seconds * 1000)))
        return state.decode() if isinstance(state, bytes) else str(state)

    def failure(self) -> int:
        return int(self.redis.eval(self._FAIL, 3, *self.keys, self.threshold, self.cooldown_ms))

    def success(self) -> None:
        self.redis.delete(*self.keys)

    def reopens_in(self) -> float:
        """Seconds until a call may go through: the open breaker's cooldown, or the trial
        call another worker is making (at least a second)."""
        waits = [int(self.redis.pttl(key)) for key in self.keys[1:]]
        return max(1.0, max(waits) / 1000)

    def state(self) -> str:
        """For display: closed, open or half_open (without taking the trial call)."""
        if self.redis.exists(self.keys[1]):
            return "open"
        failures = int(self.redis.get(self.keys[0]) or 0)
        return "closed" if failures < self.threshold else "half_open"


class WebhookAdapter(Adapter):
    name: ClassVar[str] = "webhook"
    config_schema: ClassVar[type[Schema]] = WebhookConfig
    reads_balance: ClassVar[bool] = False
    description: ClassVar[str] = (
        "POSTs each offer as JSON to the partner's URL, signed per Standard Webhooks; "
        "the partner answers through the API."
    )

    def deliver(self, offer: OfferInfo, partner: PartnerInfo, ctx: Context) -> Delivery:
        """Send ``offer.created``; delivered once the partner answers 2xx."""
        status = self._send("offer.created", offer, partner, ctx, {})
        return Delivery("delivered", details={"status_code": status, "webhook_id": event_id(offer, "created")})

    def withdraw(self, offer: OfferInfo, partner: PartnerInfo, ctx: Context, reason: str) -> None:
        """Send ``offer.withdrawn`` with the reason (cancelled, expired…)."""
        self._send("offer.withdrawn", offer, partner, ctx, {"reason": reason})

    def breaker(self, partner: PartnerInfo, ctx: Context) -> Breaker | None:
        if ctx.redis is None:
            return None
        return Breaker(
            ctx.redis,
            partner.id,
            threshold=ctx.settings.get("BREAKER_THRESHOLD", 5),
            cooldown_seconds=ctx.settings.get("BREAKER_COOLDOWN_SECONDS", 60),
        )

    def _send(self, event: str, offer: OfferInfo, partner: PartnerInfo, ctx: Context, extra: dict) -> int:
        config = partner.config
        url, secret = config.get("url"), config.get("secret")
        if not url or not secret:
            raise PermanentDeliveryError(f"Partner {partner.name} has no webhook url or secret configured.")
        timeout = float(config.get("timeout_seconds") or ctx.timeout_seconds)
        breaker = self.breaker(partner, ctx)
        if breaker is not None and breaker.allow(probe_seconds=timeout + 5) == "open":
            raise DeliveryDeferred(
                f"The circuit breaker for {partner.name} is open after repeated failures; not calling for now.",
                retry_after_seconds=breaker.reopens_in(),
            )
        now = datetime.now(UTC)
        msg_id = event_id(offer, event.split(".", 1)[1])
        body = json.dumps(
            {
                "type": event,
                "timestamp": _json_safe(now),
                "offer": offer_payload(offer),
                **extra,
            },
            ensure_ascii=False,
            separators=(",", ":"),
        )
        headers = {
            "content-type": "application/json",
            "user-agent": USER_AGENT,
            "webhook-id": msg_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": Webhook(secret).sign(msg_id, now, body),
        }
        try:
            resp = httpx.post(
                url,
                content=body.encode(),
                headers=headers,
                timeout=httpx.Timeout(timeout),
                follow_redirects=False,
            )
        except httpx.TimeoutException as exc:
            self._failed(breaker)
            raise TransientDeliveryError(
                f"{partner.name} did not answer within {timeout:g}s ({type(exc).__name__})."
            ) from None
        except httpx.TransportError as exc:
            self._failed(breaker)
            raise TransientDeliveryError(f"Could not reach {partner.name}: {type(exc).__name__}.") from None
        except httpx.InvalidURL as exc:
            raise PermanentDeliveryError(f"The webhook URL of {partner.name} is not usable: {exc}.") from None
        code = resp.status_code
        if code >= 500 or code in TRANSIENT_STATUSES:
            self._failed(breaker)
            error = TransientDeliveryError(f"{partner.name} answered {code} {resp.reason_phrase}; will retry.")
            error.retry_after = resp.headers.get("retry-after")
            raise error
        if breaker is not None:
            breaker.success()  # any deliberate answer proves the endpoint is up
        if 200 <= code < 300:
            return code
        raise PermanentDeliveryError(
            f"{partner.name} refused the {event} webhook with {code} {resp.reason_phrase}; "
            "check the partner's URL and secret."
        )

    @staticmethod
    def _failed(breaker: Breaker | None) -> None:
        if breaker is not None:
            breaker.failure()
