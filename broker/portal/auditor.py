"""The auditor's pages: a dashboard of where the money went (charts drawn on the server,
with the numbers in tables too), the ledger (台账) with filters, the state of the audit
chain, who read families' sensitive fields (the access log), and the exports. Auditors
read everything and change nothing here; the one thing they decide, a reversal proposed
by someone else, is in :mod:`broker.portal.reversals`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import Blueprint, Response, abort, render_template, request
from flask_babel import gettext as _
from markupsafe import Markup
from wtforms.fields.choices import SelectChoice

from broker import audit
from broker.money import disbursement_totals, duplicates, fund_balances, ledger_queries, report_files, time_to_help
from broker.money.ledger_queries import LedgerFilter
from broker.people import concern_report
from broker.platform import db
from broker.portal import charts, i18n, request_labels
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
        LedgerFilter(partner_id=int(partner) if partner else None, kind=kind, date_from=since, date_to=until),
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
    session = db.session()
    since, until, args = _period()
    by = {
        group: disbursement_totals.disbursement_report(session, group, since, until)
        for group in ("month", "category", "partner")
    }
    fulfilment = time_to_help.fulfilment(session, since, until)
    voice = concern_report.concern_report(session, since, until)
    responses = outcome_reports.response_times(session, _reportable(since), _reportable(until))
    outcomes = outcome_reports.follow_up_outcomes(session, _reportable(since), _reportable(until))
    restricted = fund_balances.restriction_report(session)
    return render_template(
        "portal/auditor/dashboard.html",
        by=by,
        charts=_charts(by, fulfilment),
        voice=voice,
        voice_chart=_voice_chart(voice),
        loop_charts=_loop_charts(responses, outcomes),
        responses=responses,
        outcomes=outcomes,
        fulfilment=fulfilment,
        duplicates=duplicates.duplicate_benefits(session),
        reversals=reversals.queue_rows(session, current_principal(), "pending", limit=10),
        restricted=restricted,
        restricted_chart=_restriction_chart(restricted),
        books=ledger_queries.check(session),
        chain=audit.verify_since_checkpoint(session),
        since=since,
        until=until,
        args=args,
    )


@dataclass(frozen=True)
class Chart:
    """One chart of the dashboard and the table that carries the same numbers."""

    id: str
    title: str
    desc: str
    head: tuple[str, str, str]
    rows: list[tuple[str, float, str, int]]  # label, value drawn, value written, count

    @property
    def svg(self) -> Markup:
        return charts.bar_chart(
            [(label, value, written) for label, value, written, _count in self.rows],
            chart_id=self.id,
            title=self.title,
            desc=self.desc,
            empty=_("Nothing to show for this period."),
        )


def _money_rows(
    report: disbursement_totals.DisbursementReport, *, by_code: bool = False
) -> list[tuple[str, float, str, int]]:
    return [
        (
            i18n.label(row.key, "category") if by_code else row.label,
            row.amount_fen,
            i18n.format_yuan(row.amount_fen),
            row.count,
        )
        for row in report.rows
    ]


def _charts(
    by: dict[str, disbursement_totals.DisbursementReport], fulfilment: time_to_help.FulfilmentReport
) -> list[Chart]:
    total = i18n.format_yuan(by["month"].amount_fen)
    amount, count = _("Amount"), _("Disbursements")
    money = [
        (
            "month",
            _("Disbursed per month"),
            _("Money, goods and services that reached families, per month: %(total)s in all.", total=total),
            _("Month"),
        ),
        (
            "category",
            _("Disbursed per category"),
            _("Disbursements per need category: %(total)s in all.", total=total),
            _("Category"),
        ),
        (
            "partner",
            _("Disbursed per partner"),
            _("Disbursements per partner organisation: %(total)s in all.", total=total),
            _("Partner"),
        ),
    ]
    return [
        *(
            Chart(f"by-{key}", title, blurb, (label, amount, count), _money_rows(by[key], by_code=key == "category"))
            for key, title, blurb, label in money
        ),
        Chart(
            "fulfilment",
            _("Time to fulfilment"),
            _("Median hours from request to completion, per category."),
            (_("Category"), _("Median hours"), _("Completed")),
            [
                (
                    i18n.label(row.category, "category"),
                    row.median_hours,
                    _("%(h)s h", h=row.median_hours),
                    str(row.completed),
                )
                for row in fulfilment.rows
                if row.median_hours is not None
            ],
        ),
    ]


def _voice_chart(report: concern_report.ConcernReport) -> Chart:
    """Concerns received per kind this period; the table adds how many were closed."""
    return Chart(
        "concerns",
        _("Concerns by kind"),
        _("Concerns and complaints received in the period, per kind, and how many were closed."),
        (_("Kind"), _("Received"), _("Closed")),
        [(row.label, row.received, str(row.received), row.closed) for row in report.current.rows],
    )


def _restriction_chart(report: dict) -> Chart:
    """What each part of each fund still has to offer; the table adds what it spent."""
    return Chart(
        "fund-parts",
        _("Available per restriction"),
        _("Money not yet promised, per partner and part of its fund (restricted and unrestricted)."),
        (_("Part of the fund"), _("Available"), _("Spent")),
        [
            (
                f"{part.partner_name} · {request_labels.say(part.short)}",
                part.available_fen,
                i18n.format_yuan(part.available_fen),
                i18n.format_yuan(part.spent_fen),
            )
            for part in report["parts"]
        ],
    )


def _reportable(day: date | None) -> date | None:
    """A day the loop reports can compare (the previous period must exist): else the default."""
    return day if day and date(2000, 1, 1) <= day <= date(2099, 12, 31) else None


def _loop_charts(responses: outcome_reports.ResponseReport, outcomes: outcome_reports.OutcomeReport) -> list[Chart]:
    """How the loop closes: hours to answer per partner, and needs met per category."""
    return [
        Chart(
            "answer-hours",
            _("Median hours to answer, per partner"),
            _("Hours from an offer to the partner's answer (accepted or declined); fewer is better."),
            (_("Partner"), _("Median hours"), _("Answered")),
            [
                (row.partner, row.median_answer_hours, _("%(h)s h", h=row.median_answer_hours), str(row.answered))
                for row in responses.current.rows
                if row.median_answer_hours is not None
            ],
        ),
        Chart(
            "need-met",
            _("Needs met at the follow-up visit, per category"),
            _("Share of follow-up visits that found the need met; more is better."),
            (_("Category"), _("Share met"), _("Visits recorded")),
            [
                (
                    i18n.label(row.category, "category"),
                    100 * row.met_share,
                    f"{100 * row.met_share:.1f}%",
                    str(row.recorded),
                )
                for row in outcomes.current.rows
                if row.met_share is not None
            ],
        ),
    ]


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
    file = concern_report.export_concern_report(db.session(), since, until, fmt=fmt)
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
        partner_id=int(partner) if partner and partner.isdigit() else None, kind=kind, date_from=since, date_to=until
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
    return _download(report_files.export_disbursements(db.session(), group, since, until, fmt=fmt))


@bp.get("/exports/fund-restrictions.<fmt>")
@role_required(*READERS)
def export_fund_restrictions(fmt: str) -> Response:
    """Balances and spending per restriction, every partner, as CSV or XLSX."""
    if fmt not in EXPORTS:
        abort(404)
    return _download(fund_balances.export_restriction_report(db.session(), fmt=fmt))


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
    return _download(LOOP_EXPORTS[report](db.session(), _reportable(since), _reportable(until), fmt=fmt))


def _download(file: report_files.ExportFile) -> Response:
    response = Response(file.content, mimetype=file.mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{file.filename}"'
    return response
