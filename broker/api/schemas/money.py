"""Schemas of deposits, the ledger, reports and the audit trail. Amounts are integer fen
in JSON (only CSV/XLSX exports show yuan)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate, validates_schema
from marshmallow.exceptions import ValidationError

from broker.api.schemas.common import PageArgs
from broker.api.schemas.texts import Text
from broker.money.deposit_schema import DepositIn
from broker.money.disbursement_totals import GROUPINGS
from broker.money.ledger import TRANSACTION_KINDS
from broker.money.report_files import FORMATS
from broker.platform.input_schema import MAX_ID, InputSchema
from broker.registry.grid_schema import CODE_PATTERN

__all__ = ["DepositIn"]


class PeriodArgs(InputSchema):
    """``from``/``to``: local days (Asia/Shanghai), both inclusive."""

    date_from = fields.Date(
        data_key="from", metadata={"example": "2026-01-01", "description": "Not after `to` (a 422 otherwise)."}
    )
    date_to = fields.Date(data_key="to", metadata={"example": "2026-12-31"})

    @validates_schema
    def _ordered(self, data: dict, **_kw: object) -> None:
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise ValidationError("must not be after to", field_name="from")


class RegionArg(InputSchema):
    region = fields.String(
        validate=[validate.Length(min=1, max=40), validate.Regexp(CODE_PATTERN)],
        metadata={
            "example": "R01",
            "description": "A region node's code: only what lies below it, with totals per child node "
            "(a reader scoped to a node may name it or a node below it; another is a 404).",
        },
    )


class RollupRowOut(Schema):
    code = fields.String(required=True, metadata={"description": "The child node's code (a grid's, under a community)"})
    name = fields.String(required=True)
    kind = fields.String(required=True, metadata={"description": "The child's kind, or `grid`"})
    count = fields.Integer(required=True)
    amount_fen = fields.Integer(required=True)


class RollupOut(Schema):
    code = fields.String(allow_none=True, metadata={"description": "The region rolled up; null: per district"})
    name = fields.String(metadata={"description": "Its place, from the district down"})
    rows = fields.List(fields.Nested(RollupRowOut), required=True)
    count = fields.Integer(required=True, metadata={"description": "The sum of the rows"})
    amount_fen = fields.Integer(required=True, metadata={"description": "The sum of the rows"})


class FormatArg(InputSchema):
    format = fields.String(
        load_default="json",
        validate=validate.OneOf(FORMATS),
        metadata={"description": "json (fen), or a file in yuan: csv (UTF-8 with BOM) or xlsx"},
    )


class EntryOut(Schema):
    account_id = fields.Integer()
    account_key = fields.String(
        metadata={
            "description": "fund:<partner>[:r<restriction>], pledged:<partner>[:r<restriction>], "
            "beneficiary:<household>"
        }
    )
    account_kind = fields.String()
    account_name = fields.String(metadata={"description": "The broker's own English label (see account_label)"})
    account_label = Text(metadata={"description": "The account's name for people (with the fund's part)"})
    amount_fen = fields.Integer(metadata={"description": "Signed: + into the account, − out of it"})
    restriction_id = fields.Integer(
        allow_none=True,
        metadata={"description": "The restricted part of the fund (GET /partners/{id}/funds); null: unrestricted"},
    )


class TransactionOut(Schema):
    id = fields.Integer()
    kind = fields.String(metadata={"description": "deposit, pledge, release or disbursement"})
    amount_fen = fields.Integer()
    partner_id = fields.Integer(allow_none=True)
    partner_name = fields.String(allow_none=True)
    household_id = fields.Integer(allow_none=True)
    offer_id = fields.Integer(allow_none=True)
    request_id = fields.Integer(allow_none=True)
    reference = fields.String()
    donor = fields.String()
    memo = fields.String()
    actor = fields.String()
    actor_name = Text(metadata={"description": "Who acted: a user's name (no code) or the broker's process"})
    created_at = fields.DateTime()
    entries = fields.List(fields.Nested(EntryOut))


class FundHistoryArgs(PageArgs):
    kind = fields.String(validate=validate.OneOf(TRANSACTION_KINDS))


class FundMovementOut(Schema):
    transaction_id = fields.Integer()
    kind = fields.String()
    amount_fen = fields.Integer()
    available_change_fen = fields.Integer()
    pledged_change_fen = fields.Integer()
    available_after_fen = fields.Integer()
    pledged_after_fen = fields.Integer()
    reference = fields.String()
    donor = fields.String()
    memo = fields.String()
    actor = fields.String()
    offer_id = fields.Integer(allow_none=True)
    request_id = fields.Integer(allow_none=True)
    household_id = fields.Integer(allow_none=True)
    created_at = fields.DateTime()


class FundHistoryOut(Schema):
    partner_id = fields.Integer()
    partner_name = fields.String()
    balance_fen = fields.Integer()
    pledged_fen = fields.Integer()
    available_fen = fields.Integer()
    items = fields.List(fields.Nested(FundMovementOut))
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()


class LedgerArgs(PageArgs, PeriodArgs, FormatArg, RegionArg):
    partner_id = fields.Integer(validate=validate.Range(min=1, max=MAX_ID))
    household_id = fields.Integer(validate=validate.Range(min=1, max=MAX_ID))
    kind = fields.String(validate=validate.OneOf(TRANSACTION_KINDS))


class LedgerCheckOut(Schema):
    ok = fields.Boolean()
    transactions = fields.Integer()
    accounts = fields.Integer()
    unbalanced = fields.List(fields.Integer(), metadata={"description": "transactions whose entries do not sum to 0"})
    mismatched = fields.List(fields.Integer(), metadata={"description": "accounts whose balance ≠ sum of entries"})
    overdrawn = fields.List(fields.Integer(), metadata={"description": "non-external accounts below zero"})


class DisbursementReportArgs(PeriodArgs, FormatArg, RegionArg):
    group_by = fields.String(load_default="partner", validate=validate.OneOf(GROUPINGS))


class ReportRowOut(Schema):
    key = fields.Raw(allow_none=True, metadata={"description": "partner/grid id, category code or YYYY-MM"})
    label = fields.String()
    count = fields.Integer()
    amount_fen = fields.Integer()


class DisbursementReportOut(Schema):
    group_by = fields.String()
    date_from = fields.Date(data_key="from", allow_none=True)
    date_to = fields.Date(data_key="to", allow_none=True)
    rows = fields.List(fields.Nested(ReportRowOut))
    count = fields.Integer()
    amount_fen = fields.Integer()
    by_region = fields.Nested(
        RollupOut,
        allow_none=True,
        metadata={"description": "Totals per child node of `region` (null without)"},
    )


class DuplicateArgs(RegionArg):
    window_days = fields.Integer(load_default=30, validate=validate.Range(min=1, max=3660))


class BenefitPaymentOut(Schema):
    disbursement_id = fields.Integer()
    partner_id = fields.Integer()
    partner_name = fields.String()
    request_id = fields.Integer()
    amount_fen = fields.Integer()
    kind = fields.String()
    created_at = fields.DateTime()


class GovernmentBenefitOut(Schema):
    benefit_id = fields.Integer()
    application_id = fields.Integer()
    policy_code = fields.String()
    policy_name = fields.String()
    since = fields.Date()


class DuplicateBenefitOut(Schema):
    household_id = fields.Integer()
    category = fields.String()
    category_label = fields.String()
    reasons = fields.List(
        fields.String(),
        metadata={
            "description": "beyond_need (a request paid more than it asked); several_sources (two benefits "
            "from different partners, or a partner and the government, within the window; the parts of one "
            "split request are one benefit); same_fund_again (one partner paid two requests within the window)"
        },
    )
    needed_fen = fields.Integer(allow_none=True)
    disbursed_fen = fields.Integer()
    excess_fen = fields.Integer()
    partners = fields.List(fields.String())
    payments = fields.List(fields.Nested(BenefitPaymentOut))
    government = fields.List(
        fields.Nested(GovernmentBenefitOut),
        metadata={"description": "Government benefits granted on approved applications in the same category."},
    )


class DuplicateReportOut(Schema):
    window_days = fields.Integer()
    items = fields.List(fields.Nested(DuplicateBenefitOut))


class FulfilmentRowOut(Schema):
    category = fields.String()
    label = fields.String()
    completed = fields.Integer()
    median_hours = fields.Float(allow_none=True)
    p90_hours = fields.Float(allow_none=True)


class FulfilmentOut(Schema):
    date_from = fields.Date(data_key="from", allow_none=True)
    date_to = fields.Date(data_key="to", allow_none=True)
    rows = fields.List(fields.Nested(FulfilmentRowOut))
    overall = fields.Nested(FulfilmentRowOut)
    by_region = fields.Nested(
        RollupOut,
        allow_none=True,
        metadata={"description": "Completed per child node of `region` (null without)"},
    )


class FulfilmentArgs(PeriodArgs, RegionArg):
    """``from``/``to`` and an optional ``region``."""


class VerifyOut(Schema):
    ok = fields.Boolean(required=True)
    events = fields.Integer(required=True, metadata={"description": "rows checked"})
    first_bad = fields.Integer(allow_none=True, metadata={"description": "id of the first bad row"})
    reason = fields.String(allow_none=True)
    head_id = fields.Integer(allow_none=True)
    anchored_id = fields.Integer(
        allow_none=True, metadata={"description": "the head kept outside the database (guards the tail)"}
    )
    erased = fields.Integer(metadata={"description": "events whose readable details were erased (not tampering)"})
    head_seq = fields.Integer(allow_none=True, metadata={"description": "the head's position in the chain"})
    unchained = fields.Integer(
        metadata={"description": "events committed but not chained yet (the tail; chained within seconds)"}
    )
    unchained_oldest_seconds = fields.Float(
        allow_none=True, metadata={"description": "how long the oldest unchained event has waited"}
    )
    unchained_stale = fields.Boolean(
        metadata={"description": "the tail is older than chaining takes while workers run (are they?)"}
    )


class AuditEventArgs(PageArgs):
    object_type = fields.String(validate=validate.Length(min=1, max=40))
    object_id = fields.Integer(validate=validate.Range(min=1, max=MAX_ID))
    household_id = fields.Integer(validate=validate.Range(min=1, max=MAX_ID))
    request_id = fields.Integer(validate=validate.Range(min=1, max=MAX_ID))
    actor = fields.String(validate=validate.Length(min=1, max=60))
    action = fields.String(validate=validate.Length(min=1, max=60))
    order = fields.String(load_default="desc", validate=validate.OneOf(("asc", "desc")))


class AuditEventOut(Schema):
    id = fields.Integer()
    at = fields.DateTime()
    actor = fields.String()
    action = fields.String()
    object_type = fields.String()
    object_id = fields.Integer(allow_none=True)
    household_id = fields.Integer(allow_none=True)
    request_id = fields.Integer(allow_none=True)
    before = fields.Raw(allow_none=True)
    after = fields.Raw(allow_none=True)
    details = fields.Raw(allow_none=True)
    prev_hash = fields.String()
    hash = fields.String()
