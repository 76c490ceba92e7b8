"""Import the door-to-door survey sheet (敲门行动入户调查表) into the registry.

The sheet's layout and columns are in :mod:`.survey_sheet`; a row's cells become a
member in :mod:`.survey_rows`. This module holds the import loop, its result and the
error report.

Cells left empty under a household's grid code or survey number (merged cells, as
survey sheets often have them) repeat the value above. A bad cell rejects its household
only (never the rest of the sheet); every problem is reported with its row number,
column and reason. Importing the same sheet again updates the households (keyed by grid
and survey number) instead of adding them twice.

Households are written a chunk (``batch``) at a time by :mod:`.survey_batch`: new ones
in a few set-based statements, unchanged ones not at all, changed or refused ones one by
one through the registry's upsert; each chunk is committed."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from broker import audit
from broker.platform.errors import DomainError, Invalid
from broker.registry import grids, households, special_groups, survey_batch
from broker.registry.survey_rows import (
    CellError,
    HouseholdRows,
    RowError,
    explain,
    household_value,
    parse_groups,
    parse_member,
)
from broker.registry.survey_sheet import (
    BY_HEADER,
    COLUMNS,
    HOUSEHOLD_KEYS,
    SheetError,
    UnknownColumn,
    cell_text,
    iter_sheet,
    norm_header,
    unknown_columns,
)
from models import Grid

BATCH_HOUSEHOLDS = 200
AUDIT_PENDING = "audit"  # where broker.audit.record queues a transaction's events (Session.info)
HEADER_SEARCH_ROWS = 10


# Household-level inputs of the asset test and medical spending: column key → field.
IMPORTED_INPUTS = {
    "residence": "residence",
    "financial_assets": "financial_assets_fen",
    "motor_vehicles": "motor_vehicles",
    "surplus_housing": "surplus_housing",
    "medical_spending": "medical_spending_fen",
    "medical_spending_period": "medical_spending_period",
}


@dataclass
class ImportResult:
    rows_read: int = 0
    rows_imported: int = 0
    rows_rejected: int = 0
    households_created: int = 0
    households_updated: int = 0
    households_rejected: int = 0
    errors: list[RowError] = field(default_factory=list)
    unknown_columns: list[UnknownColumn] = field(default_factory=list)

    def summary(self) -> str:
        text = (
            f"{self.rows_read} rows read: {self.households_created} households created, "
            f"{self.households_updated} updated ({self.rows_imported} member rows); "
            f"{self.households_rejected} households rejected ({self.rows_rejected} rows)"
        )
        if self.unknown_columns:
            text += "\nwarning: unknown columns, ignored: " + ", ".join(c.describe() for c in self.unknown_columns)
        return text


class _Importer:
    def __init__(
        self,
        session: Session,
        actor: str,
        commit: Callable[[], None],
        progress: Callable[[int], None] | None,
        batch: int,
    ) -> None:
        self.session = session
        self.actor = actor
        self.commit = commit
        self.progress = progress or (lambda _n: None)
        self.batch = batch
        self.result = ImportResult()
        self.headers: dict[str, str] = {}
        self.index: dict[str, int] = {}
        self.grids: dict[str, Grid | None] = {}
        self.seen: dict[tuple[str, str], int] = {}
        self.ready: list[tuple[HouseholdRows, survey_batch.Ready]] = []

    def column(self, key: str) -> str:
        return self.headers.get(key) or next(c.zh for c in COLUMNS if c.key == key)

    def find_header(self, rows: Iterator[tuple[int, tuple[Any, ...]]]) -> None:
        for number, values in rows:
            found = {}
            for i, cell in enumerate(values):
                key = BY_HEADER.get(norm_header(cell))
                if key and key not in found:
                    found[key] = i
                    self.headers[key] = cell_text(cell)
            if len(found) >= 3:
                missing = [c for c in COLUMNS if c.required and c.key not in found]
                if missing:
                    raise SheetError(
                        f"row {number} is the header, but it lacks the column(s) "
                        + ", ".join(f"{c.zh} ({c.aliases[0]})" for c in missing)
                        + "."
                    )
                self.index = found
                self.result.unknown_columns = unknown_columns(values, found)
                return
            self.headers.clear()
            if number >= HEADER_SEARCH_ROWS:
                break
        raise SheetError(
            f"no header row found in the first {HEADER_SEARCH_ROWS} rows; the sheet needs the columns "
            + ", ".join(f"{c.zh} ({c.aliases[0]})" for c in COLUMNS if c.required)
            + "."
        )

    def cells(self, values: tuple[Any, ...]) -> dict[str, Any]:
        return {key: (values[i] if i < len(values) else None) for key, i in self.index.items()}

    def run(self, path: str | Path) -> ImportResult:
        rows = iter_sheet(path)
        self.find_header(rows)
        group: HouseholdRows | None = None
        for number, values in rows:
            if not any(cell_text(v) for v in values):
                continue
            self.result.rows_read += 1
            self.progress(1)
            cells = self.cells(values)
            grid, ref = cell_text(cells.get("grid")), cell_text(cells.get("survey_ref"))
            if group is not None:  # merged cells: an empty grid or household number repeats the one above
                if not ref and (not grid or grid == group.grid):
                    grid, ref = group.grid, group.survey_ref
                grid = grid or group.grid
            if not grid or not ref:
                key = "grid" if not grid else "survey_ref"
                self.reject_row(
                    number, key, ref, f"{self.column(key)} is empty: every row names its grid and household"
                )
                continue
            if group is None or (group.grid, group.survey_ref) != (grid, ref):
                if group is not None:
                    self.finish(group)
                first = self.seen.get((grid, ref))
                group = HouseholdRows(grid, ref, number)
                self.seen[(grid, ref)] = number
                if first is not None:
                    group.errors.append(
                        RowError(
                            number,
                            self.column("survey_ref"),
                            ref,
                            f"household {ref} on grid {grid} already appeared at row {first}: "
                            "keep each household's rows together",
                        )
                    )
            self.add_row(group, number, cells)
        if group is not None:
            self.finish(group)
        self.flush_batch(final=True)
        self.result.errors.sort(key=lambda e: e.row)  # chunk by chunk, a household's errors come late
        return self.result

    def reject_row(self, number: int, key: str, ref: str, reason: str) -> None:
        self.result.errors.append(RowError(number, self.column(key), ref, reason))
        self.result.rows_rejected += 1

    def add_row(self, group: HouseholdRows, number: int, cells: dict[str, Any]) -> None:
        group.rows.append(number)
        try:
            member = parse_member(cells)
            groups = parse_groups(cells.get("special_groups"))
            if "relation" not in member:
                if group.members:
                    raise CellError("relation", "the relation to the head is empty")
                member["relation"] = "head"
            for key in HOUSEHOLD_KEYS:
                raw = cells.get(key)
                if key not in self.index or not cell_text(raw):
                    continue
                value = household_value(key, raw)
                if key in group.household and group.household[key] != value:
                    raise CellError(
                        key, f"differs from row {group.set_at[key]} of the same household; give it once, or the same"
                    )
                group.household[key] = value
                group.set_at.setdefault(key, number)
        except CellError as exc:
            group.errors.append(RowError(number, self.column(exc.key), group.survey_ref, exc.reason))
            group.members.append({})
            return
        group.members.append(member)
        if groups:
            group.groups[member["name"]] = groups

    def finish(self, group: HouseholdRows) -> None:
        if not group.errors:
            for key, what in (("address", "the address"), ("income", "the monthly income")):
                if key not in group.household:
                    group.errors.append(
                        RowError(
                            group.first_row,
                            self.column(key),
                            group.survey_ref,
                            f"{what} of household {group.survey_ref} is empty; give it on the head's row",
                        )
                    )
        grid = None
        if not group.errors:
            grid = self.grid(group.grid)
            if grid is None:
                group.errors.append(
                    RowError(
                        group.first_row,
                        self.column("grid"),
                        group.survey_ref,
                        f"there is no grid {group.grid}; an administrator creates grids first, or correct the code",
                    )
                )
        if group.errors:
            self.reject(group)
            return
        self.ready.append((group, survey_batch.Ready(grid, self.record(group), group.groups)))
        if len(self.ready) >= self.batch:
            self.flush_batch()

    def grid(self, code: str) -> Grid | None:
        if code not in self.grids:
            self.grids[code] = grids.grid_by_code(self.session, code)
        return self.grids[code]

    def keep_grids(self) -> None:
        """After a chunk's session is cleared: the grids found so far go back into it
        (loaded, without a read), so that a sheet of 50 grids reads each once, not once
        per chunk; a code not found is looked up again (an administrator may add it)."""
        self.grids = {code: grid for code, grid in self.grids.items() if grid is not None}
        self.session.add_all(self.grids.values())

    def record(self, group: HouseholdRows) -> dict[str, Any]:
        """The household's raw record, as the registry's upsert takes it."""
        h = group.household
        row: dict[str, Any] = {
            "survey_ref": group.survey_ref,
            "address": h["address"],
            "monthly_income_fen": h["income"],
            "consent_to_share": h.get("consent", False),
            "sudden_hardship": h.get("sudden_hardship", False),
            "members": group.members,
        }
        for key, field_name in IMPORTED_INPUTS.items():
            if h.get(key) is not None:
                row[field_name] = h[key]
        if h.get("phone"):
            row["phone"] = h["phone"]
        if h.get("notes"):
            row["notes"] = h["notes"]
        return row

    def write_chunk(self) -> None:
        """Write the households made ready since the last commit (see :mod:`.survey_batch`)."""
        chunk, self.ready = self.ready, []
        if not chunk:
            return
        items = [item for _group, item in chunk]
        survey_batch.plan(self.session, items)
        new = [item for item in items if item.way == survey_batch.NEW]
        if not survey_batch.insert_new(self.session, self.actor, new):
            for item in new:
                item.way = survey_batch.ONE_BY_ONE
        for group, item in chunk:
            if item.way == survey_batch.ONE_BY_ONE:
                self.save(group, item.grid, item.row)
                if group.errors:
                    self.reject(group)
                continue
            if item.way == survey_batch.SAME:
                survey_batch.record_unchanged(self.session, self.actor, item)
            self.imported(group, created=item.way == survey_batch.NEW)

    def imported(self, group: HouseholdRows, *, created: bool) -> None:
        self.result.rows_imported += len(group.rows)
        if created:
            self.result.households_created += 1
        else:
            self.result.households_updated += 1

    def save(self, group: HouseholdRows, grid: Grid, row: dict[str, Any]) -> None:
        """One household through the registry's upsert (changed, or to be explained)."""
        # One household, all or nothing: a savepoint. SQLAlchemy fires the commit hooks on
        # a savepoint's release too, and the audit log writes and anchors its chain on
        # them; so this batch's audit events are held aside around the savepoint and
        # written once, with the batch's real commit (an anchor never runs ahead of data
        # a crash could still roll back). A rejected household's events are dropped.
        held = self.session.info.pop(AUDIT_PENDING, [])
        savepoint = self.session.begin_nested()
        try:
            household, created = households.upsert_household_from_survey(self.session, self.actor, grid, row)
            special_groups.record_from_survey(self.session, household, group.groups, actor=self.actor)
            mine = self.session.info.pop(AUDIT_PENDING, [])
            savepoint.commit()
        except DomainError as exc:
            self.session.info.pop(AUDIT_PENDING, None)
            savepoint.rollback()
            self.session.info[AUDIT_PENDING] = held
            group.errors += explain(group, exc, self.column)
            return
        self.session.info[AUDIT_PENDING] = held + mine
        self.imported(group, created=created)

    def reject(self, group: HouseholdRows) -> None:
        span = f"row {group.rows[0]}" if len(group.rows) == 1 else f"rows {group.rows[0]}–{group.rows[-1]}"
        note = f" — household {group.survey_ref} ({span}) not imported"
        self.result.errors += [RowError(e.row, e.column, e.survey_ref, e.reason + note) for e in group.errors]
        self.result.households_rejected += 1
        self.result.rows_rejected += len(group.rows)

    def flush_batch(self, *, final: bool = False) -> None:
        self.write_chunk()
        if final:
            audit.record(
                self.session,
                "registry.imported",
                object_type="import",
                actor=self.actor,
                details={
                    "rows": self.result.rows_read,
                    "created": self.result.households_created,
                    "updated": self.result.households_updated,
                    "rejected": self.result.households_rejected,
                    "unknown_columns": [c.header for c in self.result.unknown_columns],
                },
            )
        self.commit()
        self.session.expunge_all()
        self.keep_grids()


def import_households(
    session: Session,
    path: str | Path,
    *,
    commit: Callable[[], None],
    actor: str = "cli:import",
    progress: Callable[[int], None] | None = None,
    batch: int = BATCH_HOUSEHOLDS,
) -> ImportResult:
    """Import a survey sheet through the registry (create or update by grid and survey
    number). ``commit`` is called every ``batch`` households so that a large sheet
    keeps memory bounded and a crash loses at most one batch; ``progress(n)`` is told
    of every ``n`` rows read. Raises :class:`SheetError` if the sheet cannot be read at
    all; bad rows are in the result's ``errors``."""
    if batch < 1:
        raise Invalid("batch must be at least 1", details={"batch": ["must be at least 1"]})
    return _Importer(session, actor, commit, progress, batch).run(path)


def write_error_report(errors: list[RowError], path: str | Path) -> Path:
    """The problems as a CSV (UTF-8 with BOM, so that Excel shows the Chinese)."""
    path = Path(path)
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["行号 row", "列 column", "户编号 household", "原因 reason"])
        for e in errors:
            writer.writerow([e.row, e.column, e.survey_ref, e.reason])
    return path


def default_error_path(sheet: str | Path) -> Path:
    """Next to the sheet: ``survey.xlsx`` → ``survey.errors.csv``."""
    sheet = Path(sheet)
    return sheet.with_name(f"{sheet.stem}.errors.csv")
