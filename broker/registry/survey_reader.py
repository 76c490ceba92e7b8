"""The sheet side of the survey import: everything that needs no database. It reads the
sheet, finds its header, gathers each household's rows, checks them cell by cell and
validates each household as the registry will (ID numbers normalised, hashed and
encrypted), and hands the households over in batches, in sheet order, for
:mod:`.importer` to write.

This is half of an import's work. A large sheet is therefore read in a process of its
own, which prepares the next batches while the importing process writes this one
(100,000 CSV rows on SQLite, two CPUs, two runs each, back to back: 72.8 s → 52.7 s,
together with a larger SQLite page cache). Small sheets are read in the
importing process: starting a Python process costs more than they take."""

from __future__ import annotations

import multiprocessing
import os
import pickle
import queue as queues
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from broker.platform import runtime
from broker.registry.survey_batch import Ready, prepare
from broker.registry.survey_rows import (
    CellError,
    HouseholdRows,
    RowError,
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
    blank_row,
    cell_text,
    iter_sheet,
    norm_header,
    unknown_columns,
)

HEADER_SEARCH_ROWS = 10
# From this size on, a sheet is read in a process of its own (about 10,000 CSV rows, more
# in an .xlsx, which is compressed): below it, the process would cost more than it saves.
OWN_PROCESS_BYTES = 1_000_000
BATCHES_AHEAD = 2  # batches the reading process may prepare before the writer takes them
WAIT_SECONDS = 1.0  # how often the writer, waiting for a batch, checks the reader is alive

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
class SheetHead:
    """What the header row says: the header written over each known column, and the
    columns the import does not know (ignored, reported once)."""

    headers: dict[str, str] = field(default_factory=dict)
    unknown_columns: list[UnknownColumn] = field(default_factory=list)

    def column(self, key: str) -> str:
        """The column's header as the sheet wrote it (its Chinese name if not there)."""
        return self.headers.get(key) or next(c.zh for c in COLUMNS if c.key == key)


@dataclass
class Batch:
    """The households read since the last batch, in sheet order: each with its record
    prepared for writing, or None when its rows already rejected it; and the rows
    rejected on their own (no grid or household number)."""

    rows_read: int = 0
    households: list[tuple[HouseholdRows, Ready | None]] = field(default_factory=list)
    row_errors: list[RowError] = field(default_factory=list)


class SheetReader:
    """Reads one sheet: :meth:`head` first, then :meth:`batches` of ``batch`` households
    that passed the sheet's checks (rejected ones ride along in the same batches)."""

    def __init__(self, path: str | Path, batch: int, keys: tuple[bytes, ...]) -> None:
        self.rows = iter_sheet(path)
        self.batch = batch
        self.keys = keys
        self.head = SheetHead()
        self.index: dict[str, int] = {}
        self.seen: dict[tuple[str, str], int] = {}

    def read_head(self) -> SheetHead:
        """Find the header row (within the first rows) and what its columns are."""
        for number, values in self.rows:
            found = {}
            for i, cell in enumerate(values):
                key = BY_HEADER.get(norm_header(cell))
                if key and key not in found:
                    found[key] = i
                    self.head.headers[key] = cell_text(cell)
            if len(found) >= 3:
                missing = [c for c in COLUMNS if c.required and c.key not in found]
                if missing:
                    raise SheetError(
                        f"row {number} is the header, but it lacks the column(s) "
                        + ", ".join(f"{c.zh} ({c.aliases[0]})" for c in missing)
                        + "."
                    )
                self.index = found
                self.head.unknown_columns = unknown_columns(values, found)
                return self.head
            self.head.headers.clear()
            if number >= HEADER_SEARCH_ROWS:
                break
        raise SheetError(
            f"no header row found in the first {HEADER_SEARCH_ROWS} rows; the sheet needs the columns "
            + ", ".join(f"{c.zh} ({c.aliases[0]})" for c in COLUMNS if c.required)
            + "."
        )

    def batches(self) -> Iterator[Batch]:
        """The rows after the header, gathered into households, a batch at a time."""
        out = Batch()
        group: HouseholdRows | None = None
        ready = 0  # households of this batch that passed the sheet's checks
        for number, values in self.rows:
            if blank_row(values):
                continue
            out.rows_read += 1
            cells = {key: (values[i] if i < len(values) else None) for key, i in self.index.items()}
            grid, ref = cell_text(cells.get("grid")), cell_text(cells.get("survey_ref"))
            if group is not None:  # merged cells: an empty grid or household number repeats the one above
                if not ref and (not grid or grid == group.grid):
                    grid, ref = group.grid, group.survey_ref
                grid = grid or group.grid
            if not grid or not ref:
                key = "grid" if not grid else "survey_ref"
                reason = f"{self.head.column(key)} is empty: every row names its grid and household"
                out.row_errors.append(RowError(number, self.head.column(key), ref, reason))
                continue
            if group is None or (group.grid, group.survey_ref) != (grid, ref):
                if group is not None:
                    ready += self.finish(group, out)
                    if ready >= self.batch:
                        yield out
                        out, ready = Batch(), 0
                group = self.start(grid, ref, number)
            self.add_row(group, number, cells)
        if group is not None:
            self.finish(group, out)
        if out.rows_read or out.households:
            yield out

    def start(self, grid: str, ref: str, number: int) -> HouseholdRows:
        group = HouseholdRows(grid, ref, number)
        first = self.seen.get((grid, ref))
        self.seen[(grid, ref)] = number
        if first is not None:
            group.errors.append(
                RowError(
                    number,
                    self.head.column("survey_ref"),
                    ref,
                    f"household {ref} on grid {grid} already appeared at row {first}: "
                    "keep each household's rows together",
                )
            )
        return group

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
            group.errors.append(RowError(number, self.head.column(exc.key), group.survey_ref, exc.reason))
            group.members.append({})
            return
        group.members.append(member)
        if groups:
            group.groups[member["name"]] = groups

    def finish(self, group: HouseholdRows, out: Batch) -> bool:
        """The household's last row was read: check it is whole, and prepare its record
        (False: its rows rejected it)."""
        if not group.errors:
            for key, what in (("address", "the address"), ("income", "the monthly income")):
                if key not in group.household:
                    group.errors.append(
                        RowError(
                            group.first_row,
                            self.head.column(key),
                            group.survey_ref,
                            f"{what} of household {group.survey_ref} is empty; give it on the head's row",
                        )
                    )
        if group.errors:
            out.households.append((group, None))
            return False
        item = Ready(group.grid, record(group), group.groups)
        prepare(item, self.keys)
        out.households.append((group, item))
        return True


def record(group: HouseholdRows) -> dict[str, Any]:
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


@dataclass
class OpenSheet:
    """A sheet being read: its head, and its batches in order."""

    head: SheetHead
    batches: Iterator[Batch]


@contextmanager
def open_sheet(
    path: str | Path, batch: int, keys: tuple[bytes, ...], *, own_process: bool | None = None
) -> Iterator[OpenSheet]:
    """Read ``path`` in batches of ``batch`` households, its ID numbers hashed and
    encrypted under ``keys`` (:func:`security.data_keys`): in a process of its own when
    ``own_process`` (by default: a large sheet, and a CPU to spare), else in this one.
    Raises :class:`SheetError` when the sheet cannot be read at all."""
    if not _own_process(Path(path), own_process):
        reader = SheetReader(path, batch, keys)
        yield OpenSheet(reader.read_head(), reader.batches())
        return
    ctx = multiprocessing.get_context("spawn")  # a clean process: this one may hold threads and connections
    inbox = ctx.Queue(maxsize=BATCHES_AHEAD)
    args = (str(path), batch, keys, inbox, os.getpid())
    process = ctx.Process(target=_read_for, args=args, daemon=True, name="survey-reader")
    process.start()
    try:
        head = _receive(inbox, process)
        yield OpenSheet(head, _received_batches(inbox, process))
    finally:
        if process.is_alive():
            process.kill()  # the writer stopped early (an error, an interrupt): nothing more is read
        process.join()
        inbox.close()


def _own_process(path: Path, wanted: bool | None) -> bool:
    if multiprocessing.current_process().daemon:  # daemonic processes may not have children
        return False
    if wanted is not None:
        return wanted
    try:
        size = path.stat().st_size
    except OSError:
        return False  # the reader in this process says what is wrong with it
    return runtime.usable_cpus() >= 2 and size >= OWN_PROCESS_BYTES


class _End:
    """The reader's last message: the sheet was read to its end."""


def _read_for(path: str, batch: int, keys: tuple[bytes, ...], outbox: Any, writer: int) -> None:
    """The reading process: the head, each batch, then the end (or what stopped it).
    Ctrl-C is the writer's to handle: it stops this process."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        reader = SheetReader(path, batch, keys)
        _send(outbox, reader.read_head(), writer)
        for out in reader.batches():
            _send(outbox, out, writer)
        _send(outbox, _End(), writer)
    except Exception as exc:  # noqa: BLE001 - handed to the writer, which raises it as if it had read the sheet
        _send(outbox, _sendable(exc), writer)


def _send(outbox: Any, message: Any, writer: int) -> None:
    """Hand ``message`` to the writer once it has room; if the writer is gone (killed,
    so it could not stop this process), stop rather than wait for ever."""
    while True:
        try:
            outbox.put(message, timeout=WAIT_SECONDS)
            return
        except queues.Full:
            if os.getppid() != writer:
                raise SystemExit(0) from None


def _sendable(exc: Exception) -> Exception:
    """``exc``, or what it says when it cannot cross to the writer (it could not be pickled)."""
    try:
        pickle.dumps(exc)
    except Exception:  # noqa: BLE001 - any failure to pickle is the same problem here
        return RuntimeError(f"the survey reader failed: {exc!r}")
    return exc


def _receive(inbox: Any, process: Any) -> Any:
    """The reader's next message; what it raised is raised here."""
    while True:
        try:
            message = inbox.get(timeout=WAIT_SECONDS)
        except queues.Empty:
            if process.is_alive():
                continue
            try:  # what it sent just before it stopped
                message = inbox.get(timeout=WAIT_SECONDS)
            except queues.Empty:
                raise RuntimeError(f"the survey reader stopped (exit code {process.exitcode})") from None
        if isinstance(message, Exception):
            raise message
        return message


def _received_batches(inbox: Any, process: Any) -> Iterator[Batch]:
    while not isinstance(message := _receive(inbox, process), _End):
        yield message
