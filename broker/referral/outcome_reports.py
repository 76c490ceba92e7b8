"""How well the loop closes, for auditors: how fast partners answer and fulfil the
requests put to them, and what families say at the follow-up visit — each for a period
of local days and for the period of the same length just before it, with the change
between them said so that a positive change is always an improvement.

- **Response time per partner**: of the offers made in the period, how many were
  answered (accepted or declined; an offer left to expire is not an answer) and the
  median hours to that first answer; of the offers completed in the period, the median
  hours from the offer to its completion.
- **Follow-up outcomes**: of the visits recorded in the period, how many found the need
  met, partly met or not met, the share met, and the mean satisfaction (1–5).

Fewer hours are better; a larger share met and a higher satisfaction are better. The
"response efficiency up 40 %" figure is ``improvement_pct`` of the median hours to
answer: (previous − current) / previous."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, select, true
from sqlalchemy.orm import Session

from broker.money.report_basis import period_filter
from broker.money.time_to_help import percentile
from broker.platform import periods
from broker.referral import lifecycle
from models import AidRequest, FollowUp, Offer, Partner
from models.base import utcnow

DEFAULT_DAYS = 30
LOWER_IS_BETTER = "lower_is_better"
HIGHER_IS_BETTER = "higher_is_better"


@dataclass(frozen=True)
class Period:
    date_from: date
    date_to: date

    @property
    def days(self) -> int:
        return (self.date_to - self.date_from).days + 1


def periods_of(date_from: date | None, date_to: date | None, today: date | None = None) -> tuple[Period, Period]:
    """The period asked for (by default the last 30 local days, today included; one end
    given, 30 days from or to it) and the period of the same length just before it."""
    today = today or periods.to_local(utcnow()).date()
    if date_from and date_to:
        periods.bounds(date_from, date_to)  # a period that runs backwards is refused here
        current = Period(date_from, date_to)
    elif date_from:
        current = Period(date_from, date_from + timedelta(days=DEFAULT_DAYS - 1))
    else:
        end = date_to or today
        current = Period(end - timedelta(days=DEFAULT_DAYS - 1), end)
    before_end = current.date_from - timedelta(days=1)
    return current, Period(before_end - timedelta(days=current.days - 1), before_end)


@dataclass(frozen=True)
class Comparison:
    """One figure now and in the previous period. ``improvement_pct`` is positive when the
    figure got better, whichever way better runs (``direction``); None without a base."""

    current: float | None
    previous: float | None
    direction: str
    improvement_pct: float | None


def compare(current: float | None, previous: float | None, direction: str) -> Comparison:
    if current is None or previous is None or previous == 0:
        return Comparison(current, previous, direction, None)
    change = (previous - current) if direction == LOWER_IS_BETTER else (current - previous)
    return Comparison(current, previous, direction, round(100.0 * change / previous, 1))


def _median(values: list[float]) -> float | None:
    found = percentile(sorted(values), 0.5)
    return None if found is None else round(found, 2)


def _hours(start: datetime, end: datetime) -> float:
    return max(0.0, (end - start).total_seconds() / 3600)


# --- response time per partner ------------------------------------------------------------


@dataclass(frozen=True)
class ResponseRow:
    partner_id: int | None
    partner: str
    offers: int
    answered: int
    median_answer_hours: float | None
    completed: int
    median_fulfilment_hours: float | None


@dataclass(frozen=True)
class ResponseFigures:
    rows: list[ResponseRow]
    overall: ResponseRow


def _answered(offer_status: str, reason: str | None) -> bool:
    return not (offer_status == "cancelled" and reason == lifecycle.EXPIRED)


def _offers_on(grids: frozenset[int] | None) -> ColumnElement[bool]:
    """Offers for requests of ``grids`` (None: all)."""
    if grids is None:
        return true()
    return Offer.request_id.in_(select(AidRequest.id).where(AidRequest.grid_id.in_(sorted(grids) or [-1])))


def response_figures(session: Session, period: Period, grids: frozenset[int] | None = None) -> ResponseFigures:
    """Answer and fulfilment times per partner in one period (for requests of ``grids``)."""
    asked = session.execute(
        select(Offer.partner_id, Offer.created_at, Offer.answered_at, Offer.status, Offer.status_reason).where(
            period_filter(Offer.created_at, period.date_from, period.date_to), _offers_on(grids)
        )
    ).all()
    done = session.execute(
        select(Offer.partner_id, Offer.created_at, Offer.completed_at).where(
            Offer.status == "completed",
            Offer.completed_at.is_not(None),
            period_filter(Offer.completed_at, period.date_from, period.date_to),
            _offers_on(grids),
        )
    ).all()
    offers: dict[int, int] = defaultdict(int)
    answer_hours: dict[int, list[float]] = defaultdict(list)
    fulfil_hours: dict[int, list[float]] = defaultdict(list)
    for partner_id, created_at, answered_at, status, reason in asked:
        offers[partner_id] += 1
        if answered_at is not None and _answered(status, reason):
            answer_hours[partner_id].append(_hours(created_at, answered_at))
    for partner_id, created_at, completed_at in done:
        fulfil_hours[partner_id].append(_hours(created_at, completed_at))
    ids = sorted(set(offers) | set(fulfil_hours))
    names = dict(session.execute(select(Partner.id, Partner.name).where(Partner.id.in_(ids))).all()) if ids else {}
    rows = [
        ResponseRow(
            pid,
            names.get(pid, str(pid)),
            offers[pid],
            len(answer_hours[pid]),
            _median(answer_hours[pid]),
            len(fulfil_hours[pid]),
            _median(fulfil_hours[pid]),
        )
        for pid in ids
    ]
    every_answer = [h for hours in answer_hours.values() for h in hours]
    every_fulfilment = [h for hours in fulfil_hours.values() for h in hours]
    overall = ResponseRow(
        None,
        "",
        sum(offers.values()),
        len(every_answer),
        _median(every_answer),
        len(every_fulfilment),
        _median(every_fulfilment),
    )
    return ResponseFigures(sorted(rows, key=lambda r: (r.partner, r.partner_id or 0)), overall)


@dataclass(frozen=True)
class ResponseReport:
    period: Period
    previous_period: Period
    current: ResponseFigures
    previous: ResponseFigures
    answer: Comparison
    fulfilment: Comparison


def response_times(
    session: Session,
    date_from: date | None = None,
    date_to: date | None = None,
    today: date | None = None,
    grids: frozenset[int] | None = None,
) -> ResponseReport:
    """Response time per partner in the period and the one before it, with the change in
    the median hours to answer and to fulfil (positive: faster)."""
    current_period, previous_period = periods_of(date_from, date_to, today)
    current = response_figures(session, current_period, grids)
    previous = response_figures(session, previous_period, grids)
    return ResponseReport(
        current_period,
        previous_period,
        current,
        previous,
        compare(current.overall.median_answer_hours, previous.overall.median_answer_hours, LOWER_IS_BETTER),
        compare(current.overall.median_fulfilment_hours, previous.overall.median_fulfilment_hours, LOWER_IS_BETTER),
    )


# --- follow-up outcomes --------------------------------------------------------------------


@dataclass(frozen=True)
class OutcomeRow:
    category: str
    recorded: int
    met: int
    partly: int
    not_met: int
    met_share: float | None
    mean_satisfaction: float | None


def _outcome_row(category: str, visits: list[tuple[str, int]]) -> OutcomeRow:
    met = sum(1 for need_met, _ in visits if need_met == "yes")
    partly = sum(1 for need_met, _ in visits if need_met == "partly")
    scores = [score for _, score in visits]
    return OutcomeRow(
        category,
        len(visits),
        met,
        partly,
        len(visits) - met - partly,
        round(met / len(visits), 4) if visits else None,
        round(sum(scores) / len(scores), 2) if scores else None,
    )


@dataclass(frozen=True)
class OutcomeFigures:
    rows: list[OutcomeRow]
    overall: OutcomeRow


def outcome_figures(session: Session, period: Period, grids: frozenset[int] | None = None) -> OutcomeFigures:
    """Follow-up visits recorded in one period, per need category and in all (on ``grids``)."""
    on_grids = true() if grids is None else FollowUp.grid_id.in_(sorted(grids) or [-1])
    found = session.execute(
        select(FollowUp.category, FollowUp.need_met, FollowUp.satisfaction).where(
            FollowUp.status == "recorded",
            period_filter(FollowUp.recorded_at, period.date_from, period.date_to),
            on_grids,
        )
    ).all()
    by_category: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for category, need_met, satisfaction in found:
        by_category[category].append((need_met, satisfaction))
    everything = [visit for visits in by_category.values() for visit in visits]
    return OutcomeFigures(
        [_outcome_row(c, by_category[c]) for c in sorted(by_category)], _outcome_row("all", everything)
    )


@dataclass(frozen=True)
class OutcomeReport:
    period: Period
    previous_period: Period
    current: OutcomeFigures
    previous: OutcomeFigures
    met_share: Comparison
    satisfaction: Comparison


def follow_up_outcomes(
    session: Session,
    date_from: date | None = None,
    date_to: date | None = None,
    today: date | None = None,
    grids: frozenset[int] | None = None,
) -> OutcomeReport:
    """Follow-up outcomes in the period and the one before it, with the change in the
    share of needs met and in mean satisfaction (positive: better)."""
    current_period, previous_period = periods_of(date_from, date_to, today)
    current = outcome_figures(session, current_period, grids)
    previous = outcome_figures(session, previous_period, grids)
    return OutcomeReport(
        current_period,
        previous_period,
        current,
        previous,
        compare(current.overall.met_share, previous.overall.met_share, HIGHER_IS_BETTER),
        compare(current.overall.mean_satisfaction, previous.overall.mean_satisfaction, HIGHER_IS_BETTER),
    )
