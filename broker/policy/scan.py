"""The policy scan (政策找人, "the policy finds the person"): every household in the
registry that qualifies for a policy — by the policy's rule compiled to SQL, over the
whole table in one pass — and neither receives it nor has an application for it (an
open, approved or rejected one; a withdrawn application does not count). The result
is written as one visiting list per grid for its caseworkers, each line with the
reasons the household qualifies and the documents to bring."""

from __future__ import annotations

import csv
import re
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, Select, Subquery, and_, case, func, or_, select
from sqlalchemy.orm import Session

from broker.policy import catalogue
from broker.policy.catalogue import Policy
from broker.policy.evaluation import Facts
from broker.policy.fields import FIELDS
from broker.registry import region_tree
from models import Application, Grid, Household, HouseholdBenefit

FORMATS = ("csv", "xlsx")
CHUNK = 1000
HEADERS = (
    "网格编码 grid",
    "户编号 survey_ref",
    "户ID household_id",
    "地址 address",
    "户主 head",
    "电话 phone",
    "人数 members",
    "人均月收入(元) income_per_capita_yuan",
    "政策代码 policy",
    "政策名称 policy_name",
    "主管部门 department",
    "理由 why",
    "所需材料 documents",
)


def policies_for(codes: Sequence[str] | None = None) -> list[Policy]:
    """The current policies to scan: all, or those named (unknown codes raise NotFound)."""
    cat = catalogue.current()
    return [cat.get(code) for code in codes] if codes else cat.all()


def _codes_by_household(model: Any, codes: list[str], *where: ColumnElement[bool]) -> Subquery:
    """One row per household: a 0/1 column per policy code it has a row for in
    ``model`` (benefits, or applications), so that the scan joins once instead of
    probing per policy."""
    columns = [func.max(case((model.policy_code == code, 1), else_=0)).label(code) for code in codes]
    return select(model.household_id, *columns).where(*where).group_by(model.household_id).subquery()


def eligibility_flags(policies: Sequence[Policy]) -> Subquery:
    """Every household with its grid, facts, and one true/false column per policy
    (``p0``, ``p1`` …): it qualifies by the rule, does not receive the benefit, and has
    no application for it that still stands (a withdrawn one does not count)."""
    codes = sorted({p.code for p in policies} | {code for p in policies for code, _ in p.rule.policy_codes()})
    benefits = _codes_by_household(HouseholdBenefit, codes).alias("received")
    applied = _codes_by_household(Application, codes, Application.status != "withdrawn").alias("applied")

    def receives(code: str) -> ColumnElement[bool]:
        return func.coalesce(benefits.c[code], 0) == 1

    flags = [
        and_(
            p.sql(receives),
            func.coalesce(benefits.c[p.code], 0) == 0,
            func.coalesce(applied.c[p.code], 0) == 0,
        ).label(f"p{i}")
        for i, p in enumerate(policies)
    ]
    return (
        select(
            Household.id.label("household_id"),
            Household.grid_id,
            Household.survey_ref,
            Household.address,
            Household.head_name,
            Household.phone,
            *[getattr(Household, name) for name in FIELDS],
            *flags,
        )
        .select_from(Household)
        .outerjoin(benefits, benefits.c.household_id == Household.id)
        .outerjoin(applied, applied.c.household_id == Household.id)
        .subquery("eligible")
    )


def _flags(inner: Subquery, policies: Sequence[Policy]) -> list[ColumnElement[bool]]:
    return [inner.c[f"p{i}"] for i in range(len(policies))]


def scan_query(policies: Sequence[Policy]) -> Select:
    """One pass over the registry: a row per household eligible for at least one of the
    policies, with its facts and one true/false column per policy, ordered by grid id."""
    inner = eligibility_flags(policies)
    return select(inner).where(or_(*_flags(inner, policies))).order_by(inner.c.grid_id, inner.c.household_id)


def count_eligible(session: Session, policies: Sequence[Policy]) -> int:
    """How many households the scan will list (for a progress bar)."""
    inner = eligibility_flags(policies)
    return session.execute(select(func.count()).select_from(inner).where(or_(*_flags(inner, policies)))).scalar_one()


@dataclass(frozen=True)
class Hit:
    """One household eligible for one policy, with the reasons."""

    grid_code: str
    household_id: int
    survey_ref: str | None
    address: str
    head_name: str
    phone: str | None
    member_count: int
    income_per_capita_fen: int
    policy: Policy
    why: str
    office: str = ""  # where the application is filed (the street office, for some policies)


def scan(session: Session, policies: Sequence[Policy]) -> Iterator[Hit]:
    """Stream the hits, grid by grid (in grid id order), with the "why" of each (computed from the same
    facts the SQL filter used)."""
    # Grids are few: their codes are looked up here rather than joined (a join under the
    # scan's wide OR filter misleads PostgreSQL's planner into a nested loop).
    grids = {g.id: g for g in session.execute(select(Grid.id, Grid.code, Grid.district, Grid.street)).all()}
    tree = region_tree.load(session)
    result = session.execute(scan_query(policies).execution_options(yield_per=CHUNK, stream_results=True))
    for rows in result.partitions(CHUNK):
        ids = [r.household_id for r in rows]
        benefits: dict[int, set[str]] = {i: set() for i in ids}
        for hid, code in session.execute(
            select(HouseholdBenefit.household_id, HouseholdBenefit.policy_code).where(
                HouseholdBenefit.household_id.in_(ids)
            )
        ):
            benefits[hid].add(code)
        for row in rows:
            grid = grids[row.grid_id]
            facts = Facts(
                {name: getattr(row, name) for name in FIELDS},
                frozenset(benefits[row.household_id]),
                county=tree.county_of(grid.id),
            )
            for i, policy in enumerate(policies):
                if not getattr(row, f"p{i}"):
                    continue
                why = "; ".join(c.detail for c in policy.explain(facts))
                yield Hit(
                    grid.code,
                    row.household_id,
                    row.survey_ref,
                    row.address,
                    row.head_name,
                    row.phone,
                    row.member_count,
                    row.income_per_capita_fen,
                    policy,
                    why,
                    policy.office(grid),
                )


@dataclass
class ScanSummary:
    households: int = 0
    hits: int = 0
    by_policy: Counter = field(default_factory=Counter)
    by_grid: Counter = field(default_factory=Counter)
    files: list[Path] = field(default_factory=list)

    def lines(self, policies: Sequence[Policy]) -> list[str]:
        out = [f"{self.households} households to visit, {self.hits} policy matches, {len(self.files)} grid files"]
        out += [f"  {p.code:<22} {p.name:<10} {self.by_policy.get(p.code, 0):>8}" for p in policies]
        return out


def _safe_name(code: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.\-]", "_", code) or "grid"


class _GridWriter:
    """Writes one grid's visiting list, as CSV (UTF-8 BOM, for Excel) or XLSX."""

    def __init__(self, folder: Path, grid_code: str, fmt: str) -> None:
        self.path = folder / f"{_safe_name(grid_code)}.{fmt}"
        self.fmt = fmt
        if fmt == "csv":
            self.fh = self.path.open("w", encoding="utf-8-sig", newline="")
            self.writer = csv.writer(self.fh)
            self.writer.writerow(HEADERS)
        else:
            from openpyxl import Workbook

            self.book = Workbook(write_only=True)
            self.sheet = self.book.create_sheet(title=_safe_name(grid_code)[:31])
            self.sheet.append(HEADERS)

    def write(self, hit: Hit) -> None:
        row: list[Any] = [
            hit.grid_code,
            hit.survey_ref or "",
            hit.household_id,
            hit.address,
            hit.head_name,
            hit.phone or "",
            hit.member_count,
            Decimal(hit.income_per_capita_fen).scaleb(-2),
            hit.policy.code,
            hit.policy.name,
            hit.office or hit.policy.department,
            hit.why,
            "、".join(d.label for d in hit.policy.documents),
        ]
        if self.fmt == "csv":
            self.writer.writerow(row)
        else:
            self.sheet.append(row)

    def close(self) -> None:
        if self.fmt == "csv":
            self.fh.close()
        else:
            self.book.save(self.path)


def write_reports(
    session: Session,
    folder: str | Path,
    policies: Sequence[Policy],
    *,
    fmt: str = "csv",
    progress: Callable[[int], None] | None = None,
) -> ScanSummary:
    """Run the scan and write one visiting list per grid into ``folder``; ``progress(n)``
    is told of every ``n`` households listed."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    summary = ScanSummary()
    writer: _GridWriter | None = None
    last_household = current_grid = None
    try:
        for hit in scan(session, policies):
            if writer is None or hit.grid_code != current_grid:
                if writer is not None:
                    writer.close()
                writer = _GridWriter(folder, hit.grid_code, fmt)
                current_grid = hit.grid_code
                summary.files.append(writer.path)
            writer.write(hit)
            summary.hits += 1
            summary.by_policy[hit.policy.code] += 1
            if hit.household_id != last_household:
                last_household = hit.household_id
                summary.households += 1
                summary.by_grid[hit.grid_code] += 1
                if progress:
                    progress(1)
    finally:
        if writer is not None:
            writer.close()
    return summary
