"""Migration 0003 on a database of its own (SQLite file, or a PostgreSQL schema): old
request statuses map to the FHIR ServiceRequest status and routing state, the new CHECK
constraints hold, an offer may ask a partner twice, and the downgrade maps back."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from alembic import command

from tests.support.migrations import alembic_config, own_database

NOW = "2026-11-30 08:00:00"
OLD = {  # status, held_from, amount, funded → (status, routing_state, held_from)
    "requested": ("requested", None, 1000, 0, ("active", "routing", None)),
    "in-progress-part": ("in-progress", None, 1000, 400, ("active", "partly-covered", None)),
    "in-progress-all": ("in-progress", None, 1000, 1000, ("active", "covered", None)),
    "in-progress-service": ("in-progress", None, None, 0, ("active", "covered", None)),
    "failed": ("failed", None, None, 0, ("active", "unmatched", None)),
    "cancelled": ("cancelled", None, 500, 0, ("revoked", "routing", None)),
    "completed": ("completed", None, 500, 500, ("completed", "covered", None)),
    "held-requested": ("on-hold", "requested", 800, 0, ("on-hold", "routing", "active")),
    "held-in-progress": ("on-hold", "in-progress", 800, 300, ("on-hold", "partly-covered", "active")),
}


@pytest.fixture
def engine(app, tmp_path) -> Iterator[sa.Engine]:
    with own_database(tmp_path, "mig0003") as eng:
        yield eng


def _seed(conn: sa.Connection) -> dict[str, int]:
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
        sa.text("INSERT INTO assessments (id, household_id, summary, created_at) VALUES (1, 1, '', :now)"),
        {"now": NOW},
    )
    ids = {}
    for i, (name, (status, held_from, amount, funded, _)) in enumerate(OLD.items(), start=1):
        conn.execute(
            sa.text(
                "INSERT INTO needs (id, assessment_id, household_id, category, urgency, description) "
                "VALUES (:id, 1, 1, 'medical', 'normal', '')"
            ),
            {"id": i},
        )
        conn.execute(
            sa.text(
                "INSERT INTO aid_requests (id, need_id, household_id, grid_id, category, urgency, amount_fen, "
                "funded_fen, disbursed_fen, description, status, status_reason, held_from, routing_round, "
                "created_at, updated_at) VALUES (:id, :id, 1, 1, 'medical', 'normal', :amount, :funded, 0, '', "
                ":status, 'old note', :held_from, 1, :now, :now)"
            ),
            {"id": i, "amount": amount, "funded": funded, "status": status, "held_from": held_from, "now": NOW},
        )
        ids[name] = i
    return ids


def test_old_statuses_map_to_status_and_routing_state_and_back(engine):
    cfg = alembic_config(engine)
    command.upgrade(cfg, "0002")
    with engine.begin() as conn:
        ids = _seed(conn)
    command.upgrade(cfg, "0003")
    with engine.connect() as conn:
        rows = {
            r.id: (r.status, r.routing_state, r.held_from)
            for r in conn.execute(sa.text("SELECT id, status, routing_state, held_from FROM aid_requests"))
        }
        revoked = conn.execute(
            sa.text("SELECT status_reason FROM aid_requests WHERE id = :id"), {"id": ids["cancelled"]}
        )
        assert revoked.scalar_one() == "other"
    assert {name: rows[i] for name, i in ids.items()} == {name: spec[4] for name, spec in OLD.items()}
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.execute(sa.text("UPDATE aid_requests SET status = 'failed' WHERE id = 1"))
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.execute(sa.text("UPDATE aid_requests SET routing_state = 'lost' WHERE id = 1"))
    with engine.begin() as conn:  # a partner may be asked again for the same request
        conn.execute(
            sa.text(
                "INSERT INTO partners (id, name, kind, adapter, adapter_config, categories, regions, "
                "respond_within_hours, active, contact, created_at, updated_at) "
                "VALUES (1, '甲', 'charity', 'portal', '{}', '[]', '[]', 48, true, '', :now, :now)"
            ),
            {"now": NOW},
        )
        for offer_id in (1, 2):
            conn.execute(
                sa.text(
                    "INSERT INTO offers (id, request_id, partner_id, status, accepted_fen, disbursed_fen, respond_by, "
                    "rank, reasons, delivery_attempts, more_available, created_at, updated_at) "
                    "VALUES (:id, 1, 1, 'received', 0, 0, :now, 1, '[]', 0, false, :now, :now)"
                ),
                {"id": offer_id, "now": NOW},
            )
        conn.execute(sa.text("DELETE FROM offers"))
    command.downgrade(cfg, "0002")
    with engine.connect() as conn:
        back = dict(conn.execute(sa.text("SELECT id, status FROM aid_requests")).all())
    assert back[ids["requested"]] == "requested"
    assert back[ids["in-progress-part"]] == "in-progress"
    assert back[ids["failed"]] == "failed"
    assert back[ids["cancelled"]] == "cancelled"
    assert back[ids["completed"]] == "completed"
