"""Who may see and do what: the principal of a request and its scope checks.

Roles: caseworker (own grids), partner (own partner's offers; a volunteer team's users
are its leaders), auditor (reads all), admin, volunteer — a light account that sees
only its own record and its own team's tasks — and reporter (a mobile grid member), a
light account that reports households and sees only its own reports. An auditor or admin
scoped to a node of the region tree (``region_id``) holds every grid below it in
``grid_ids`` and reads through the same grid checks as a caseworker."""

from __future__ import annotations

from dataclasses import dataclass, field

from broker.platform.errors import Forbidden, NotFound

UNKNOWN_LOCALE = "?"


@dataclass(frozen=True)
class Principal:
    user_id: int
    username: str
    role: str
    partner_id: int | None = None
    grid_ids: frozenset[int] = field(default_factory=frozenset)
    region_id: int | None = None  # an auditor's or admin's node; None: the whole installation
    # The language the user chose to read in, when it was read with the principal
    # (``UNKNOWN_LOCALE``: not read; ask the database if it matters).
    locale: str | None = UNKNOWN_LOCALE

    @property
    def actor(self) -> str:
        return f"user:{self.user_id}:{self.username}"

    def require(self, *roles: str) -> None:
        if self.role not in roles:
            raise Forbidden(f"This action needs the role {' or '.join(roles)}; you are signed in as {self.role}.")

    @property
    def scoped(self) -> bool:
        """An auditor or admin limited to a subtree of the region tree."""
        return self.role in ("admin", "auditor") and self.region_id is not None

    def grid_scope(self) -> frozenset[int] | None:
        """The grids whose households, requests and money this principal may read; None
        means all (an auditor or admin of the whole installation)."""
        if self.role in ("admin", "auditor") and self.region_id is None:
            return None
        return self.grid_ids

    def region_scope(self) -> frozenset[int] | None:
        """For figures every reader sees city-wide: the grids of a scoped auditor or admin,
        None for anyone else."""
        return self.grid_ids if self.scoped else None

    def can_see_grid(self, grid_id: int) -> bool:
        scope = self.grid_scope()
        if self.role in ("admin", "auditor"):
            return scope is None or grid_id in scope
        return self.role == "caseworker" and grid_id in self.grid_ids

    def require_grid(self, grid_id: int, *, write: bool = False, what: str = "household") -> None:
        """Caseworkers act only within their own grids; auditors read all and write nothing.
        Out of scope reads as not found, so that existence is not disclosed."""
        if write and self.role == "auditor":
            raise Forbidden("Auditors read everything and change nothing.")
        if not self.can_see_grid(grid_id):
            raise NotFound(f"No such {what}.")

    def require_partner(self, partner_id: int, what: str = "offer") -> None:
        if self.role == "partner" and self.partner_id != partner_id:
            raise NotFound(f"No such {what}.")
        if self.role not in ("partner", "admin", "auditor"):
            raise NotFound(f"No such {what}.")

    def leads_team(self, team_id: int) -> bool:
        """A volunteer team's leaders are the users of that partner."""
        return self.role == "partner" and self.partner_id == team_id
