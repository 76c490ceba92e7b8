"""The auditor dashboard's charts, each with the table that carries the same numbers:
money per month, category and partner, time to fulfilment, concerns, what each part of
a fund has left, and how the loop closes."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from markupsafe import Markup

from broker.money import disbursement_totals, time_to_help
from broker.people import concern_report
from broker.portal import charts, i18n, request_labels
from broker.referral import outcome_reports


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


def money_charts(
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


def voice_chart(report: concern_report.ConcernReport) -> Chart:
    """Concerns received per kind this period; the table adds how many were closed."""
    return Chart(
        "concerns",
        _("Concerns by kind"),
        _("Concerns and complaints received in the period, per kind, and how many were closed."),
        (_("Kind"), _("Received"), _("Closed")),
        [(row.label, row.received, str(row.received), row.closed) for row in report.current.rows],
    )


def restriction_chart(report: dict) -> Chart:
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


def loop_charts(responses: outcome_reports.ResponseReport, outcomes: outcome_reports.OutcomeReport) -> list[Chart]:
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
