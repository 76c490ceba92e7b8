"""Migration 0007d_county_rules on a database of its own (SQLite file, or a PostgreSQL
schema): households gain the asset and medical-spending inputs (urban, none recorded),
their minors counted and their income after medical spending equal to their income;
members gain a disability kind and a supporter, not recorded; the downgrade drops them."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from alembic import command

from tests.support.migrations import NOW, alembic_config, insert_household, own_database


@pytest.fixture
def engine(app, tmp_path) -> Iterator[sa.Engine]:
    with own_database(tmp_path, "mig0007d") as eng:
        yield eng


def _seed(conn: sa.Connection) -> None:
    insert_household(conn)
    for mid, name, born in ((11, "王建国", "1980-01-01"), (12, "王小军", "2015-06-01")):
        conn.execute(
            sa.text(
                "INSERT INTO members (id, household_id, name, relation, birth_date, conditions, created_at, "
                "updated_at) VALUES (:id, 1, :name, 'other', :born, :conditions, :now, :now)"
            ),
            {"id": mid, "name": name, "born": born, "conditions": json.dumps([]), "now": NOW},
        )


def test_the_new_inputs_arrive_with_their_facts_and_leave_again(engine):
    cfg = alembic_config(engine)
    command.upgrade(cfg, "0007f_points")
    with engine.begin() as conn:
        _seed(conn)
    command.upgrade(cfg, "0007d_county_rules")
    with engine.connect() as conn:
        row = conn.execute(
            sa.text(
                "SELECT residence, financial_assets_fen, motor_vehicles, surplus_housing, medical_spending_fen, "
                "medical_spending_period, minors_count, unsupported_count, income_after_medical_per_capita_fen "
                "FROM households WHERE id = 1"
            )
        ).one()
        members = conn.execute(sa.text("SELECT disability_kind, supporter_able FROM members")).all()
    assert tuple(row[:3]) == ("urban", 0, 0)
    assert not row.surplus_housing
    assert (row.medical_spending_fen, row.medical_spending_period) == (0, "monthly")
    assert (row.minors_count, row.unsupported_count, row.income_after_medical_per_capita_fen) == (1, 0, 48000)
    assert members == [(None, None), (None, None)]
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.execute(sa.text("UPDATE households SET residence = 'suburb' WHERE id = 1"))

    command.downgrade(cfg, "0007f_points")
    columns = {c["name"] for c in sa.inspect(engine).get_columns("households")}
    assert not columns & {"residence", "financial_assets_fen", "minors_count", "income_after_medical_per_capita_fen"}
    assert "supporter_able" not in {c["name"] for c in sa.inspect(engine).get_columns("members")}
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT income_per_capita_fen FROM households")).scalar_one() == 48000
