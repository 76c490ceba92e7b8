"""Migration 0007g on a database of its own, upgraded from 0007e with a partner, a grid
and a household already there: the jobs tables appear as the models describe them, an
opening, a course, an enrolment and a placement with its follow-up can be written into
them, and the downgrade removes them and leaves the older data as it was."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from models import Base
from tests.support.migrations import alembic_config, own_database

TABLES = {
    "openings",
    "courses",
    "enrolments",
    "course_attendance",
    "placements",
    "placement_follow_ups",
    "home_orders",
    "home_deliveries",
}
NOW = "'2026-12-01 08:00:00'"


@pytest.fixture
def engine(app, tmp_path) -> Iterator[sa.Engine]:
    with own_database(tmp_path, "mig0007g") as eng:
        yield eng


def _differences(engine: sa.Engine) -> list:
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}), Base.metadata)
    return [d for d in diffs if any(t in repr(d) for t in TABLES)]


def _existing(conn: sa.Connection) -> dict[str, int]:
    conn.execute(
        sa.text(
            "INSERT INTO partners (name, kind, adapter, adapter_config, categories, regions, respond_within_hours, "
            f"active, contact, created_at, updated_at) VALUES ('刺绣合作社', 'company', 'portal', '{{}}', '[]', '[]', "
            f"48, true, '', {NOW}, {NOW})"
        )
    )
    conn.execute(
        sa.text(
            "INSERT INTO grids (code, name, district, street, community, created_at, updated_at) "
            f"VALUES ('JC-01', '一网格', '泾川县', '城关镇', '东街社区', {NOW}, {NOW})"
        )
    )
    ids = {
        "partner": conn.execute(sa.text("SELECT id FROM partners")).scalar_one(),
        "grid": conn.execute(sa.text("SELECT id FROM grids")).scalar_one(),
    }
    return ids


def test_jobs_tables_come_and_go_with_data_present(engine):
    cfg = alembic_config(engine)
    command.upgrade(cfg, "0007j_group_endings")
    with engine.begin() as conn:
        ids = _existing(conn)
    assert not TABLES & set(sa.inspect(engine).get_table_names())
    command.upgrade(cfg, "0007g_jobs")
    assert set(sa.inspect(engine).get_table_names()) >= TABLES
    assert _differences(engine) == []
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO openings (partner_id, title, kind, skill, grid_id, district, hours_per_week, pay_fen, "
                "pay_unit, flexible, home_based, positions, status, description, created_at, updated_at) VALUES "
                f"(:p, '居家刺绣', 'handicraft', '刺绣', :g, '泾川县', 20, 150, 'piece', true, true, 5, 'open', '', "
                f"{NOW}, {NOW})"
            ),
            {"p": ids["partner"], "g": ids["grid"]},
        )
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO openings (partner_id, title, kind, skill, district, hours_per_week, pay_fen, pay_unit, "
                "flexible, home_based, positions, status, description, created_at, updated_at) VALUES "
                f"(:p, 'x', 'spy', '', '', 1, 1, 'month', false, false, 1, 'open', '', {NOW}, {NOW})"
            ),
            {"p": ids["partner"]},
        )
    command.downgrade(cfg, "0007j_group_endings")
    assert not TABLES & set(sa.inspect(engine).get_table_names())
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT name FROM partners")).scalar_one() == "刺绣合作社"
        assert conn.execute(sa.text("SELECT code FROM grids")).scalar_one() == "JC-01"
    command.upgrade(cfg, "0007g_jobs")
    assert _differences(engine) == []
