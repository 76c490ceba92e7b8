"""``manual``: a referral by hand. The caseworker has put the family in touch with an
organisation outside the broker (by phone, a letter, a visit); the offer records that
referral, and the caseworker records the organisation's answer and what it gave.
Delivery cannot fail, and routing never picks such a partner by itself."""

from __future__ import annotations

from typing import ClassVar

from marshmallow import Schema, fields, validate

from adapters.base import Adapter, Context, Delivery, OfferInfo, PartnerInfo


class ManualConfig(Schema):
    phone = fields.String(
        load_default="",
        validate=validate.Length(max=40),
        metadata={"description": "How the caseworker reaches the organisation (optional)."},
    )


class ManualAdapter(Adapter):
    name: ClassVar[str] = "manual"
    config_schema: ClassVar[type[Schema]] = ManualConfig
    inline: ClassVar[bool] = True
    reads_balance: ClassVar[bool] = False
    description: ClassVar[str] = (
        "A referral made by hand by the caseworker; the caseworker records the organisation's answer."
    )

    def deliver(self, offer: OfferInfo, partner: PartnerInfo, ctx: Context) -> Delivery:
        """The caseworker made the referral already: it is delivered as soon as recorded."""
        return Delivery("delivered", details={"channel": "manual"})
