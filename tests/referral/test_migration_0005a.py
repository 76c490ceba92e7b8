"""Migration 0005a on a database of its own: the broker's English status notes become
text codes, the notes people wrote stay as written, and the downgrade writes the English
back."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from alembic import command

from tests.support.migrations import alembic_config, own_database

NOW = "2026-11-30 08:00:00"
SETUP = [
    "INSERT INTO grids (id, code, name, district, street, community, created_at, updated_at) "
    "VALUES (1, 'G1', '网格', '海淀区', '街道', '社区', :now, :now)",
    "INSERT INTO households (id, grid_id, address, head_name, monthly_income_fen, consent_to_share, "
    "sudden_hardship, notes, member_count, income_per_capita_fen, school_age_children, elderly_count, "
    "disabled_count, serious_illness, unemployed_count, created_at, updated_at) "
    "VALUES (1, 1, '地址', '张', 0, false, false, '', 1, 0, 0, 0, 0, false, 0, :now, :now)",
    "INSERT INTO assessments (id, household_id, summary, created_at) VALUES (1, 1, '', :now)",
    "INSERT INTO needs (id, assessment_id, household_id, category, urgency, description) "
    "VALUES (1, 1, 1, 'medical', 'normal', '')",
    "INSERT INTO aid_requests (id, need_id, household_id, grid_id, category, urgency, amount_fen, funded_fen, "
    "disbursed_fen, description, status, status_reason, routing_state, auto_retry, routing_round, created_at, "
    "updated_at) VALUES (1, 1, 1, 1, 'medical', 'normal', 500, 500, 500, '', 'completed', "
    "'fulfilled: the disbursements cover the amount', 'covered', false, 1, :now, :now)",
    "INSERT INTO partners (id, name, kind, adapter, adapter_config, categories, regions, respond_within_hours, "
    "active, contact, created_at, updated_at) "
    "VALUES (1, '甲', 'charity', 'portal', '{}', '[]', '[]', 48, true, '', :now, :now)",
]
OFFER = (
    "INSERT INTO offers (id, request_id, partner_id, status, status_reason, accepted_fen, disbursed_fen, respond_by, "
    "rank, reasons, delivery_attempts, more_available, created_at, updated_at) "
    "VALUES (:id, 1, 1, :status, :reason, 0, 0, :now, 1, '[]', 0, false, :now, :now)"
)
OFFERS = {  # id: (status, English note before, code after)
    1: ("cancelled", "the request was withdrawn: family_moved", "request_withdrawn"),
    2: ("completed", "fully disbursed", "fully_disbursed"),
    3: ("rejected", "名额已满", "名额已满"),
    4: ("cancelled", "expired", "expired"),
}


@pytest.fixture
def engine(app, tmp_path) -> Iterator[sa.Engine]:
    with own_database(tmp_path, "mig0005a") as eng:
        yield eng


def _notes(engine: sa.Engine) -> tuple[str, dict[int, str]]:
    with engine.connect() as conn:
        request = conn.execute(sa.text("SELECT status_reason FROM aid_requests WHERE id = 1")).scalar_one()
        offers = dict(conn.execute(sa.text("SELECT id, status_reason FROM offers")).all())
    return request, offers


def test_english_status_notes_become_codes_and_come_back(engine):
    cfg = alembic_config(engine)
    command.upgrade(cfg, "0005c")
    with engine.begin() as conn:
        for statement in SETUP:
            conn.execute(sa.text(statement), {"now": NOW})
        for offer_id, (status, reason, _code) in OFFERS.items():
            conn.execute(sa.text(OFFER), {"id": offer_id, "status": status, "reason": reason, "now": NOW})
    command.upgrade(cfg, "0005a")
    assert _notes(engine) == ("fulfilled_disbursed", {i: spec[2] for i, spec in OFFERS.items()})
    command.downgrade(cfg, "0005c")
    request, offers = _notes(engine)
    assert request == "fulfilled: the disbursements cover the amount"
    assert offers == {1: "the request was withdrawn", 2: "fully disbursed", 3: "名额已满", 4: "expired"}
