"""Balances per restriction: what each part of a fund received, holds pledged, paid out
and still has — for one partner (its funds page and ``GET /partners/{id}/funds``) and
across partners (the auditor's restriction report, as JSON or a file). All read from the
ledger's entries, so the parts add up to the partner's fund.

A reader scoped to a node of the region tree sees in the report only the money donors
earmarked for its region: the parts whose restriction names regions that all lie at or
below its node. Unrestricted money, and money restricted to grids elsewhere or across
several districts, is the whole installation's, and its figures are not split by place."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from broker.money import restrictions
from broker.money.exports import Column
from broker.money.report_files import ExportFile, export_file
from broker.platform import texts
from broker.platform.errors import found
from broker.platform.texts import N_, define
from broker.registry import region_tree
from models import Account, Entry, FundRestriction, LedgerTransaction, Partner

define(
    {
        "export.fund_restrictions": N_("Balances per restriction"),
        "export.fund_part": N_("Part of the fund"),
        "export.deposited_yuan": N_("Deposited (yuan)"),
        "export.pledged_yuan": N_("Pledged (yuan)"),
        "export.spent_yuan": N_("Spent (yuan)"),
        "export.available_yuan": N_("Available (yuan)"),
        "export.expires_on": N_("Last day"),
    }
)


@dataclass(frozen=True)
class PartBalance:
    """One part of one partner's fund; ``available_fen`` of an expired part is no longer
    offered (``expired``)."""

    partner_id: int
    partner_name: str
    restriction_id: int | None
    categories: list[str]
    regions: list[str]
    programme: str
    expires_on: date | None
    expired: bool
    deposited_fen: int
    pledged_fen: int
    spent_fen: int
    available_fen: int
    label: dict
    short: dict  # the programme alone (or "unrestricted"), for charts


def _parts(session: Session, partner_id: int | None, on: date) -> list[PartBalance]:
    where = [Account.kind.in_(("fund", "pledged")), Account.partner_id.is_not(None)]
    if partner_id is not None:
        where.append(Account.partner_id == partner_id)
    accts = list(session.execute(select(Account).where(*where).order_by(Account.id)).scalars())
    if not accts:
        return []
    moved: dict[tuple[int, str], int] = defaultdict(int)
    for aid, kind, total in session.execute(
        select(Entry.account_id, LedgerTransaction.kind, func.sum(Entry.amount_fen))
        .join(LedgerTransaction, LedgerTransaction.id == Entry.transaction_id)
        .where(Entry.account_id.in_([a.id for a in accts]))
        .group_by(Entry.account_id, LedgerTransaction.kind)
    ):
        moved[(aid, kind)] = int(total or 0)
    terms = restrictions.of_accounts(session, accts)
    names = dict(session.execute(select(Partner.id, Partner.name)).all())
    figures: dict[tuple[int, int | None], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for a in accts:
        f = figures[(a.partner_id, a.restriction_id)]
        if a.kind == "fund":
            f["deposited"] += moved[(a.id, "deposit")]
            f["available"] += a.balance_fen
        else:
            f["pledged"] += a.balance_fen
            f["spent"] -= moved[(a.id, "disbursement")] + moved[(a.id, "reversal")]
    out = []
    for (pid, rid), f in figures.items():
        r: FundRestriction | None = terms.get(rid) if rid is not None else None
        t = restrictions.terms(r)
        out.append(
            PartBalance(
                partner_id=pid,
                partner_name=names.get(pid, ""),
                restriction_id=rid,
                categories=t["categories"],
                regions=t["regions"],
                programme=t["programme"],
                expires_on=t["expires_on"],
                expired=bool(r is not None and r.expires_on is not None and r.expires_on < on),
                deposited_fen=f["deposited"],
                pledged_fen=f["pledged"],
                spent_fen=f["spent"],
                available_fen=f["available"],
                label=restrictions.describe(r, on),
                short=restrictions.short(r),
            )
        )
    return sorted(
        out, key=lambda p: (p.partner_name, p.partner_id, restrictions.draw_order(terms.get(p.restriction_id)))
    )


def partner_parts(session: Session, partner_id: int, on: date | None = None) -> dict[str, Any]:
    """A partner's fund part by part, restricted parts first (in the order they are drawn),
    the unrestricted part last, with the sums over all parts."""
    partner = found(session.get(Partner, partner_id), "partner")
    parts = _parts(session, partner.id, on or restrictions.today())
    return {"partner_id": partner.id, "partner_name": partner.name, "parts": parts, "totals": _totals(parts)}


def _totals(parts: list[PartBalance]) -> dict[str, int]:
    keys = ("deposited_fen", "pledged_fen", "spent_fen", "available_fen")
    return {k: sum(getattr(p, k) for p in parts) for k in keys}


def within(tree: region_tree.Tree, region_id: int, codes: list[str]) -> bool:
    """Whether every code (a grid's or a node's) lies at or below the node ``region_id``;
    an empty list (money for any grid) does not."""
    if not codes:
        return False
    for code in codes:
        node = tree.by_code.get(code)
        if node is not None:
            path = tree.ancestors(node.id)
        elif code in tree.grid_ids:
            path = tree.ancestors(tree.grid_node.get(tree.grid_ids[code]))
        else:
            return False
        if all(n.id != region_id for n in path):
            return False
    return True


def restriction_report(
    session: Session, on: date | None = None, *, restricted_only: bool = False, region_id: int | None = None
) -> dict[str, Any]:
    """Every partner's fund part by part (with ``restricted_only``, the restricted parts
    alone), and the totals: what an auditor signs off per restriction. ``region_id``: a
    scoped reader's node, who sees only the parts restricted to regions below it."""
    parts = _parts(session, None, on or restrictions.today())
    if restricted_only:
        parts = [p for p in parts if p.restriction_id is not None]
    if region_id is not None:
        tree = region_tree.load(session)
        parts = [p for p in parts if within(tree, region_id, p.regions)]
    return {"parts": parts, "totals": _totals(parts)}


COLUMNS = [
    Column("partner_name", "export.partner", "text", 24),
    Column("part", "export.fund_part", "text", 48),
    Column("deposited_fen", "export.deposited_yuan", "yuan", 16),
    Column("pledged_fen", "export.pledged_yuan", "yuan", 16),
    Column("spent_fen", "export.spent_yuan", "yuan", 16),
    Column("available_fen", "export.available_yuan", "yuan", 16),
    Column("expires_on", "export.expires_on", "text", 12),
]


def export_restriction_report(
    session: Session, *, fmt: str = "xlsx", restricted_only: bool = False, region_id: int | None = None
) -> ExportFile:
    """The restriction report as a CSV or XLSX file, parts named in the reader's language
    (a scoped reader's: only the parts restricted to regions below its node)."""
    report = restriction_report(session, restricted_only=restricted_only, region_id=region_id)
    rows = [
        {
            "partner_name": p.partner_name,
            "part": texts.render(p.label["code"], p.label["params"]),
            **{k: getattr(p, k) for k in ("deposited_fen", "pledged_fen", "spent_fen", "available_fen")},
            "expires_on": p.expires_on.isoformat() if p.expires_on else "",
        }
        for p in report["parts"]
    ]
    totals = {"partner_name": texts.render("export.total"), "part": "", "expires_on": "", **report["totals"]}
    stem = f"fund-restrictions-{restrictions.today().isoformat()}"
    return export_file(stem, fmt, COLUMNS, rows, "export.fund_restrictions", totals)
