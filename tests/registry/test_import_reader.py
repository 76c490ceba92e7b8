"""A large survey sheet is read in a process of its own while the importing process
writes. These tests hold the two ways to one outcome: the same households, rows, errors
(by row and column) and audit events whichever process read the sheet; a sheet that
cannot be read fails the same way; a writer that fails stops its reader; and the rule
for when a sheet is read apart."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import func, select

from broker import audit
from broker.platform import db, runtime, security
from broker.registry import importer, survey_reader, survey_sheet
from models import AuditEvent, Household, Member, SpecialGroupMember
from tests.registry.test_import import ZH, grid, write_csv, write_xlsx  # noqa: F401 - grid: the fixture
from tests.support.registry_data import id_number

HEADER = [*ZH, "特殊群体"]
pytestmark = pytest.mark.usefixtures("grid")
SHARED_ID = id_number(dt.date(1966, 2, 14), "551")  # the head of A-003, listed again in A-020


def _household(n: int, people: int = 3) -> list[list]:
    """Household ``A-{n:03}``: a head with an ID number, a spouse and children."""
    ref = f"A-{n:03d}"
    number = id_number(dt.date(1970, 1, 1 + n % 28), f"{n:03d}")
    rows = [["HD-ZGC-01", ref, f"海淀区中关村东路{n}号楼1单元101", f"张{n}", number, None, "户主", "健康", None, None,
             "个体", str(1000 + n), "是" if n % 2 else "否", None]]  # fmt: skip
    if n == 3:
        rows[0][4] = SHARED_ID
    for m in range(1, people):
        born = dt.date(2010 + m, 3, 1 + n % 28)
        relation = "配偶" if m == 1 else "儿子"
        rows.append(["HD-ZGC-01", ref, None, f"张{n}-{m}", None, born.isoformat(), relation, "白血病" if m == 2 else "",
                     None, "小学" if m >= 2 else None, None, None, None, "留守儿童" if m == 2 else None])  # fmt: skip
    return rows


def _sheet_rows() -> list[list]:
    """30 households, among them each kind of trouble an import meets."""
    rows: list[list] = []
    for n in range(1, 31):
        household = _household(n)
        if n == 7:
            household[1][6] = "外星人"  # an unknown relation: the household is rejected at its row
        if n == 11:
            for row in household:
                row[0] = "NOWHERE"  # a grid nobody created
        if n == 20:
            household[0][4] = SHARED_ID  # a person already registered in A-003
        rows += household
        if n == 15:
            rows.append([None, None, None, "无名", None, "1990-01-01", "户主", None, None, None, None, "100", None,
                         None])  # fmt: skip
            rows.append(["HD-ZGC-02", None, "某处", "某人", None, "1990-01-01", "户主", None, None, None, None, "1",
                         None, None])  # fmt: skip
    rows += _household(5)  # A-005 again, apart from its first rows
    return rows


def _outcome(result: importer.ImportResult) -> dict:
    session = db.session()
    session.expire_all()

    def count(model: type) -> int:
        return session.execute(select(func.count()).select_from(model)).scalar_one()

    actions = session.execute(select(AuditEvent.action).order_by(AuditEvent.id)).scalars().all()
    return {
        "counts": (
            result.rows_read,
            result.rows_imported,
            result.rows_rejected,
            result.households_created,
            result.households_updated,
            result.households_rejected,
        ),
        "errors": [(e.row, e.column, e.survey_ref) for e in result.errors],
        "reasons": [e.reason for e in result.errors],
        "rows": (count(Household), count(Member), count(SpecialGroupMember)),
        "actions": actions,
        "refs": session.execute(select(Household.survey_ref).order_by(Household.id)).scalars().all(),
    }


def _import(sheet, *, own_process: bool, batch: int = 4) -> tuple[importer.ImportResult, list[list[str]]]:
    """Import, noting at each batch which child processes the importing process has."""
    children: list[list[str]] = []

    def progress(_n: int) -> None:
        children.append(sorted(p.name for p in multiprocessing.active_children()))

    result = importer.import_households(
        db.session(), sheet, commit=db.commit, batch=batch, own_process=own_process, progress=progress
    )
    return result, children


@pytest.mark.parametrize("own_process", [False, True], ids=["read-here", "read-apart"])
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_sheet_read_apart_imports_as_one_read_here(tmp_path, own_process, fmt):
    """Both ways give the outcome spelled out here: counts, each error at its row and
    column, the rows written and every audit event in order; the chain verifies, and a
    second import (read the other way) finds every household unchanged."""
    write = write_csv if fmt == "csv" else write_xlsx
    sheet = write(tmp_path / f"survey.{fmt}", HEADER, _sheet_rows())
    first = 3 if fmt == "xlsx" else 2  # the xlsx has a title row above its header
    result, children = _import(sheet, own_process=own_process)
    outcome = _outcome(result)
    assert outcome["counts"] == (95, 78, 17, 26, 0, 5)
    assert outcome["errors"] == [
        (first + 6 * 3 + 1, "与户主关系", "A-007"),  # its second row
        (first + 10 * 3, "网格编码", "A-011"),
        (first + 15 * 3, "家庭月收入(元)", "A-015"),  # a row without grid or number belongs to the one above
        (first + 15 * 3 + 1, "户编号", ""),
        (first + 15 * 3 + 2 + 4 * 3, "身份证号", "A-020"),
        (first + 30 * 3 + 2, "户编号", "A-005"),
    ]
    assert "already registered in household" in outcome["reasons"][4]
    assert "already appeared at row" in outcome["reasons"][5]
    assert outcome["rows"] == (26, 78, 26)
    counted = {a: outcome["actions"].count(a) for a in ("household.created", "special_group.recorded")}
    assert counted == {"household.created": 26, "special_group.recorded": 26}
    assert outcome["actions"].count("consent.recorded") == 12  # the odd households consent; 7, 11 and 15 were rejected
    assert outcome["actions"][-1] == "registry.imported"
    expected_refs = [f"A-{n:03d}" for n in range(1, 31) if n not in (7, 11, 15, 20)]
    assert outcome["refs"] == expected_refs  # in sheet order
    assert audit.verify(db.session()).ok
    if own_process:
        assert children
        assert all(names == ["survey-reader"] for names in children)
    else:
        assert children
        assert all(names == [] for names in children)
    assert not multiprocessing.active_children()  # the reader is gone once the import returns

    again, _children = _import(sheet, own_process=not own_process, batch=7)
    assert (again.households_created, again.households_updated) == (0, 26)
    assert _outcome(again)["rows"] == outcome["rows"]


def test_a_sheet_without_a_header_fails_read_apart_as_read_here(tmp_path):
    """The reader's SheetError reaches the caller with its message, and no process is left."""
    sheet = write_csv(tmp_path / "survey.csv", ["甲", "乙"], [["1", "2"]] * 12)
    messages = []
    for own_process in (False, True):
        with pytest.raises(survey_sheet.SheetError) as raised:
            importer.import_households(db.session(), sheet, commit=db.commit, own_process=own_process)
        messages.append(str(raised.value))
    assert messages[0] == messages[1]
    assert messages[0].startswith("no header row found in the first 10 rows")
    assert not multiprocessing.active_children()


def test_a_writer_that_fails_stops_its_reader(tmp_path):
    """A failure while writing (here the second commit) is raised as it happened; the
    reader, which may be batches ahead, is stopped; what was committed stays."""
    sheet = write_csv(tmp_path / "survey.csv", HEADER, [row for n in range(1, 31) for row in _household(n)])
    commits = []

    def commit() -> None:
        if commits:
            raise OSError("disk full")
        commits.append(1)
        db.commit()

    with pytest.raises(OSError, match="disk full"):
        importer.import_households(db.session(), sheet, commit=commit, batch=2, own_process=True)
    db.session().rollback()
    assert not multiprocessing.active_children()
    assert db.session().execute(select(Household.survey_ref).order_by(Household.id)).scalars().all() == [
        "A-001",
        "A-002",
    ]


READER_SCRIPT = """
import multiprocessing, sys, time
from broker.registry import survey_reader

if __name__ == "__main__":
    with survey_reader.open_sheet(sys.argv[1], 1, (sys.argv[2].encode(),), own_process=True) as sheet:
        print(multiprocessing.active_children()[0].pid, flush=True)
        time.sleep(600)
"""


def _running(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status  # a zombie has stopped; it waits only to be reaped


def test_a_reader_whose_writer_was_killed_stops(tmp_path):
    """An importing process killed outright cannot stop its reader: the reader, waiting
    to hand over its next batch, sees its writer gone and stops too."""
    sheet = write_csv(tmp_path / "survey.csv", HEADER, [row for n in range(1, 41) for row in _household(n)])
    script = tmp_path / "import_and_hang.py"
    script.write_text(READER_SCRIPT)
    root = Path(__file__).resolve().parents[2]
    writer = subprocess.Popen(
        [sys.executable, str(script), str(sheet), Fernet.generate_key().decode()],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(root)},
    )
    try:
        reader = int(writer.stdout.readline())
        time.sleep(2 * survey_reader.WAIT_SECONDS)
        assert _running(reader)  # batches ahead of its writer, waiting for room
        writer.kill()
        writer.wait()
        deadline = time.monotonic() + 60
        while _running(reader) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _running(reader)
    finally:
        writer.kill()
        writer.stdout.close()


def test_a_large_sheet_is_read_apart_when_a_cpu_is_spare(tmp_path, monkeypatch):
    """From OWN_PROCESS_BYTES on, with two CPUs or more, and never from a daemonic process
    (it may not have children); the caller may say either way."""
    small = tmp_path / "small.csv"
    small.write_bytes(b"x" * (survey_reader.OWN_PROCESS_BYTES - 1))
    large = tmp_path / "large.csv"
    large.write_bytes(b"x" * survey_reader.OWN_PROCESS_BYTES)
    monkeypatch.setattr(runtime.os, "sched_getaffinity", lambda _pid: {0, 1})
    assert [survey_reader._own_process(p, None) for p in (small, large)] == [False, True]
    assert survey_reader._own_process(small, True)
    assert not survey_reader._own_process(large, False)
    assert not survey_reader._own_process(tmp_path / "missing.csv", None)
    monkeypatch.setattr(runtime.os, "sched_getaffinity", lambda _pid: {0})
    assert not survey_reader._own_process(large, None)
    monkeypatch.setattr(runtime.os, "sched_getaffinity", lambda _pid: {0, 1})
    monkeypatch.setattr(multiprocessing.current_process(), "daemon", True, raising=False)
    assert not survey_reader._own_process(large, None)
    assert not survey_reader._own_process(large, True)


def test_numbers_encrypted_and_hashed_under_keys_handed_over_match_the_brokers():
    """The reader has no settings: it is handed the data keys, and what it makes with
    them is what the broker makes and reads."""
    keys = security.data_keys()
    number = id_number(dt.date(1980, 5, 6), "123")
    assert security.decrypt(security.encrypt(number, keys)) == number
    assert security.keyed_hashes(number, keys) == security.keyed_hashes(number)
    assert security.keyed_hashes(number, keys)[0] == security.keyed_hash(number)


def test_a_row_is_blank_only_when_no_cell_holds_anything():
    """Empty and all-space cells are blank; a zero, a false or a date is an answer."""
    assert survey_sheet.blank_row((None, "", "  \t"))
    assert survey_sheet.blank_row(())
    for answer in (0, 0.0, False, dt.date(2026, 1, 1), "否"):
        assert not survey_sheet.blank_row((None, "", answer))
