"""the audit chain is linked in batches after commit: events get a chain position

Revision ID: 0007k_chain_batches
Revises: 0007b_policy_holds
Create Date: 2026-12-03

Until now every transaction chained its own events just before committing, under one
lock held until the commit's fsync, so every write queued behind it. From this revision
a transaction writes its events unchained (``chain_seq``, ``prev_hash`` and ``hash``
NULL) and the chainer (:func:`broker.audit.chain.chain_pending`) links committed events
in batches. Ids come from a sequence at insert, not at commit, so they no longer follow
the chain: ``chain_seq`` is the event's place in it, and verifying walks by it.

Existing rows were chained in id order, so each takes its id as its position (a head
anchored in Redis under its id stays valid as a position). The append-only guard now
lets exactly one UPDATE through: giving an unchained event its position and hashes,
once, with nothing else changed.

Downgrading is refused while an event is unchained or the chain no longer follows ids
(the old walk goes by id): let the chainer run, or restore the backup taken before.
"""

import sqlalchemy as sa
from alembic import op

revision = "0007k_chain_batches"
down_revision = "0007b_policy_holds"
branch_labels = None
depends_on = None

BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
KEPT = ("id", "at", "actor", "action", "object_type", "object_id", "household_id", "request_id", "digest")

PG_FUNCTION_CHAINING = f"""
CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF OLD.chain_seq IS NULL AND OLD.prev_hash IS NULL AND OLD.hash IS NULL AND NEW.chain_seq IS NOT NULL
            AND NEW.prev_hash IS NOT NULL AND NEW.hash IS NOT NULL
            AND ({", ".join("NEW." + c for c in KEPT)}) IS NOT DISTINCT FROM ({", ".join("OLD." + c for c in KEPT)})
        THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP;
END;
$$ LANGUAGE plpgsql;
"""
PG_FUNCTION_OLD = """
CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP;
END;
$$ LANGUAGE plpgsql;
"""
PG_GUARD = """
CREATE TRIGGER audit_events_no_update BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();
"""
PG_UNGUARD = """
DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events;
DROP TRIGGER IF EXISTS audit_events_no_update ON audit_events;
"""
# Kept in step with tests/support/money.py (the tampering helper puts them back).
SQLITE_CHAINING_ONLY = (
    "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events WHEN NOT ("
    "OLD.chain_seq IS NULL AND OLD.prev_hash IS NULL AND OLD.hash IS NULL AND NEW.chain_seq IS NOT NULL "
    "AND NEW.prev_hash IS NOT NULL AND NEW.hash IS NOT NULL AND "
    + " AND ".join(f"NEW.{c} IS OLD.{c}" for c in KEPT)
    + ") BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: UPDATE refused'); END"
)
SQLITE_NO_UPDATE = (
    "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events "
    "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: UPDATE refused'); END"
)
SQLITE_NO_DELETE = (
    "CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events "
    "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: DELETE refused'); END"
)


def _guard(on: bool, chaining: bool) -> None:
    """Lift the append-only guard, or put it back (letting the chainer's UPDATE through or not)."""
    if op.get_bind().dialect.name == "postgresql":
        if on:
            op.execute(PG_FUNCTION_CHAINING if chaining else PG_FUNCTION_OLD)
        op.execute(PG_GUARD if on else PG_UNGUARD)
    elif on:
        op.execute(SQLITE_CHAINING_ONLY if chaining else SQLITE_NO_UPDATE)
        op.execute(SQLITE_NO_DELETE)
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_delete")


def upgrade() -> None:
    _guard(False, chaining=False)
    with op.batch_alter_table("audit_events") as batch:
        batch.add_column(sa.Column("chain_seq", BIG, nullable=True))
        batch.alter_column("prev_hash", existing_type=sa.String(64), nullable=True)
        batch.alter_column("hash", existing_type=sa.String(64), nullable=True)
    op.execute("UPDATE audit_events SET chain_seq = id")
    with op.batch_alter_table("audit_events") as batch:
        batch.create_unique_constraint(op.f("uq_audit_events_chain_seq"), ["chain_seq"])
    _guard(True, chaining=True)


def downgrade() -> None:
    conn = op.get_bind()
    if conn.execute(sa.text("SELECT count(*) FROM audit_events WHERE chain_seq IS NULL")).scalar():
        raise RuntimeError("audit events are still unchained: run `flask --app app audit chain` before downgrading")
    ids = conn.execute(sa.text("SELECT id FROM audit_events ORDER BY chain_seq")).scalars().all()
    if ids != sorted(ids):
        raise RuntimeError("the audit chain no longer follows event ids: it cannot be walked by id after downgrading")
    _guard(False, chaining=True)
    with op.batch_alter_table("audit_events") as batch:
        batch.drop_constraint(op.f("uq_audit_events_chain_seq"), type_="unique")
        batch.drop_column("chain_seq")
        batch.alter_column("prev_hash", existing_type=sa.String(64), nullable=False)
        batch.alter_column("hash", existing_type=sa.String(64), nullable=False)
    _guard(True, chaining=False)
