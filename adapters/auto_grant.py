"""``auto_grant``: a mutual-aid fund's standing rule. An offer with an amount within the
fund's limit, and within what the fund can still promise, is accepted and paid at once
with no human in the loop; anything else is declined with a reason the caseworker can
act on (the request then goes on to the next partner).

A fund may also cap what one household is granted automatically in a period
(``cap_fen_per_household`` in ``cap_period_days``: the emergency grant once a year). An
offer over the cap is not declined: it goes to the fund's people, who decide in the
portal as any partner would."""

from __future__ import annotations

from typing import ClassVar

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from adapters.base import Adapter, Context, Delivery, OfferInfo, PartnerInfo


class AutoGrantConfig(Schema):
    limit_fen = fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(min=1, error="must be a positive whole number of fen"),
        metadata={"description": "The largest amount, in fen, granted without a human decision."},
    )
    cap_fen_per_household = fields.Integer(
        strict=True,
        validate=validate.Range(min=1, error="must be a positive whole number of fen"),
        metadata={"description": "At most this much, in fen, granted automatically to one household per period."},
    )
    cap_period_days = fields.Integer(
        strict=True,
        validate=validate.Range(min=1, max=3660, error="must be a whole number of days from 1 to 3660"),
        metadata={"description": "The cap's period in days (365: once a year)."},
    )

    @validates_schema
    def _cap_has_a_period(self, data: dict, **_kw: object) -> None:
        if ("cap_fen_per_household" in data) != ("cap_period_days" in data):
            raise ValidationError("give both the cap and its period, or neither", "cap_period_days")


def _yuan(fen: int) -> str:
    return f"{fen / 100:.2f} 元"


class AutoGrantAdapter(Adapter):
    name: ClassVar[str] = "auto_grant"
    config_schema: ClassVar[type[Schema]] = AutoGrantConfig
    inline: ClassVar[bool] = True
    description: ClassVar[str] = "Accepts and pays at once any amount within the fund's auto-grant limit."

    def deliver(self, offer: OfferInfo, partner: PartnerInfo, ctx: Context) -> Delivery:
        """Accept and disburse at once, or decline with the reason (no amount, over the
        limit, or not enough left in the fund)."""
        limit = int(partner.config["limit_fen"])
        amount = offer.amount_fen
        if not amount or amount <= 0:
            return Delivery(
                "declined",
                reason="No amount was given: the auto-grant fund only pays a stated sum of money.",
                details={"rule": "no_amount"},
            )
        if amount > limit:
            return Delivery(
                "declined",
                reason=f"{_yuan(amount)} is over {partner.name}'s auto-grant limit of {_yuan(limit)}.",
                details={"rule": "over_limit", "limit_fen": limit, "amount_fen": amount},
            )
        if amount > partner.available_fen:
            return Delivery(
                "declined",
                reason=f"Not enough in the fund: {partner.name} has {_yuan(partner.available_fen)} left "
                f"and {_yuan(amount)} was asked.",
                details={"rule": "insufficient_funds", "available_fen": partner.available_fen, "amount_fen": amount},
            )
        cap, days = partner.config.get("cap_fen_per_household"), partner.config.get("cap_period_days")
        if cap and days and offer.household_received_fen + amount > cap:
            return Delivery(
                "delivered",
                reason=f"Over {partner.name}'s cap of {_yuan(cap)} per household in {days} days "
                f"({_yuan(offer.household_received_fen)} already granted): the fund's people decide.",
                details={
                    "rule": "over_cap",
                    "cap_fen": cap,
                    "period_days": days,
                    "received_fen": offer.household_received_fen,
                    "amount_fen": amount,
                },
            )
        return Delivery(
            "accepted",
            accept_fen=amount,
            disburse_fen=amount,
            reason=f"Granted automatically: within the {_yuan(limit)} limit.",
            details={"rule": "within_limit", "limit_fen": limit},
        )
