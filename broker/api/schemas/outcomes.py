"""Schemas of the reports on how the loop closes: response time per partner and
follow-up outcomes, each with the previous period of the same length."""

from __future__ import annotations

from datetime import date

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from broker.api.schemas.money import FormatArg

# Reports look at the broker's own years; a date far outside is a typing error.
EARLIEST, LATEST = date(2000, 1, 1), date(2099, 12, 31)
_IN_RANGE = validate.Range(min=EARLIEST, max=LATEST, error="must be between 2000-01-01 and 2099-12-31")


class ComparedPeriodArgs(FormatArg):
    """``from``/``to``: local days, both inclusive; by default the last 30 days. The
    previous period is the one of the same length just before."""

    date_from = fields.Date(
        data_key="from", validate=_IN_RANGE, metadata={"example": "2026-11-01", "description": "Not after `to`."}
    )
    date_to = fields.Date(data_key="to", validate=_IN_RANGE, metadata={"example": "2026-11-30"})

    @validates_schema
    def _ordered(self, data: dict, **_kw: object) -> None:
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise ValidationError("must not be after to", field_name="from")


class PeriodOut(Schema):
    date_from = fields.Date(data_key="from")
    date_to = fields.Date(data_key="to")
    days = fields.Integer()


class ComparisonOut(Schema):
    current = fields.Float(allow_none=True)
    previous = fields.Float(allow_none=True)
    direction = fields.String(metadata={"description": "lower_is_better or higher_is_better"})
    improvement_pct = fields.Float(
        allow_none=True,
        metadata={"description": "Positive when the figure got better, whichever way better runs; null without a base"},
    )


class ResponseRowOut(Schema):
    partner_id = fields.Integer(allow_none=True)
    partner = fields.String()
    offers = fields.Integer(metadata={"description": "Offers made in the period"})
    answered = fields.Integer(metadata={"description": "Of those, accepted or declined (expired is no answer)"})
    median_answer_hours = fields.Float(allow_none=True)
    completed = fields.Integer(metadata={"description": "Offers completed in the period"})
    median_fulfilment_hours = fields.Float(allow_none=True)


class ResponseFiguresOut(Schema):
    rows = fields.List(fields.Nested(ResponseRowOut))
    overall = fields.Nested(ResponseRowOut)


class ResponseTimesOut(Schema):
    period = fields.Nested(PeriodOut)
    previous_period = fields.Nested(PeriodOut)
    current = fields.Nested(ResponseFiguresOut)
    previous = fields.Nested(ResponseFiguresOut)
    answer = fields.Nested(
        ComparisonOut,
        metadata={"description": "Median hours to answer; improvement_pct is the 'response efficiency' change"},
    )
    fulfilment = fields.Nested(ComparisonOut, metadata={"description": "Median hours to fulfil"})


class OutcomeRowOut(Schema):
    category = fields.String(metadata={"description": "A need category, or all"})
    recorded = fields.Integer()
    met = fields.Integer()
    partly = fields.Integer()
    not_met = fields.Integer()
    met_share = fields.Float(allow_none=True, metadata={"description": "met / recorded, 0 to 1"})
    mean_satisfaction = fields.Float(allow_none=True, metadata={"description": "1 to 5"})


class OutcomeFiguresOut(Schema):
    rows = fields.List(fields.Nested(OutcomeRowOut))
    overall = fields.Nested(OutcomeRowOut)


class FollowUpOutcomesOut(Schema):
    period = fields.Nested(PeriodOut)
    previous_period = fields.Nested(PeriodOut)
    current = fields.Nested(OutcomeFiguresOut)
    previous = fields.Nested(OutcomeFiguresOut)
    met_share = fields.Nested(ComparisonOut)
    satisfaction = fields.Nested(ComparisonOut)
