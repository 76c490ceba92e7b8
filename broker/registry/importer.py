"""Import the door-to-door survey sheet (敲门行动入户调查表) into the registry.

The sheet's layout and columns are in :mod:`.survey_sheet`; a row's cells become a
member in :mod:`.survey_rows`; :mod:`.survey_reader` reads the sheet into batches of
validated households (for a large sheet, in a process of its own). This module writes
them, and holds the import's result and its error report.

Cells left empty under a household's grid code or survey number (merged cells, as
survey sheets often have them) repeat the value above. A bad cell rejects its household
only (never the rest of the sheet); every problem is reported with its row number,
column and reason. Importing the same sheet again updates the households (keyed by grid
and survey number) instead of adding them twice.

Households are written a batch at a time by :mod:`.survey_batch`: new ones in a few
set-based statements, unchanged ones not at all, changed or refused ones one by one
through the registry's upsert; each batch is committed."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from broker import audit
from broker.platform import security
from broker.platform.errors import DomainError, Invalid
from broker.registry import grids, households, special_groups, survey_batch, survey_reader
from broker.registry.survey_rows import HouseholdRows, RowError, explain
from broker.registry.survey_sheet import UnknownColumn
from models import Grid

BATCH_HOUSEHOLDS = 200
AUDIT_PENDING = "audit"  # where broker.audit.record queues a transaction's events (Session.info)


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
    """The writing side: each batch the sheet reader hands over is checked against the
    database (its grids), written and committed."""

    def __init__(
        self,
        session: Session,
        actor: str,
        commit: Callable[[], None],
        progress: Callable[[int], None] | None,
        head: survey_reader.SheetHead,
    ) -> None:
        self.session = session
        self.actor = actor
        self.commit = commit
        self.progress = progress or (lambda _n: None)
        self.head = head
        self.result = ImportResult(unknown_columns=head.unknown_columns)
        self.grids: dict[str, Grid | None] = {}

    def run(self, batches: Iterator[survey_reader.Batch]) -> ImportResult:
        for batch in batches:
            self.result.rows_read += batch.rows_read
            self.progress(batch.rows_read)
            self.result.errors += batch.row_errors
            self.result.rows_rejected += len(batch.row_errors)
            self.write_chunk([(group, item) for group, item in batch.households if self.on_a_grid(group, item)])
            self.commit_batch()
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
        self.commit_batch()
        self.result.errors.sort(key=lambda e: e.row)  # batch by batch, a household's errors come late
        return self.result

    def on_a_grid(self, group: HouseholdRows, item: survey_batch.Ready | None) -> bool:
        """Whether the household goes on to be written: its rows passed, and its grid
        exists (``item.grid`` then holds it). A rejected household is reported."""
        if item is not None:
            item.grid = self.grid(group.grid)
            if item.grid is not None:
                return True
            group.errors.append(
                RowError(
                    group.first_row,
                    self.head.column("grid"),
                    group.survey_ref,
                    f"there is no grid {group.grid}; an administrator creates grids first, or correct the code",
                )
            )
        self.reject(group)
        return False

    def grid(self, code: str) -> Grid | None:
        if code not in self.grids:
            self.grids[code] = grids.grid_by_code(self.session, code)
        return self.grids[code]

    def keep_grids(self) -> None:
        """After a batch's session is cleared: the grids found so far go back into it
        (loaded, without a read), so that a sheet of 50 grids reads each once, not once
        per batch; a code not found is looked up again (an administrator may add it)."""
        self.grids = {code: grid for code, grid in self.grids.items() if grid is not None}
        self.session.add_all(self.grids.values())

    def write_chunk(self, chunk: list[tuple[HouseholdRows, survey_batch.Ready]]) -> None:
        """Write a batch's households (see :mod:`.survey_batch`)."""
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
            group.errors += explain(group, exc, self.head.column)
            return
        self.session.info[AUDIT_PENDING] = held + mine
        self.imported(group, created=created)

    def reject(self, group: HouseholdRows) -> None:
        span = f"row {group.rows[0]}" if len(group.rows) == 1 else f"rows {group.rows[0]}–{group.rows[-1]}"
        note = f" — household {group.survey_ref} ({span}) not imported"
        self.result.errors += [RowError(e.row, e.column, e.survey_ref, e.reason + note) for e in group.errors]
        self.result.households_rejected += 1
        self.result.rows_rejected += len(group.rows)

    def commit_batch(self) -> None:
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
    own_process: bool | None = None,
) -> ImportResult:
    """Import a survey sheet through the registry (create or update by grid and survey
    number). ``commit`` is called every ``batch`` households so that a large sheet
    keeps memory bounded and a crash loses at most one batch; ``progress(n)`` is told
    of every ``n`` rows read. ``own_process`` reads the sheet in a process of its own
    (True) or in this one (False); by default, a large sheet is read apart. Raises
    :class:`SheetError` if the sheet cannot be read at all; bad rows are in the
    result's ``errors``."""
    if batch < 1:
        raise Invalid("batch must be at least 1", details={"batch": ["must be at least 1"]})
    with survey_reader.open_sheet(path, batch, security.data_keys(), own_process=own_process) as sheet:
        return _Importer(session, actor, commit, progress, sheet.head).run(sheet.batches)


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
