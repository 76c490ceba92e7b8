"""Reporting periods. People ask for days and months in local time (Asia/Shanghai by
default); the database keeps UTC. A period ``from``–``to`` is both days inclusive, i.e.
``[from 00:00 local, to + 1 day 00:00 local)`` in UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from broker.platform import runtime
from broker.platform.errors import Invalid

DEFAULT_ZONE = "Asia/Shanghai"


def zone_name() -> str:
    """The configured local time zone (``TIMEZONE``), or Asia/Shanghai outside an app."""
    try:
        return runtime.settings().get("TIMEZONE") or DEFAULT_ZONE
    except RuntimeError:
        return DEFAULT_ZONE


def local_zone() -> ZoneInfo:
    return ZoneInfo(zone_name())


def start_of_day(day: date) -> datetime:
    """Local midnight of ``day``, in UTC."""
    return datetime.combine(day, time.min, tzinfo=local_zone()).astimezone(UTC)


def bounds(date_from: date | None, date_to: date | None) -> tuple[datetime | None, datetime | None]:
    """UTC ``[start, end)`` of the local days ``date_from``..``date_to`` (either open).
    Raises :class:`Invalid` when the period runs backwards."""
    if date_from and date_to and date_from > date_to:
        raise Invalid(
            f"The period runs backwards: from {date_from.isoformat()} is after to {date_to.isoformat()}.",
            details={"from": ["must not be after to"]},
        )
    start = start_of_day(date_from) if date_from else None
    end = start_of_day(date_to + timedelta(days=1)) if date_to else None
    return start, end


def to_local(moment: datetime) -> datetime:
    """A stored UTC timestamp as local wall-clock time (timezone-aware)."""
    return moment.astimezone(local_zone())


def utc_offset_hours() -> float:
    """The local zone's present offset from UTC, for SQLite's date arithmetic (exact for
    zones without daylight saving, such as Asia/Shanghai)."""
    offset = datetime.now(local_zone()).utcoffset() or timedelta(0)
    return offset.total_seconds() / 3600
