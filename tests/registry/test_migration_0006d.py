"""Migration 0006d_consents on a database of its own (SQLite file, or a PostgreSQL
schema): every household that had agreed to share (the one boolean of before) gets a
current share-with-partners record for its head — the member recorded as head, else the
one named as head — recorded by "system" with the evidence "recorded before consent
records"; a household that had not agreed gets none; the downgrade drops the table."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from alembic import command

from tests.support.migrations import alembic_config, own_database

NOW = "2026-11-30 08:00:00"


@pytest.fixture
def engine(app, tmp_path) -> Iterator[sa.Engine]:
    with own_database(tmp_path, "mig0006d") as eng:
        yield eng


def _seed(conn: sa.Connection) -> None:
    conn.execute(
        sa.text(
            "INSERT INTO grids (id, code, name, district, street, community, created_at, updated_at) "
            "VALUES (1, 'G1', '网格', '海淀区', '街道', '社区', :now, :now)"
        ),
        {"now": NOW},
    )
    # 1 agreed, head recorded as such (second member); 2 agreed, no head relation, named
    # head second; 3 did not agree.
    for hid, head, consent in ((1, "王建国", True), (2, "李秀英", True), (3, "赵大勇", False)):
        conn.execute(
            sa.text(
                "INSERT INTO households (id, grid_id, address, head_name, monthly_income_fen, consent_to_share, "
                "sudden_hardship, notes, member_count, income_per_capita_fen, school_age_children, elderly_count, "
                "disabled_count, serious_illness, unemployed_count, state, created_at, updated_at) "
                "VALUES (:id, 1, '地址', :head, 0, :consent, false, '', 2, 0, 0, 0, 0, false, 0, 'active', :now, :now)"
            ),
            {"id": hid, "head": head, "consent": consent, "now": NOW},
        )
    members = [
        (11, 1, "王小军", "child"),
        (12, 1, "王建国", "head"),
        (21, 2, "张浩", "child"),
        (22, 2, "李秀英", "other"),
        (31, 3, "赵大勇", "head"),
    ]
    for mid, hid, name, relation in members:
        conn.execute(
            sa.text(
                "INSERT INTO members (id, household_id, name, relation, conditions, created_at, updated_at) "
                "VALUES (:id, :hid, :name, :relation, :conditions, :now, :now)"
            ),
            {"id": mid, "hid": hid, "name": name, "relation": relation, "conditions": json.dumps([]), "now": NOW},
        )


def test_agreements_become_records_for_the_head_and_back(engine):
    """The boolean becomes one record per agreeing household, for its head; down again, the table is gone."""
    cfg = alembic_config(engine)
    command.upgrade(cfg, "0005a")
    with engine.begin() as conn:
        _seed(conn)
    command.upgrade(cfg, "0006d_consents")
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT household_id, member_id, guardian_member_id, purpose, partner_kinds, evidence, "
                "recorded_by, recorded_by_id, withdrawn_at FROM consents ORDER BY household_id"
            )
        ).all()
    assert [(r.household_id, r.member_id, r.purpose) for r in rows] == [
        (1, 12, "share_with_partners"),
        (2, 22, "share_with_partners"),
    ]
    for row in rows:
        kinds = row.partner_kinds if isinstance(row.partner_kinds, list) else json.loads(row.partner_kinds)
        assert kinds == []
        assert row.evidence == "recorded before consent records"
        assert row.recorded_by == "system"
        assert row.recorded_by_id is None
        assert row.withdrawn_at is None
        assert row.guardian_member_id is None

    command.downgrade(cfg, "0005a")
    assert "consents" not in sa.inspect(engine).get_table_names()
    with engine.connect() as conn:
        kept = dict(conn.execute(sa.text("SELECT id, consent_to_share FROM households")).all())
    assert {k: bool(v) for k, v in kept.items()} == {1: True, 2: True, 3: False}
