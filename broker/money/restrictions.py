"""Restricted funds (定向/专项): the terms a donor sets on money — the need categories it
may pay for, the grids whose households it may reach, the programme it belongs to and the
last day it may be offered — and which parts of a partner's fund fit a need.

A partner's fund is the sum of its parts: the unrestricted part (accounts ``fund:<partner>``
and ``pledged:<partner>``) and one part per restriction (``fund:<partner>:r<id>``,
``pledged:<partner>:r<id>``). Money is moved between them only by :mod:`.fund_parts`;
this module validates terms, keeps one restriction per set of terms, and says what fits.
Region terms name nodes of the region tree (a district, street, community or grid code)
and match a grid exactly as routing matches the regions a partner serves: through the
tree, a node covering every grid below it (:func:`broker.registry.region_tree.serves`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from broker import audit
from broker.platform import actor, periods
from broker.platform.errors import Invalid
from broker.platform.texts import N_, define
from broker.registry import grids, region_tree
from models import Account, FundRestriction
from models.assessment import CATEGORIES
from models.base import utcnow

define(
    {
        "fund_part.unrestricted": N_("unrestricted"),
        "fund_part.restricted": N_("%(programme)s (for %(categories)s; %(regions)s; %(expiry)s)"),
        "fund_part.numbered": N_("restricted fund no. %(id)s"),
        "fund_part.any_category": N_("any need"),
        "fund_part.any_region": N_("any grid"),
        "fund_part.regions": N_("regions %(regions)s"),
        "fund_part.no_expiry": N_("no end date"),
        "fund_part.expires": N_("until %(date)s"),
        "fund_part.expired": N_("expired on %(date)s"),
    }
)
MAX_REGIONS = 200
PROGRAMME_LENGTH = 120


def today() -> date:
    """The local day (Asia/Shanghai): money restricted until a day may be offered all of it."""
    return periods.to_local(utcnow()).date()


def fits(restriction: FundRestriction | None, category: str, grid_code: str, on: date, tree: region_tree.Tree) -> bool:
    """Whether money under ``restriction`` (``None``: unrestricted) may pay a ``category``
    need of a household on ``grid_code`` on the day ``on``; its regions are read through
    ``tree``, so a restriction to a street covers every grid below it."""
    if restriction is None:
        return True
    if restriction.categories and category not in restriction.categories:
        return False
    if restriction.regions and region_tree.serves(tree, restriction.regions, grid_code) is None:
        return False
    return restriction.expires_on is None or restriction.expires_on >= on


def draw_order(restriction: FundRestriction | None) -> tuple:
    """Restricted parts first, the first to expire first (then those with no end date, the
    oldest first); the unrestricted part last."""
    if restriction is None:
        return (2, date.max, 0)
    return (0 if restriction.expires_on else 1, restriction.expires_on or date.max, restriction.id)


def describe(restriction: FundRestriction | None, on: date | None = None) -> dict[str, Any]:
    """The part as a text code: 大病救助专项基金（限医疗援助；任何网格；至 2027-06-30）."""
    if restriction is None:
        return {"code": "fund_part.unrestricted", "params": {}}
    programme = restriction.programme or {"code": "fund_part.numbered", "params": {"id": restriction.id}}
    categories = (
        [{"code": f"category.{c}", "params": {}} for c in restriction.categories]
        if restriction.categories
        else {"code": "fund_part.any_category", "params": {}}
    )
    regions = (
        {"code": "fund_part.regions", "params": {"regions": list(restriction.regions)}}
        if restriction.regions
        else {"code": "fund_part.any_region", "params": {}}
    )
    if restriction.expires_on is None:
        expiry = {"code": "fund_part.no_expiry", "params": {}}
    else:
        gone = on is not None and restriction.expires_on < on
        expiry = {
            "code": "fund_part.expired" if gone else "fund_part.expires",
            "params": {"date": restriction.expires_on.isoformat()},
        }
    return {
        "code": "fund_part.restricted",
        "params": {"programme": programme, "categories": categories, "regions": regions, "expiry": expiry},
    }


def short(restriction: FundRestriction | None) -> dict[str, Any]:
    """The part by its programme alone (大病救助专项基金), for a chart's narrow labels."""
    if restriction is None:
        return {"code": "fund_part.unrestricted", "params": {}}
    if restriction.programme:
        return {"code": None, "text": restriction.programme}
    return {"code": "fund_part.numbered", "params": {"id": restriction.id}}


def terms(restriction: FundRestriction | None) -> dict[str, Any]:
    """The restriction's terms as plain data (all empty for the unrestricted part)."""
    if restriction is None:
        return {"restriction_id": None, "categories": [], "regions": [], "programme": "", "expires_on": None}
    return {
        "restriction_id": restriction.id,
        "categories": list(restriction.categories),
        "regions": list(restriction.regions),
        "programme": restriction.programme,
        "expires_on": restriction.expires_on,
    }


# --- terms given with a deposit ---------------------------------------------------------


def _invalid(field: str, problem: str, message: str) -> Invalid:
    return Invalid(message, details={f"restriction.{field}": [problem]})


def _categories(values: list[str]) -> list[str]:
    unknown = sorted({c for c in values if c not in CATEGORIES})
    if unknown:
        raise _invalid(
            "categories",
            f"unknown: {', '.join(unknown)}",
            f"Unknown need categories {', '.join(unknown)}; known: {', '.join(CATEGORIES)}.",
        )
    return sorted(set(values), key=CATEGORIES.index)


def _regions(session: Session, values: list[str]) -> list[str]:
    """Codes of grids or of nodes of the region tree (a node covers every grid below it)."""
    wanted = sorted({v.strip() for v in values if v.strip()})
    if region_tree.ALL_REGIONS in wanted:
        raise _invalid(
            "regions", "'*' is not a restriction", "Leave regions empty for money that may reach any grid, not '*'."
        )
    if len(wanted) > MAX_REGIONS:
        raise _invalid("regions", f"at most {MAX_REGIONS}", f"A restriction names at most {MAX_REGIONS} regions.")
    known = grids.grids_by_code(session, wanted)
    tree = region_tree.load(session) if any(code not in known for code in wanted) else None
    unknown = [code for code in wanted if code not in known and (tree is None or code not in tree.by_code)]
    if unknown:
        raise _invalid(
            "regions",
            f"unknown grid or region: {', '.join(unknown)}",
            f"Unknown grid or region codes in regions: {', '.join(unknown)}.",
        )
    return wanted


@dataclass(frozen=True)
class Terms:
    categories: list[str]
    regions: list[str]
    programme: str
    expires_on: date | None


def check_terms(session: Session, data: dict[str, Any], on: date | None = None) -> Terms:
    """The terms of a restriction as given with a deposit, checked: known categories, grid
    or region codes that exist, a programme of sane length, a last day not in the past, and at least
    one term (an empty restriction restricts nothing: leave it out instead)."""
    on = on or today()
    programme = " ".join(str(data.get("programme") or "").split())
    if len(programme) > PROGRAMME_LENGTH:
        raise _invalid("programme", f"at most {PROGRAMME_LENGTH} characters", "The programme's name is too long.")
    expires_on = data.get("expires_on")
    if expires_on is not None and expires_on < on:
        raise _invalid(
            "expires_on",
            f"must not be before {on.isoformat()}",
            f"The restriction's last day {expires_on.isoformat()} is in the past.",
        )
    found = Terms(
        _categories(list(data.get("categories") or [])),
        _regions(session, list(data.get("regions") or [])),
        programme,
        expires_on,
    )
    if not (found.categories or found.regions or found.programme or found.expires_on):
        raise Invalid(
            "A restriction names at least one of categories, regions, programme or expires_on; "
            "leave it out for unrestricted money.",
            details={"restriction": ["names no term"]},
        )
    return found


def restriction_for(session: Session, partner_id: int, data: dict[str, Any]) -> FundRestriction:
    """The partner's restriction on these terms: the one already there (deposits on the
    same terms add to one part), else a new one, audited."""
    wanted = check_terms(session, data)
    for row in session.execute(
        select(FundRestriction).where(FundRestriction.partner_id == partner_id).order_by(FundRestriction.id)
    ).scalars():
        if (list(row.categories), list(row.regions), row.programme, row.expires_on) == (
            wanted.categories,
            wanted.regions,
            wanted.programme,
            wanted.expires_on,
        ):
            return row
    row = FundRestriction(
        partner_id=partner_id,
        categories=wanted.categories,
        regions=wanted.regions,
        programme=wanted.programme,
        expires_on=wanted.expires_on,
        actor=actor.current(),
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        "fund_restriction.created",
        row,
        after={**terms(row), "expires_on": row.expires_on.isoformat() if row.expires_on else None},
    )
    return row


def tree_for(session: Session, parts: Iterable[FundRestriction | None]) -> region_tree.Tree:
    """The region tree when one of these restrictions names regions (else an empty one:
    nothing to look up, no query)."""
    if any(r is not None and r.regions for r in parts):
        return region_tree.load(session)
    return region_tree.Tree()


def of_accounts(session: Session, accts: list[Account]) -> dict[int, FundRestriction]:
    """The restrictions of these accounts' parts, by id."""
    ids = {a.restriction_id for a in accts if a.restriction_id is not None}
    if not ids:
        return {}
    rows = session.execute(select(FundRestriction).where(FundRestriction.id.in_(ids))).scalars()
    return {r.id: r for r in rows}


@dataclass
class Fitting:
    """A partner's unpromised money as one need sees it: what may pay for it (``fitting_fen``,
    part by part in the order it is drawn) and what is restricted to other purposes or
    expired (``other_fen``)."""

    fitting_fen: int = 0
    other_fen: int = 0
    parts: list[dict[str, Any]] | None = None


def fitting_funds(
    session: Session,
    partner_ids: list[int],
    category: str,
    grid_code: str,
    on: date | None = None,
    *,
    tree: region_tree.Tree | None = None,
) -> dict[int, Fitting]:
    """Per partner, the money in its ``fund`` accounts that may pay for a ``category`` need
    on ``grid_code`` today, and what may not (routing offers only the first). ``tree``:
    the region tree when the caller has it loaded already."""
    on = on or today()
    out = {pid: Fitting(parts=[]) for pid in partner_ids}
    if not partner_ids:
        return out
    accts = list(
        session.execute(
            select(Account).where(Account.partner_id.in_(partner_ids), Account.kind == "fund").order_by(Account.id)
        ).scalars()
    )
    terms = of_accounts(session, accts)
    tree = tree if tree is not None else tree_for(session, terms.values())
    ordered = sorted(accts, key=lambda a: draw_order(terms.get(a.restriction_id) if a.restriction_id else None))
    for a in ordered:
        r = terms.get(a.restriction_id) if a.restriction_id is not None else None
        f = out[a.partner_id]
        if fits(r, category, grid_code, on, tree):
            f.fitting_fen += a.balance_fen
            if a.balance_fen > 0:
                f.parts.append({"part": describe(r, on), "available_fen": a.balance_fen})
        else:
            f.other_fen += a.balance_fen
    return out
