"""The survey import writes a chunk of households set-based: new households in a few
statements, unchanged ones not at all, changed ones through the registry's upsert. These
tests hold it to what the one-by-one upsert wrote: the same rows, the same audit events
with the same content, a second import of the same sheet changing nothing (on the same
day, and on the next, when only the facts that depend on ages may move), and a person
moving between two households of one sheet."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from broker import audit
from broker.platform import db
from broker.registry import consent_records, household_facts, households, importer
from broker.registry.members import masked_id
from models import AuditEvent, Consent, Household, Member, SpecialGroupMember
from tests.registry.test_import import (  # noqa: F401 - grid: the fixture
    GRANNY,
    HEAD_ID,
    VENDOR,
    WIFE_ID,
    ZH,
    grid,
    write_csv,
    write_xlsx,
)

HEADER = [*ZH, "特殊群体"]
pytestmark = pytest.mark.usefixtures("grid")


def _sheet(tmp_path, rows: list[list], name: str = "survey.xlsx"):
    return write_xlsx(tmp_path / name, HEADER, rows)


def _with_groups() -> list[list]:
    rows = [[*row, None] for row in VENDOR]
    return [*rows, [*GRANNY[0], "孤寡老人、残疾人"], [*GRANNY[1], "留守儿童"]]


def _run(path, **kw) -> importer.ImportResult:
    return importer.import_households(db.session(), path, commit=db.commit, **kw)


def _events(action: str) -> list[Any]:
    return audit.events(db.session(), action=action, per_page=500, newest_first=False).items


def _snapshot() -> dict[str, list[tuple]]:
    """Every row the import writes, all columns but the audit log's."""
    session = db.session()
    session.expire_all()
    out = {}
    for model in (Household, Member, Consent, SpecialGroupMember):
        table = model.__table__
        rows = session.execute(select(table).order_by(table.c.id)).all()
        out[table.name] = [tuple(r) for r in rows]
    return out


def test_new_households_are_written_as_the_upsert_writes_them(tmp_path):
    """The set-based insert leaves the rows and events the one-by-one upsert left: the
    created event's picture is the household's summary read back, the head's consent is
    recorded from the flag, each special group once, and the chain verifies."""
    result = _run(_sheet(tmp_path, _with_groups()))
    assert (result.households_created, result.rows_imported, result.errors) == (2, 7, [])
    session = db.session()
    session.expire_all()
    by_ref = {h.survey_ref: h for h in session.execute(select(Household)).scalars()}
    created = {e.after["survey_ref"]: e for e in _events("household.created")}
    for ref, household in by_ref.items():
        assert created[ref].after == households.household_summary(household)
        assert created[ref].object_id == household.id
        assert created[ref].object_type == "households"
        assert created[ref].actor == "cli:import"
    vendor = by_ref["A-001"]
    assert vendor.consent_to_share
    assert not by_ref["A-002"].consent_to_share
    (consent,) = session.execute(select(Consent)).scalars()
    head = next(m for m in vendor.members if m.relation == "head")
    assert (consent.member_id, consent.evidence, consent.recorded_by) == (
        head.id,
        consent_records.FROM_HOUSEHOLD_FLAG,
        "cli:import",
    )
    (recorded,) = _events("consent.recorded")
    assert (recorded.object_id, recorded.household_id) == (consent.id, vendor.id)
    assert recorded.after == consent_records.summary(consent)
    groups = session.execute(select(SpecialGroupMember).order_by(SpecialGroupMember.id)).scalars().all()
    events = _events("special_group.recorded")
    assert [(e.object_id, e.after["member_id"], e.after["group"]) for e in events] == [
        (g.id, g.member_id, g.group) for g in groups
    ]
    assert {g.source for g in groups} == {"survey"}
    member = session.execute(select(Member).where(Member.name == "张建国")).scalar_one()
    assert HEAD_ID.encode() not in member.id_number_enc
    assert masked_id(member) == HEAD_ID[:6] + "*" * 8 + HEAD_ID[14:]
    order = [
        e.action for e in audit.events(db.session(), household_id=vendor.id, per_page=50, newest_first=False).items
    ]
    assert order == ["consent.recorded", "household.created"]  # as the one-by-one upsert recorded them
    assert audit.verify(session).ok


def test_a_second_import_of_the_same_sheet_changes_nothing(tmp_path):
    """Importing the same sheet again (CSV and XLSX, any batch size) writes no row: each
    household is counted as updated and leaves its empty household.reimported event."""
    sheet = _sheet(tmp_path, _with_groups())
    _run(sheet)
    before = _snapshot()
    again = _run(sheet, batch=1)
    assert (again.households_created, again.households_updated, again.errors) == (0, 2, [])
    assert _snapshot() == before
    reimported = _events("household.reimported")
    assert [(e.before, e.after) for e in reimported] == [({}, {}), ({}, {})]
    csv_sheet = write_csv(tmp_path / "same.csv", HEADER, _with_groups())
    assert _run(csv_sheet).households_updated == 2
    assert _snapshot() == before
    actions = db.session().execute(select(AuditEvent.action).order_by(AuditEvent.id)).scalars().all()
    assert actions.count("household.created") == 2
    assert actions.count("special_group.recorded") == 3
    assert actions.count("consent.recorded") == 1
    assert audit.verify(db.session()).ok


def test_the_next_day_only_the_facts_that_depend_on_age_move(tmp_path, monkeypatch):
    """A child turning six overnight: the next day's import of the same sheet updates the
    household's facts (and says so in its event), and a third import that day changes
    nothing more."""
    today = household_facts.local_today()
    tomorrow = today + dt.timedelta(days=1)
    born = tomorrow.replace(year=tomorrow.year - 6) if (tomorrow.month, tomorrow.day) != (2, 29) else None
    if born is None:
        born = dt.date(tomorrow.year - 7, 3, 1)  # (a leap day: any child works, the facts just stay)
    rows = [[*row, None] for row in VENDOR]
    rows.append(["HD-ZGC-01", "A-001", None, "张小宝", None, born.isoformat(), "儿子", None, None, None, None, None,
                 None, None])  # fmt: skip
    sheet = _sheet(tmp_path, rows)
    _run(sheet)
    first = db.session().execute(select(Household.school_age_children)).scalar_one()
    monkeypatch.setattr(household_facts, "local_today", lambda: tomorrow)
    result = _run(sheet)
    assert (result.households_updated, result.errors) == (1, [])
    second = db.session().execute(select(Household.school_age_children)).scalar_one()
    changed = _events("household.reimported")[-1]
    if born == tomorrow.replace(year=tomorrow.year - 6):
        assert second == first + 1
        assert set(changed.after) == {"facts"}
    settled = _snapshot()
    assert _run(sheet).households_updated == 1
    assert _snapshot() == settled
    assert _events("household.reimported")[-1].after == {}


def test_a_person_moves_between_two_households_of_one_sheet(tmp_path):
    """The wife leaves the vendor's household and joins the grandmother's: in sheet order
    the first household lets her go before the second takes her, as one by one."""
    _run(write_xlsx(tmp_path / "v1.xlsx", ZH, VENDOR + GRANNY))
    moved = [VENDOR[0], *VENDOR[2:], *GRANNY, ["HD-ZGC-01", "A-002", *VENDOR[1][2:]]]
    result = _run(write_xlsx(tmp_path / "v2.xlsx", ZH, moved))
    assert (result.households_created, result.households_updated, result.errors) == (0, 2, [])
    wife = db.session().execute(select(Member).where(Member.name == "李秀兰")).scalar_one()
    assert db.session().get(Household, wife.household_id).survey_ref == "A-002"
    assert WIFE_ID.encode() not in wife.id_number_enc
    assert audit.verify(db.session()).ok


def test_a_person_leaves_for_a_new_household_of_the_same_sheet(tmp_path):
    """The wife leaves the vendor's household for a new one further down the sheet: the
    new household waits until the vendor's has let her go; the other new one goes in
    with its chunk."""
    _run(write_xlsx(tmp_path / "v1.xlsx", ZH, VENDOR))
    own = ["HD-ZGC-01", "A-003", "海淀区中关村东路20号院1号楼101", *VENDOR[1][3:6], "户主", *VENDOR[1][7:11], "800",
           "否"]  # fmt: skip
    moved = [VENDOR[0], *VENDOR[2:], *GRANNY, own]
    result = _run(write_xlsx(tmp_path / "v2.xlsx", ZH, moved))
    assert (result.households_created, result.households_updated, result.errors) == (2, 1, [])
    wife = db.session().execute(select(Member).where(Member.name == "李秀兰")).scalar_one()
    assert db.session().get(Household, wife.household_id).survey_ref == "A-003"
    assert audit.verify(db.session()).ok


def test_new_and_known_households_mix_in_one_chunk(tmp_path):
    """A chunk holding a new household, an unchanged one and a changed one writes each its way."""
    _run(write_xlsx(tmp_path / "v1.xlsx", ZH, VENDOR))
    later = [row[:] for row in VENDOR]
    later[0][11] = "2600"
    result = _run(write_xlsx(tmp_path / "v2.xlsx", ZH, later + GRANNY))
    assert (result.households_created, result.households_updated, result.errors) == (1, 1, [])
    session = db.session()
    session.expire_all()
    incomes = dict(session.execute(select(Household.survey_ref, Household.monthly_income_fen)).all())
    assert incomes == {"A-001": 260000, "A-002": 150050}
    (event,) = _events("household.reimported")
    assert event.after["monthly_income_fen"] == 260000
    assert audit.verify(session).ok
