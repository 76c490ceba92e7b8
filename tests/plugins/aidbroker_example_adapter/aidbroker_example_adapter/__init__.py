"""``example_echo``: a third-party adapter that keeps each offer in a Redis list the
partner's own system reads (here: the tests), and declines offers over a configured
ceiling. It imports nothing of the broker but ``adapters.base``."""

from __future__ import annotations

import json
from typing import ClassVar

from marshmallow import Schema, fields, validate

from adapters.base import Adapter, Context, Delivery, OfferInfo, PartnerInfo, PermanentDeliveryError


class EchoConfig(Schema):
    channel = fields.String(
        required=True,
        validate=validate.Regexp(r"^[a-z0-9_\-]{1,40}$", error="lower-case letters, digits, _ and - only"),
    )
    ceiling_fen = fields.Integer(load_default=None, allow_none=True, strict=True, validate=validate.Range(min=1))
    token = fields.String(load_only=True, load_default=None, allow_none=True)


def inbox_key(channel: str) -> str:
    return f"example_echo:{channel}"


class EchoAdapter(Adapter):
    name: ClassVar[str] = "example_echo"
    config_schema: ClassVar[type[Schema]] = EchoConfig
    description: ClassVar[str] = "Example plugin: pushes each offer onto a Redis list named by its channel."

    def deliver(self, offer: OfferInfo, partner: PartnerInfo, ctx: Context) -> Delivery:
        if ctx.redis is None:
            raise PermanentDeliveryError("example_echo needs Redis")
        ceiling = partner.config.get("ceiling_fen")
        if ceiling is not None and (offer.amount_fen or 0) > ceiling:
            return Delivery("declined", reason=f"over the echo ceiling of {ceiling} fen")
        event = {
            "event": "created",
            "offer_id": offer.id,
            "amount_fen": offer.amount_fen,
            "label": offer.household_label,
        }
        ctx.redis.rpush(inbox_key(partner.config["channel"]), json.dumps(event, ensure_ascii=False))
        return Delivery("delivered")

    def withdraw(self, offer: OfferInfo, partner: PartnerInfo, ctx: Context, reason: str) -> None:
        event = {"event": "withdrawn", "offer_id": offer.id, "reason": reason}
        ctx.redis.rpush(inbox_key(partner.config["channel"]), json.dumps(event, ensure_ascii=False))
