"""Migration 0007j on a database of its own: special-group records gain the day a member
left, the reason and who recorded it; an existing record stays open; an unknown reason is
refused by the database; the downgrade drops the columns and keeps the records."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from alembic import command

from tests.support.migrations import NOW, alembic_config, insert_household, own_database


@pytest.fixture
def engine(app, tmp_path) -> Iterator[sa.Engine]:
    with own_database(tmp_path, "mig0007j") as eng:
        yield eng


def _seed(conn: sa.Connection) -> None:
    insert_household(conn, district="崇信县", head="王桂兰")
    conn.execute(
        sa.text(
            "INSERT INTO members (id, household_id, name, relation, birth_date, conditions, created_at, updated_at) "
            "VALUES (12, 1, '王小宇', 'grandchild', '2015-09-01', '[]', :now, :now)"
        ),
        {"now": NOW},
    )
    conn.execute(
        sa.text(
            'INSERT INTO special_group_members (id, household_id, member_id, grid_id, "group", source, known_on, '
            "created_at) VALUES (5, 1, 12, 1, 'left_behind_child', 'visit', '2026-11-20', :now)"
        ),
        {"now": NOW},
    )


def test_records_gain_an_ending_and_lose_it_again(engine):
    cfg = alembic_config(engine)
    command.upgrade(cfg, "0007e_volunteers")
    with engine.begin() as conn:
        _seed(conn)
    command.upgrade(cfg, "0007j_group_endings")
    with engine.connect() as conn:
        row = conn.execute(sa.text("SELECT ended_on, end_reason, ended_by_id FROM special_group_members")).one()
    assert tuple(row) == (None, None, None)
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.execute(sa.text("UPDATE special_group_members SET end_reason = 'bored' WHERE id = 5"))
    with engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE special_group_members SET ended_on = '2026-12-01', end_reason = 'moved_away' WHERE id = 5")
        )

    command.downgrade(cfg, "0007e_volunteers")
    columns = {c["name"] for c in sa.inspect(engine).get_columns("special_group_members")}
    assert not columns & {"ended_on", "end_reason", "ended_by_id"}
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT member_id FROM special_group_members")).scalar_one() == 12
