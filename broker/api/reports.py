"""Reports for auditors and admins: disbursements grouped (JSON, CSV or XLSX), possible
duplicate benefits, time to fulfilment, concerns by kind, and how the loop closes —
response time per partner and follow-up outcomes, each against the previous period — and
balances and spending per restriction on donated money."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from marshmallow import Schema, fields

from broker.api.auth import current_principal, require
from broker.api.blueprint import Blueprint
from broker.api.ledger import FILE_DESCRIPTION, FILE_DOC, file_response
from broker.api.schemas.funds import RestrictionReportArgs, RestrictionReportOut
from broker.api.schemas.money import (
    DisbursementReportArgs,
    DisbursementReportOut,
    DuplicateArgs,
    DuplicateReportOut,
    FormatArg,
    FulfilmentArgs,
    FulfilmentOut,
    PeriodArgs,
    RegionArg,
)
from broker.api.schemas.outcomes import ComparedPeriodArgs, FollowUpOutcomesOut, ResponseTimesOut
from broker.api.schemas.receipts import ReconciliationArgs, ReconciliationOut
from broker.money import fund_balances, reconciliation, region_reports, report_files
from broker.money.exports import XLSX_MIMETYPE
from broker.people import concern_report
from broker.platform import db
from broker.referral import outcome_files, outcome_reports

blp = Blueprint("reports", __name__, description="Reports on where the money went and how fast help arrived.")

READERS = ("auditor", "admin")


@blp.route("/reports/disbursements")
class DisbursementReport(MethodView):
    @require(*READERS)
    @blp.arguments(DisbursementReportArgs, location="query")
    @blp.response(200, DisbursementReportOut, description=FILE_DESCRIPTION)
    @blp.alt_response(200, schema=FILE_DOC, content_type="text/csv", description=FILE_DESCRIPTION, success=True)
    @blp.alt_response(200, schema=FILE_DOC, content_type=XLSX_MIMETYPE, description=FILE_DESCRIPTION, success=True)
    def get(self, args: dict) -> Any:
        """Count and amount of disbursements by partner, category, grid or month (local dates, both inclusive);
        with ``region``, only below that node, and ``by_region`` gives the totals per child node."""
        fmt, region, scope = args.pop("format"), args.pop("region", None), current_principal().grid_scope()
        if fmt != "json":
            grids = region_reports.grids_for(db.session(), scope, region)
            return file_response(report_files.export_disbursements(db.session(), fmt=fmt, grids=grids, **args))
        return region_reports.disbursements(db.session(), scope, region, **args)


@blp.route("/reports/duplicate-benefits")
class DuplicateBenefits(MethodView):
    @require(*READERS)
    @blp.arguments(DuplicateArgs, location="query")
    @blp.response(200, DuplicateReportOut)
    def get(self, args: dict) -> dict[str, Any]:
        """Households helped beyond the need in a category, or by several partners within window_days."""
        scope = current_principal().grid_scope()
        items = region_reports.duplicate_benefits(db.session(), scope, args.get("region"), args["window_days"])
        return {"window_days": args["window_days"], "items": items}


@blp.route("/reports/fulfilment")
class Fulfilment(MethodView):
    @require(*READERS)
    @blp.arguments(FulfilmentArgs, location="query")
    @blp.response(200, FulfilmentOut)
    def get(self, args: dict) -> Any:
        """Hours from request to completion by category: count, median and 90th percentile; with
        ``region``, only below that node, and ``by_region`` counts completions per child node."""
        region = args.pop("region", None)
        return region_reports.fulfilment(db.session(), current_principal().grid_scope(), region, **args)


class ConcernKindOut(Schema):
    kind = fields.String(required=True, metadata={"description": "A concern kind, or `all`."})
    label = fields.String(required=True)
    received = fields.Integer(required=True)
    closed = fields.Integer(required=True)
    within_deadline = fields.Integer(required=True)
    escalated = fields.Integer(required=True)
    median_days = fields.Float(allow_none=True, metadata={"description": "Median days from receipt to closing."})


class ConcernPeriodOut(Schema):
    date_from = fields.Date(required=True, data_key="from")
    date_to = fields.Date(required=True, data_key="to")
    rows = fields.List(fields.Nested(ConcernKindOut), required=True)
    overall = fields.Nested(ConcernKindOut, required=True)


class ConcernReportOut(Schema):
    current = fields.Nested(ConcernPeriodOut, required=True)
    previous = fields.Nested(ConcernPeriodOut, required=True, metadata={"description": "The period just before."})
    faster_percent = fields.Float(
        allow_none=True, metadata={"description": "How much faster concerns closed than before (median), in %."}
    )


class ConcernReportArgs(PeriodArgs, FormatArg, RegionArg):
    """``from``/``to`` (default: the last 30 days), the format and an optional ``region``."""


class ComparedRegionArgs(ComparedPeriodArgs, RegionArg):
    """The period compared with the one before, and an optional ``region``."""


class ReconciliationRegionArgs(ReconciliationArgs, RegionArg):
    """The local days and format, and an optional ``region``."""


def _grids(args: dict) -> frozenset[int] | None:
    """The grids a report counts: the reader's scope, narrowed to ``region`` if given."""
    return region_reports.grids_for(db.session(), current_principal().grid_scope(), args.pop("region", None))


@blp.route("/reports/concerns")
class ConcernReport(MethodView):
    @require(*READERS)
    @blp.arguments(ConcernReportArgs, location="query")
    @blp.response(200, ConcernReportOut, description=FILE_DESCRIPTION)
    @blp.alt_response(200, schema=FILE_DOC, content_type="text/csv", description=FILE_DESCRIPTION, success=True)
    @blp.alt_response(200, schema=FILE_DOC, content_type=XLSX_MIMETYPE, description=FILE_DESCRIPTION, success=True)
    def get(self, args: dict) -> Any:
        """Concerns by kind (received, closed, on time, escalated, median days to close) against the period before."""
        fmt, grids = args.pop("format"), _grids(args)
        if fmt != "json":
            return file_response(concern_report.export_concern_report(db.session(), fmt=fmt, grids=grids, **args))
        return concern_report.concern_report(db.session(), grids=grids, **args)


@blp.route("/reports/response-times")
class ResponseTimes(MethodView):
    @require(*READERS)
    @blp.arguments(ComparedRegionArgs, location="query")
    @blp.response(200, ResponseTimesOut, description=FILE_DESCRIPTION)
    @blp.alt_response(200, schema=FILE_DOC, content_type="text/csv", description=FILE_DESCRIPTION, success=True)
    @blp.alt_response(200, schema=FILE_DOC, content_type=XLSX_MIMETYPE, description=FILE_DESCRIPTION, success=True)
    def get(self, args: dict) -> Any:
        """Hours to first answer and to fulfilment per partner, against the previous period (fewer is better)."""
        fmt, grids = args.pop("format"), _grids(args)
        if fmt != "json":
            return file_response(outcome_files.export_response_times(db.session(), fmt=fmt, grids=grids, **args))
        return outcome_reports.response_times(db.session(), grids=grids, **args)


@blp.route("/reports/follow-up-outcomes")
class FollowUpOutcomes(MethodView):
    @require(*READERS)
    @blp.arguments(ComparedRegionArgs, location="query")
    @blp.response(200, FollowUpOutcomesOut, description=FILE_DESCRIPTION)
    @blp.alt_response(200, schema=FILE_DOC, content_type="text/csv", description=FILE_DESCRIPTION, success=True)
    @blp.alt_response(200, schema=FILE_DOC, content_type=XLSX_MIMETYPE, description=FILE_DESCRIPTION, success=True)
    def get(self, args: dict) -> Any:
        """Follow-up visits recorded: share of needs met and mean satisfaction, against the previous period."""
        fmt, grids = args.pop("format"), _grids(args)
        if fmt != "json":
            return file_response(outcome_files.export_follow_up_outcomes(db.session(), fmt=fmt, grids=grids, **args))
        return outcome_reports.follow_up_outcomes(db.session(), grids=grids, **args)


@blp.route("/reports/reconciliation")
class Reconciliation(MethodView):
    @require(*READERS)
    @blp.arguments(ReconciliationRegionArgs, location="query")
    @blp.response(200, ReconciliationOut, description=FILE_DESCRIPTION)
    @blp.alt_response(200, schema=FILE_DOC, content_type=XLSX_MIMETYPE, description=FILE_DESCRIPTION, success=True)
    def get(self, args: dict) -> Any:
        """Planned (accepted on offers) vs paid vs received (confirmed by the family) per partner and its
        fund, over local days (both inclusive); ``overdue_count``: unconfirmed past the partner's days."""
        session, grids = db.session(), _grids(args)
        if args.pop("format") == "xlsx":
            return file_response(reconciliation.export_reconciliation(session, grids=grids, **args))
        report = reconciliation.reconciliation(session, grids=grids, **args)
        rows = [{**vars(r), "unreceived_fen": r.unreceived_fen} for r in report.rows]
        return {"date_from": report.date_from, "date_to": report.date_to, "rows": rows, "totals": report.totals}


@blp.route("/reports/fund-restrictions")
class FundRestrictions(MethodView):
    @require(*READERS)
    @blp.arguments(RestrictionReportArgs, location="query")
    @blp.response(200, RestrictionReportOut, description=FILE_DESCRIPTION)
    @blp.alt_response(200, schema=FILE_DOC, content_type="text/csv", description=FILE_DESCRIPTION, success=True)
    @blp.alt_response(200, schema=FILE_DOC, content_type=XLSX_MIMETYPE, description=FILE_DESCRIPTION, success=True)
    def get(self, args: dict) -> Any:
        """Every partner's fund per restriction (定向/专项) and unrestricted: deposited, pledged, spent
        (net of reversals) and available, with each restriction's terms and whether it has expired. A reader
        scoped to a region sees only the parts restricted to regions below its node."""
        fmt, principal = args.pop("format"), current_principal()
        region_id = principal.region_id if principal.scoped else None
        if fmt != "json":
            return file_response(
                fund_balances.export_restriction_report(db.session(), fmt=fmt, region_id=region_id, **args)
            )
        return fund_balances.restriction_report(db.session(), region_id=region_id, **args)
