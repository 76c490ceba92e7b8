"""Who may do what in the registry of households: partners never see it, auditors read
everything and change nothing, and a caseworker acts only within their own grids
(anything outside reads as not found, so its existence is not disclosed). Every registry
module asks here before it reads or writes."""

from __future__ import annotations

from broker.platform.errors import Forbidden
from broker.platform.scope import Principal
from models import Grid


def require_registry(principal: Principal, *, write: bool) -> None:
    """Partners never see the registry; auditors never change it."""
    if principal.role == "partner":
        raise Forbidden("Partners do not see the registry of households.")
    if write and principal.role == "auditor":
        raise Forbidden("Auditors read everything and change nothing.")


def require_own_grid(principal: Principal, grid: Grid) -> None:
    """For creating on a grid: a caseworker must hold it, a scoped admin must have it below
    its region (the grid itself is no secret)."""
    if (principal.role == "caseworker" or principal.scoped) and grid.id not in principal.grid_ids:
        raise Forbidden(
            f"You can record households only on your own grids; {grid.code} is not one of them.",
            details={"grid": grid.code},
        )


def visible_grid_ids(principal: Principal) -> frozenset[int] | None:
    """None means all grids; a scoped auditor or admin sees the grids below its node."""
    return principal.grid_scope() if principal.role in ("admin", "auditor") else principal.grid_ids
