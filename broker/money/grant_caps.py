"""Auto-grant caps: how much one fund may grant one household without a human decision in
a period (the 700-yuan emergency grant once in twelve months).

A cap is part of an auto-grant fund's settings (``cap_fen_per_household`` and
``cap_period_days``). Routing reads it to explain whether a need will be paid at once or
go to the fund's people; the delivery reads it again, under the fund's account lock, just
before the automatic payment, so that two requests of one household routed at the same
moment cannot both pass a cap that only one fits."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from broker.money.ledger import lock_partner
from broker.money.report_basis import not_reversed
from models import Disbursement
from models.base import utcnow


@dataclass(frozen=True)
class Cap:
    """At most ``cap_fen`` to one household in any ``period_days`` days."""

    cap_fen: int
    period_days: int


def cap_of(config: Mapping[str, Any] | None) -> Cap | None:
    """The cap in a fund's adapter settings, if it has one."""
    config = config or {}
    cap, days = config.get("cap_fen_per_household"), config.get("cap_period_days")
    if not isinstance(cap, int) or not isinstance(days, int) or isinstance(cap, bool) or isinstance(days, bool):
        return None
    return Cap(cap, days)


def received(session: Session, partner_id: int, household_id: int, cap: Cap, now: datetime | None = None) -> int:
    """What the fund paid the household in money within the cap's period, net of reversals."""
    since = (now or utcnow()) - timedelta(days=cap.period_days)
    total = session.scalar(
        select(func.coalesce(func.sum(Disbursement.amount_fen), 0)).where(
            Disbursement.partner_id == partner_id,
            Disbursement.household_id == household_id,
            Disbursement.kind == "cash",
            Disbursement.created_at >= since,
            not_reversed(),
        )
    )
    return int(total or 0)


def received_locked(session: Session, partner_id: int, partner_name: str, household_id: int, cap: Cap) -> int:
    """:func:`received`, read after taking the fund's account locks: every payment from the
    fund waits on them, so the sum is final until this transaction ends."""
    lock_partner(session, partner_id, partner_name)
    return received(session, partner_id, household_id, cap)
