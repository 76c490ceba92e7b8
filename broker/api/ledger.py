"""The ledger (台账) for auditors and admins: every transaction with its entries,
filtered and paged, or as a CSV/XLSX file; and the trial balance."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask.views import MethodView

from broker.api.auth import current_principal, require
from broker.api.blueprint import Blueprint
from broker.api.schemas.common import page_of
from broker.api.schemas.money import LedgerArgs, LedgerCheckOut, TransactionOut
from broker.money import ledger_queries, region_reports, report_files
from broker.money.exports import XLSX_MIMETYPE
from broker.platform import db

blp = Blueprint("ledger", __name__, description="The double-entry ledger, read-only.")

READERS = ("auditor", "admin")
FILE_DOC = {"type": "string", "format": "binary"}
FILE_DESCRIPTION = "JSON with amounts in fen; with format=csv or xlsx, a spreadsheet with amounts in yuan."


def file_response(file: report_files.ExportFile) -> Response:
    """A download: the file, its type and an attachment name."""
    return Response(
        file.content,
        mimetype=file.mimetype,
        headers={"Content-Disposition": f'attachment; filename="{file.filename}"', "Cache-Control": "no-store"},
    )


@blp.route("/ledger")
class Ledger(MethodView):
    @require(*READERS)
    @blp.arguments(LedgerArgs, location="query")
    @blp.response(200, page_of(TransactionOut), description=FILE_DESCRIPTION)
    @blp.alt_response(200, schema=FILE_DOC, content_type="text/csv", description=FILE_DESCRIPTION, success=True)
    @blp.alt_response(200, schema=FILE_DOC, content_type=XLSX_MIMETYPE, description=FILE_DESCRIPTION, success=True)
    def get(self, args: dict) -> Any:
        """Transactions newest first, each with its entries; filter by partner, household, kind, local dates
        and region (a reader scoped to a region sees the money that reached households below it)."""
        fmt, region = args.pop("format"), args.pop("region", None)
        page, per_page = args.pop("page"), args.pop("per_page")
        where = region_reports.ledger_filter(db.session(), current_principal().grid_scope(), region, **args)
        if fmt != "json":
            return file_response(report_files.export_ledger(db.session(), where, fmt=fmt))
        return ledger_queries.transactions(db.session(), where, page=page, per_page=per_page).as_dict()


@blp.route("/ledger/check")
class LedgerCheck(MethodView):
    @require(*READERS)
    @blp.response(200, LedgerCheckOut)
    def get(self) -> dict[str, Any]:
        """The trial balance: every transaction sums to zero, every balance equals its entries, none overdrawn."""
        return ledger_queries.check(db.session()).as_dict()
