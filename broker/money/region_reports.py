"""Reports rolled up the region tree: which grids a report covers (a scoped reader's,
narrowed to a region they may see), and totals per child node of a region (per district
at the top), each the sum of the grids below it, so that a child's figures add up to
its parent's."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date

from sqlalchemy.orm import Session

from broker.money import disbursement_totals, duplicates, time_to_help
from broker.money.ledger_queries import LedgerFilter
from broker.platform.errors import NotFound
from broker.registry import region_tree
from broker.registry.region_tree import Tree

UNPLACED = "-"


@dataclass(frozen=True)
class RollupRow:
    code: str
    name: str
    kind: str  # a node's kind, or "grid" for the grids of a community
    count: int
    amount_fen: int


@dataclass(frozen=True)
class Rollup:
    code: str | None  # the region rolled up; None: the whole installation (per district)
    name: str
    rows: list[RollupRow]
    count: int
    amount_fen: int


def report_grids(tree: Tree, scope: frozenset[int] | None, region: str | None) -> frozenset[int] | None:
    """The grids a report may count: the reader's scope (None: all), narrowed to the
    region ``region``; a region unknown or outside the scope reads as not found."""
    if region is None:
        return scope
    node = tree.by_code.get(region)
    if node is None:
        raise NotFound("No such region.")
    below = tree.grids_below(node.id)
    if scope is not None:
        if not below <= scope and not (below & scope):
            raise NotFound("No such region.")
        below = below & scope
    return below


def _child_key(tree: Tree, parent_id: int | None, grid_id: int) -> tuple[str, str, str]:
    """The code, name and kind of the child of ``parent_id`` the grid counts under."""
    if parent_id is None:
        place = tree.place_of(grid_id)
        if place:
            return place[0].code, place[0].name, place[0].kind
        return UNPLACED, tree.county_of(grid_id) or UNPLACED, "district"
    child = tree.child_of(parent_id, grid_id)
    if child is not None:
        return child.code, child.name, child.kind
    code, name, _district = tree.grid_names[grid_id]
    return code, name, "grid"


def fold(tree: Tree, region: str | None, per_grid: dict[int, tuple[int, int]]) -> Rollup:
    """Totals per child of ``region`` (per district when None) from totals per grid."""
    node = tree.by_code.get(region) if region else None
    parent_id = node.id if node else None
    sums: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0])
    for gid, (count, amount) in per_grid.items():
        if gid not in tree.grid_names or (node is not None and not tree.covers(node.id, gid)):
            continue
        acc = sums[_child_key(tree, parent_id, gid)]
        acc[0] += count
        acc[1] += amount
    for child in tree.children.get(parent_id, []):  # children with nothing still show
        sums.setdefault((child.code, child.name, child.kind), [0, 0])
    rows = [RollupRow(code, name, kind, c, a) for (code, name, kind), (c, a) in sorted(sums.items())]
    return Rollup(
        code=node.code if node else None,
        name=tree.path_label(node) if node else "",
        rows=rows,
        count=sum(r.count for r in rows),
        amount_fen=sum(r.amount_fen for r in rows),
    )


def disbursement_rollup(
    session: Session,
    region: str | None,
    scope: frozenset[int] | None,
    date_from: date | None = None,
    date_to: date | None = None,
) -> Rollup:
    """Disbursements (count and amount) per child node of ``region``, within the scope."""
    tree = region_tree.load(session)
    grids = report_grids(tree, scope, region)
    return fold(tree, region, disbursement_totals.grid_totals(session, date_from, date_to, grids))


def fulfilment_rollup(
    session: Session,
    region: str | None,
    scope: frozenset[int] | None,
    date_from: date | None = None,
    date_to: date | None = None,
) -> Rollup:
    """Requests completed per child node of ``region`` (``count``; ``amount_fen`` is 0)."""
    tree = region_tree.load(session)
    grids = report_grids(tree, scope, region)
    per_grid: dict[int, tuple[int, int]] = {}
    for _category, gid, _hours in time_to_help.completed_hours(session, date_from, date_to, grids):
        count, _ = per_grid.get(gid, (0, 0))
        per_grid[gid] = (count + 1, 0)
    return fold(tree, region, per_grid)


def grids_for(session: Session, scope: frozenset[int] | None, region: str | None) -> frozenset[int] | None:
    """The grids a report counts for a reader of ``scope`` asking for ``region``."""
    if region is None:
        return scope
    return report_grids(region_tree.load(session), scope, region)


def disbursements(
    session: Session,
    scope: frozenset[int] | None,
    region: str | None = None,
    group_by: str = "partner",
    date_from: date | None = None,
    date_to: date | None = None,
) -> disbursement_totals.DisbursementReport:
    """The disbursement report within the reader's scope; with ``region``, only below it
    and with totals per child node (``by_region``)."""
    grids = grids_for(session, scope, region)
    report = disbursement_totals.disbursement_report(session, group_by, date_from, date_to, grids)
    if region is None:
        return report
    return replace(report, by_region=disbursement_rollup(session, region, scope, date_from, date_to))


def fulfilment(
    session: Session,
    scope: frozenset[int] | None,
    region: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
) -> time_to_help.FulfilmentReport:
    """Time to fulfilment within the reader's scope; with ``region``, only below it and
    with requests completed per child node (``by_region``)."""
    grids = grids_for(session, scope, region)
    report = time_to_help.fulfilment(session, date_from, date_to, grids)
    if region is None:
        return report
    return replace(report, by_region=fulfilment_rollup(session, region, scope, date_from, date_to))


def duplicate_benefits(
    session: Session, scope: frozenset[int] | None, region: str | None = None, window_days: int = 30
) -> list[duplicates.DuplicateBenefit]:
    """Possible duplicate benefits of households within the scope (and below ``region``)."""
    return duplicates.duplicate_benefits(session, window_days, grids_for(session, scope, region))


def ledger_filter(
    session: Session, scope: frozenset[int] | None, region: str | None = None, **where: object
) -> LedgerFilter:
    """The ledger filter for a reader of ``scope``: only money that reached households on
    its grids (and below ``region``); an unscoped reader with no region sees it all."""
    return LedgerFilter(**where, grids=grids_for(session, scope, region))  # type: ignore[arg-type]
