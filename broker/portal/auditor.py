"""The auditor's pages: a dashboard of where the money went (charts drawn on the server,
with the numbers in tables too), the ledger (台账) with filters, the state of the audit
chain, who read families' sensitive fields (the access log), and the exports. Auditors
read everything and change nothing here; the one thing they decide, a reversal proposed
by someone else, is in :mod:`broker.portal.reversals`."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, abort, render_template, request
from flask_babel import gettext as _
from wtforms.fields.choices import SelectChoice

from broker import audit
from broker.money import disbursement_totals, duplicates, fund_balances, ledger_queries, report_files, time_to_help
from broker.money.ledger_queries import LedgerFilter
from broker.people import concern_report
from broker.platform import db
from broker.portal import dashboard_charts, region_rollups
from broker.portal.auth import current_principal, role_required
from broker.portal.forms import LedgerFilterForm
from broker.portal.pages import page_arg
from broker.referral import outcome_files, outcome_reports, partners, reversals
from broker.registry import access_log

bp = Blueprint("portal_auditor", __name__, url_prefix="/auditor")
PER_PAGE = 50
READERS = ("auditor", "admin")


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _partner_choices() -> list[SelectChoice]:
    page = partners.list_partners(db.session(), current_principal(), per_page=500)
    return [SelectChoice("", _("All")), *(SelectChoice(str(p.id), p.name) for p in page.items)]


@bp.get("/ledger", endpoint="ledger")
@role_required(*READERS)
def ledger_page() -> str:
    """The ledger, newest first, filtered by kind, partner and local dates."""
    form = LedgerFilterForm(request.args)
    form.partner.choices = _partner_choices()
    valid = form.validate()
    kind = form.kind.data or None if valid else None
    partner = form.partner.data or None if valid else None
    since, until = _date(form.since.data), _date(form.until.data)
    if form.since.data and since is None:
        form.since.errors = [*form.since.errors, _("Use the form YYYY-MM-DD.")]
    if form.until.data and until is None:
        form.until.errors = [*form.until.errors, _("Use the form YYYY-MM-DD.")]
    page = ledger_queries.transactions(
        db.session(),
        LedgerFilter(
            partner_id=int(partner) if partner else None,
            kind=kind,
            date_from=since,
            date_to=until,
            grids=current_principal().grid_scope(),
        ),
        page=page_arg(request.args.get("page")),
        per_page=PER_PAGE,
    )
    wanted = {"kind": kind, "partner": partner, "since": form.since.data, "until": form.until.data}
    args = {k: v for k, v in wanted.items() if v}
    return render_template("portal/auditor/ledger.html", form=form, page=page, args=args)


@bp.get("/access-log")
@role_required(*READERS)
def access() -> str:
    """Who read a family's sensitive fields (full ID numbers, health, minors), newest
    first, for one household (?household=) and/or one user (?user=, the sign-in name)."""
    session = db.session()
    household_arg = (request.args.get("household") or "").strip()
    user_arg = (request.args.get("user") or "").strip()[:64]
    household = int(household_arg) if household_arg.isdigit() and len(household_arg) < 12 else None
    user_id = access_log.user_id_of(session, user_arg) if user_arg else None
    unknown_user = bool(user_arg) and user_id is None
    page = access_log.entries(
        session,
        current_principal(),
        household_id=household,
        user_id=-1 if unknown_user else user_id,
        page=page_arg(request.args.get("page")),
        per_page=PER_PAGE,
    )
    args = {k: v for k, v in (("household", household), ("user", user_arg)) if v}
    return render_template(
        "portal/auditor/access_log.html",
        page=page,
        args=args,
        household=household_arg,
        user=user_arg,
        unknown_user=unknown_user,
        bad_household=bool(household_arg) and household is None,
        field_names={
            access_log.ID_NUMBER: _("ID number in full"),
            access_log.HEALTH: _("Health"),
            access_log.MINORS: _("Children's details"),
        },
    )


@bp.get("/audit")
@role_required(*READERS)
def chain() -> str:
    """Whether the hash chain of the audit log is intact (verified on from the last
    checkpoint; ``?full=1`` walks it all), and whether the books balance."""
    session = db.session()
    full = request.args.get("full") == "1"
    result = audit.verify(session) if full else audit.verify_since_checkpoint(session)
    return render_template(
        "portal/auditor/chain.html",
        result=result,
        books=ledger_queries.check(session),
    )


def _period() -> tuple[date | None, date | None, dict[str, str]]:
    since, until = _date(request.args.get("since")), _date(request.args.get("until"))
    args = {k: v.isoformat() for k, v in (("since", since), ("until", until)) if v}
    return since, until, args


@bp.get("/")
@role_required(*READERS)
def dashboard() -> str:
    """Where the money went — per month, category and partner — and how long help took,
    as charts with their numbers in tables; possible duplicate benefits; the books and
    the audit chain at a glance."""
    session, scope = db.session(), current_principal().grid_scope()
    since, until, args = _period()
    by = {
        group: disbursement_totals.disbursement_report(session, group, since, until, scope)
        for group in ("month", "category", "partner")
    }
    fulfilment = time_to_help.fulfilment(session, since, until, scope)
    voice = concern_report.concern_report(session, since, until, scope)
    responses = outcome_reports.response_times(session, _reportable(since), _reportable(until), grids=scope)
    outcomes = outcome_reports.follow_up_outcomes(session, _reportable(since), _reportable(until), grids=scope)
    restricted = fund_balances.restriction_report(session, region_id=_region())
    return render_template(
        "portal/auditor/dashboard.html",
        by=by,
        charts=dashboard_charts.money_charts(by, fulfilment),
        voice=voice,
        voice_chart=dashboard_charts.voice_chart(voice),
        loop_charts=dashboard_charts.loop_charts(responses, outcomes),
        responses=responses,
        outcomes=outcomes,
        fulfilment=fulfilment,
        duplicates=duplicates.duplicate_benefits(session, grids=scope),
        rollups=region_rollups.sections(session, current_principal(), since, until),
        reversals=reversals.queue_rows(session, current_principal(), "pending", limit=10),
        restricted=restricted,
        restricted_chart=dashboard_charts.restriction_chart(restricted),
        books=ledger_queries.check(session),
        chain=audit.verify_since_checkpoint(session),
        since=since,
        until=until,
        args=args,
    )


def _reportable(day: date | None) -> date | None:
    """A day the loop reports can compare (the previous period must exist): else the default."""
    return day if day and date(2000, 1, 1) <= day <= date(2099, 12, 31) else None


EXPORTS = {"csv", "xlsx"}
LOOP_EXPORTS = {
    "response-times": outcome_files.export_response_times,
    "follow-up-outcomes": outcome_files.export_follow_up_outcomes,
}


@bp.get("/exports/concerns.<fmt>")
@role_required(*READERS)
def export_concerns(fmt: str) -> Response:
    """The concern report (this period and the one before) as CSV or XLSX."""
    if fmt not in EXPORTS:
        abort(404)
    since, until, _args = _period()
    file = concern_report.export_concern_report(db.session(), since, until, fmt=fmt, grids=_scope())
    return _download(file)


@bp.get("/exports/ledger.<fmt>")
@role_required(*READERS)
def export_ledger(fmt: str) -> Response:
    """The ledger as CSV or XLSX, with the page's filters."""
    if fmt not in EXPORTS:
        abort(404)
    since, until, _args = _period()
    kind = request.args.get("kind") or None
    partner = request.args.get("partner")
    where = LedgerFilter(
        partner_id=int(partner) if partner and partner.isdigit() else None,
        kind=kind,
        date_from=since,
        date_to=until,
        grids=_scope(),
    )
    file = report_files.export_ledger(db.session(), where, fmt=fmt)
    return _download(file)


@bp.get("/exports/disbursements-by-<group>.<fmt>")
@role_required(*READERS)
def export_disbursements(group: str, fmt: str) -> Response:
    """The disbursement report, grouped by partner, category, grid or month, as CSV or XLSX."""
    if fmt not in EXPORTS or group not in disbursement_totals.GROUPINGS:
        abort(404)
    since, until, _args = _period()
    return _download(report_files.export_disbursements(db.session(), group, since, until, fmt=fmt, grids=_scope()))


@bp.get("/exports/fund-restrictions.<fmt>")
@role_required(*READERS)
def export_fund_restrictions(fmt: str) -> Response:
    """Balances and spending per restriction, every partner, as CSV or XLSX."""
    if fmt not in EXPORTS:
        abort(404)
    return _download(fund_balances.export_restriction_report(db.session(), fmt=fmt, region_id=_region()))


@bp.get("/exports/response-times.<fmt>")
@role_required(*READERS)
def export_response_times(fmt: str) -> Response:
    """Response time per partner, against the previous period, as CSV or XLSX."""
    return _loop_export("response-times", fmt)


@bp.get("/exports/follow-up-outcomes.<fmt>")
@role_required(*READERS)
def export_follow_up_outcomes(fmt: str) -> Response:
    """Follow-up outcomes per category, against the previous period, as CSV or XLSX."""
    return _loop_export("follow-up-outcomes", fmt)


def _loop_export(report: str, fmt: str) -> Response:
    if fmt not in EXPORTS:
        abort(404)
    since, until, _args = _period()
    return _download(
        LOOP_EXPORTS[report](db.session(), _reportable(since), _reportable(until), fmt=fmt, grids=_scope())
    )


def _scope() -> frozenset[int] | None:
    """The grids the signed-in reader may see (None: all)."""
    return current_principal().grid_scope()


def _region() -> int | None:
    """The node of a scoped reader (None: the whole installation)."""
    principal = current_principal()
    return principal.region_id if principal.scoped else None


def _download(file: report_files.ExportFile) -> Response:
    response = Response(file.content, mimetype=file.mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{file.filename}"'
    return response
