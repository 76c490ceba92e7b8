"""Migration 0005b on a database of its own (SQLite file, or a PostgreSQL schema): an
existing application gets an empty reference number, the document files table refuses
an empty file, and the downgrade removes both."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from alembic import command

from tests.support.migrations import alembic_config, own_database

NOW = "2026-12-01 08:00:00"


@pytest.fixture
def engine(app, tmp_path) -> Iterator[sa.Engine]:
    with own_database(tmp_path, "mig0005b") as eng:
        yield eng


def test_reference_and_document_files_come_and_go(engine):
    cfg = alembic_config(engine)
    command.upgrade(cfg, "0004")
    with engine.begin() as conn:
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
                "INSERT INTO applications (id, household_id, policy_code, policy_version, status, documents, "
                "department, created_at, updated_at) VALUES (1, 1, 'dibao', '2025.1', 'submitted', '{}', "
                "'区民政局', :now, :now)"
            ),
            {"now": NOW},
        )
    command.upgrade(cfg, "0005b")
    with engine.begin() as conn:
        assert conn.execute(sa.text("SELECT reference FROM applications WHERE id = 1")).scalar_one() == ""
    insert = (
        "INSERT INTO application_files (application_id, document_code, token, filename, content_type, size, "
        "sha256, created_at) VALUES (1, 'id_and_hukou', :token, 'a.png', 'image/png', :size, 'x', :now)"
    )
    with engine.begin() as conn:
        conn.execute(sa.text(insert), {"token": "t1", "size": 10, "now": NOW})
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.execute(sa.text(insert), {"token": "t2", "size": 0, "now": NOW})
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.execute(sa.text(insert), {"token": "t1", "size": 5, "now": NOW})
    command.downgrade(cfg, "0004")
    columns = {c["name"] for c in sa.inspect(engine).get_columns("applications")}
    assert "reference" not in columns
    assert "application_files" not in sa.inspect(engine).get_table_names()
