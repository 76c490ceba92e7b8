"""``portal``: the offer appears in the partner's inbox in the broker's own portal (and
API); the partner answers there. Delivery cannot fail: the offer row is the inbox."""

from __future__ import annotations

from typing import ClassVar

from marshmallow import Schema, fields

from adapters.base import Adapter, Context, Delivery, OfferInfo, PartnerInfo


class PortalConfig(Schema):
    notify_email = fields.Email(
        load_default=None,
        allow_none=True,
        metadata={"description": "Where to tell the partner that a new offer is waiting (optional)."},
    )


class PortalAdapter(Adapter):
    name: ClassVar[str] = "portal"
    config_schema: ClassVar[type[Schema]] = PortalConfig
    inline: ClassVar[bool] = True
    reads_balance: ClassVar[bool] = False
    description: ClassVar[str] = "The offer appears in the partner's inbox on the portal; the partner answers there."

    def deliver(self, offer: OfferInfo, partner: PartnerInfo, ctx: Context) -> Delivery:
        """The inbox is the offer itself, so it is delivered as soon as it exists."""
        return Delivery("delivered", details={"channel": "portal", "notify_email": partner.config.get("notify_email")})
