"""Age-based facts change on birthdays: a child turns 6 and is of school age, a parent
turns 60. Each day the households with a birthday are recomputed, so that the policy
scan finds people on the day they qualify rather than at the next edit of the household.

The pass covers the last week of birthdays (a day the scheduler missed is caught up) and
is idempotent: a household whose facts did not change is left alone, and one that did is
recorded on the audit chain with the counts before and after (no names)."""

from __future__ import annotations

import calendar
from datetime import date, timedelta

from sqlalchemy import and_, extract, or_, select
from sqlalchemy.orm import Session, selectinload

from broker import audit
from broker.registry import household_facts
from models import Household, Member

CATCH_UP_DAYS = 7


def _birthdays(today: date, days: int) -> list[tuple[int, int]]:
    """(month, day) of every birthday in the last ``days`` days; 29 February counts on
    1 March in a common year."""
    out = []
    for back in range(days):
        day = today - timedelta(days=back)
        out.append((day.month, day.day))
        if (day.month, day.day) == (3, 1) and not calendar.isleap(day.year):
            out.append((2, 29))
    return out


def refresh_birthdays(session: Session, today: date | None = None, days: int = CATCH_UP_DAYS) -> int:
    """Recompute the facts of households with a living member whose birthday fell in the
    last ``days`` days; returns how many households' facts changed."""
    today = today or household_facts.local_today()
    on_day = [
        and_(extract("month", Member.birth_date) == m, extract("day", Member.birth_date) == d)
        for m, d in _birthdays(today, days)
    ]
    with_birthday = (
        select(Member.household_id)
        .where(Member.birth_date.is_not(None), Member.deceased_on.is_(None), or_(*on_day))
        .distinct()
    )
    households = session.scalars(
        select(Household).where(Household.id.in_(with_birthday)).options(selectinload(Household.members))
    ).all()
    changed = 0
    for household in households:
        before = {k: getattr(household, k) for k in household_facts.FACT_COLUMNS}
        after = household_facts.refresh(household, today)
        if after != before:
            changed += 1
            audit.record(
                session,
                "household.facts_refreshed",
                household,
                household_id=household.id,
                before={k: v for k, v in before.items() if after[k] != v},
                after={k: v for k, v in after.items() if before[k] != v},
                details={"why": "birthday", "on": today.isoformat()},
            )
    session.flush()
    return changed
