"""Whether a list of regions covers a household's grid: the one rule routing uses for the
regions a partner serves and the ledger for the regions restricted money may reach, kept
in one place so that both change together."""

from __future__ import annotations

from collections.abc import Iterable

ALL_REGIONS = "*"


def covers(regions: Iterable[str] | None, grid_code: str) -> bool:
    """True when ``regions`` (grid codes, or ``*`` for everywhere) include ``grid_code``."""
    listed = list(regions or [])
    return ALL_REGIONS in listed or grid_code in listed
