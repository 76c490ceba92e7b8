"""Migration 0005c on a database of its own (SQLite file, or a PostgreSQL schema): old
notifications, stored as English sentences, keep their code and become parameters (the
routing reasons dropped, an application reminder given what its message named); the
sentence is gone; the downgrade brings the columns back."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from alembic import command

from broker.people import notice_texts
from tests.support.migrations import alembic_config, own_database

NOW = "2026-11-30 08:00:00"


@pytest.fixture
def engine(app, tmp_path) -> Iterator[sa.Engine]:
    with own_database(tmp_path, "mig0005c") as eng:
        yield eng


def _seed(conn: sa.Connection) -> None:
    conn.execute(
        sa.text(
            "INSERT INTO users (id, username, display_name, password_hash, role, is_active, created_at, updated_at) "
            "VALUES (1, 'cw', '社工', 'x', 'caseworker', true, :now, :now)"
        ),
        {"now": NOW},
    )
    conn.execute(
        sa.text(
            "INSERT INTO grids (id, code, name, district, street, community, created_at, updated_at) "
            "VALUES (1, 'G1', '网格', '海淀区', '街道', '社区', :now, :now)"
        ),
        {"now": NOW},
    )
    conn.execute(
        sa.text(
            "INSERT INTO households (id, grid_id, address, head_name, monthly_income_fen, consent_to_share, "
            "sudden_hardship, notes, member_count, income_per_capita_fen, school_age_children, elderly_count, "
            "disabled_count, serious_illness, unemployed_count, created_at, updated_at) "
            "VALUES (1, 1, '地址', '张', 0, false, false, '', 1, 0, 0, 0, 0, false, 0, :now, :now)"
        ),
        {"now": NOW},
    )
    conn.execute(
        sa.text(
            "INSERT INTO applications (id, household_id, policy_code, policy_version, status, documents, department, "
            "deadline_at, created_at, updated_at) VALUES (5, 1, 'dibao', '2024', 'submitted', '[]', '区民政局', "
            "'2026-11-20 00:00:00', :now, :now)"
        ),
        {"now": NOW},
    )
    old = [
        (1, "request_failed", "No partner could take request #9 …", {"request_id": 9, "reasons": ["甲: inactive"]}),
        (2, "request_short", "Request #9 is short by 300.00 yuan …", {"request_id": 9, "uncovered_fen": 30000}),
        (3, "application_overdue", "The 低保 application #5 …", {"application_id": 5, "household_id": 1}),
    ]
    for note_id, kind, message, data in old:
        conn.execute(
            sa.text(
                "INSERT INTO notifications (id, user_id, kind, message, data, dedupe_key, created_at) "
                "VALUES (:id, 1, :kind, :message, :data, :key, :now)"
            ),
            {
                "id": note_id,
                "kind": kind,
                "message": message,
                "data": json.dumps(data),
                "key": f"k{note_id}",
                "now": NOW,
            },
        )


def _params(value: object) -> dict:
    return value if isinstance(value, dict) else json.loads(value)


def test_old_sentences_become_codes_and_parameters_and_back(engine):
    cfg = alembic_config(engine)
    command.upgrade(cfg, "0005c-1")  # the revision before this one
    with engine.begin() as conn:
        _seed(conn)
    command.upgrade(cfg, "0005c")
    columns = {c["name"] for c in sa.inspect(engine).get_columns("notifications")}
    assert {"code", "params"} <= columns
    assert not {"message", "kind", "data"} & columns
    indexes = {i["name"] for i in sa.inspect(engine).get_indexes("notifications")}
    assert "ix_notifications_user_unread" in indexes
    with engine.connect() as conn:
        rows = {r.id: (r.code, _params(r.params)) for r in conn.execute(sa.text("SELECT * FROM notifications"))}
    assert rows[1] == ("request_failed", {"request_id": 9})
    assert rows[2] == ("request_short", {"request_id": 9, "uncovered_fen": 30000})
    code, params = rows[3]
    assert (code, params["application_id"], params["department"], params["deadline"]) == (
        "application_overdue",
        5,
        "区民政局",
        "2026-11-20",
    )
    assert notice_texts.render(*rows[2]).startswith("需求 #9 还差 ¥300")
    assert "截止日期 2026-11-20" in notice_texts.render(code, params)
    assert {"notification_channels", "notification_deliveries"} <= set(sa.inspect(engine).get_table_names())

    command.downgrade(cfg, "0005c-1")
    columns = {c["name"] for c in sa.inspect(engine).get_columns("notifications")}
    assert {"kind", "message", "data"} <= columns
    assert "params" not in columns
    with engine.connect() as conn:
        kinds = dict(conn.execute(sa.text("SELECT id, kind FROM notifications")).all())
    assert kinds == {1: "request_failed", 2: "request_short", 3: "application_overdue"}
