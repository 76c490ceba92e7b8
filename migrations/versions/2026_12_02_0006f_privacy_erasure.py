"""the audit chain holds no personal data; erasures

Revision ID: 0006f_privacy_erasure
Revises: 0006h_facts
Create Date: 2026-12-02

Until now each audit row hashed its full before/after/details JSON (household summaries
with names, address, phone) into an append-only row, so no one could ever be erased
without breaking the chain. From this revision a row hashes only ids, the action and
``digest``, an HMAC (key: the ``AUDIT_KEY`` setting) of its readable details, which move
to ``audit_details`` (one row per event, same id), where erasure can mask them.

Existing rows: they were hashed over their full content, so they are re-chained once.
The upgrade first verifies the whole old chain in the old format and refuses to go on if
any row is broken (a broken chain is never laundered into a valid one); then it moves
each row's details out, gives every row its digest, recomputes every ``prev_hash`` and
``hash`` in the new format, and appends one marker event, ``audit.rechained``, whose
details record the old head's id and hash and the number of rows re-chained.

What an auditor may rely on: (1) every row up to the marker was verified intact in the
old format at the moment of the migration and carries the same ids, times, actors,
actions and details as before; (2) from then on the chain is verified in the new format,
details against their digests; (3) the old head's hash, kept in the marker, matches the
head anchored in Redis before the migration (``audit verify`` checks exactly that and
moves the anchor on; a Redis copy of the old head, or an older export, can be compared by
hand). What the migration cannot prove: that whoever ran it did not alter rows between the
old verification and the re-chaining, within the same transaction — the same trust the
operator's database rights already imply.

Downgrading re-chains in the old format (erased details stay erased, their masks hashed).
"""

import hashlib
import hmac
import json
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import models.base

revision = "0006f_privacy_erasure"
down_revision = "0006h_facts"
branch_labels = None
depends_on = None

SEP = "\x1f"
GENESIS = "0" * 64
BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
HEAD = ("id", "at", "actor", "action", "object_type", "object_id", "household_id", "request_id")
DETAIL = ("before", "after", "details")

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
SQLITE_GUARD = (
    """CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
    BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: UPDATE refused'); END""",
    """CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
    BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: DELETE refused'); END""",
)
SQLITE_UNGUARD = (
    "DROP TRIGGER IF EXISTS audit_events_no_update",
    "DROP TRIGGER IF EXISTS audit_events_no_delete",
)


def _guard(on: bool) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_GUARD if on else PG_UNGUARD)
    else:
        for stmt in SQLITE_GUARD if on else SQLITE_UNGUARD:
            op.execute(stmt)


def _key() -> bytes:
    from broker.platform import runtime  # the key is a setting; a migration runs inside a configured process

    return runtime.settings()["AUDIT_KEY"].encode()


def _head_fields(row: dict) -> list[str]:
    return [
        row["at"].isoformat(timespec="microseconds"),
        row["actor"],
        row["action"],
        row["object_type"],
        *("" if row[c] is None else str(row[c]) for c in ("object_id", "household_id", "request_id")),
    ]


def _old_content(row: dict) -> str:
    return SEP.join([*_head_fields(row), *(row[c] or "" for c in DETAIL)])


def _new_content(row: dict) -> str:
    return SEP.join([*_head_fields(row), row["digest"]])


def _digest(row: dict, key: bytes) -> str:
    return hmac.digest(key, SEP.join(row[c] or "" for c in DETAIL).encode(), "sha256").hex()


def _rehash(rows: list[dict], content) -> str:
    prev = GENESIS
    for row in rows:
        row["prev_hash"] = prev
        row["hash"] = prev = hashlib.sha256((prev + SEP + content(row)).encode()).hexdigest()
    return prev


def _events(columns: tuple[str, ...]) -> sa.TableClause:
    types = {"at": models.base.UTCDateTime(), "id": BIG, "object_id": BIG, "household_id": BIG, "request_id": BIG}
    return sa.table("audit_events", *(sa.column(c, types.get(c, sa.Text())) for c in columns))


def upgrade() -> None:
    conn = op.get_bind()
    old = _events((*HEAD, *DETAIL, "prev_hash", "hash"))
    rows = [dict(r._mapping) for r in conn.execute(sa.select(old).order_by(old.c.id))]
    prev = GENESIS
    for row in rows:
        if row["prev_hash"] != prev:
            raise RuntimeError(f"audit chain broken at event {row['id']} (link): fix or explain it before migrating")
        prev = hashlib.sha256((prev + SEP + _old_content(row)).encode()).hexdigest()
        if row["hash"] != prev:
            raise RuntimeError(f"audit chain broken at event {row['id']} (edited): fix or explain it before migrating")
    old_head = (rows[-1]["id"], rows[-1]["hash"]) if rows else None

    _guard(False)
    with op.batch_alter_table("audit_events") as batch:
        batch.add_column(sa.Column("digest", sa.String(64), nullable=False, server_default=""))
        for column in DETAIL:
            batch.drop_column(column)
    op.create_table(
        "audit_details",
        sa.Column("id", BIG, nullable=False, autoincrement=False),
        sa.Column("before", sa.Text(), nullable=True),
        sa.Column("after", sa.Text(), nullable=True),
        sa.Column("details", sa.Text(), nullable=True),
        sa.Column("erased_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("erasure_id", BIG, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_details")),
    )
    if rows:
        key = _key()
        marker = {
            "id": rows[-1]["id"] + 1,
            "at": datetime.now(UTC),
            "actor": "system",
            "action": "audit.rechained",
            "object_type": "system",
            "object_id": None,
            "household_id": None,
            "request_id": None,
            "before": None,
            "after": None,
            "details": json.dumps(
                {"events": len(rows), "old_head_hash": old_head[1], "old_head_id": old_head[0]},
                sort_keys=True,
                separators=(",", ":"),
            ),
        }
        for row in rows:
            row["digest"] = _digest(row, key)
        marker["digest"] = _digest(marker, key)
        _rehash([*rows, marker], _new_content)
        details = sa.table("audit_details", *(sa.column(c) for c in ("id", *DETAIL)))
        op.bulk_insert(details, [{c: r[c] for c in ("id", *DETAIL)} for r in rows])
        new = _events(("id", "digest", "prev_hash", "hash"))
        stmt = (
            sa.update(new)
            .where(new.c.id == sa.bindparam("b_id"))
            .values(digest=sa.bindparam("b_digest"), prev_hash=sa.bindparam("b_prev"), hash=sa.bindparam("b_hash"))
        )
        # Two passes: no new hash may collide with an old one still stored under the unique index.
        conn.execute(
            stmt, [{"b_id": r["id"], "b_digest": r["digest"], "b_prev": "", "b_hash": f"m{r['id']}"} for r in rows]
        )
        conn.execute(
            stmt,
            [{"b_id": r["id"], "b_digest": r["digest"], "b_prev": r["prev_hash"], "b_hash": r["hash"]} for r in rows],
        )
        full = _events((*HEAD, "digest", "prev_hash", "hash"))
        conn.execute(sa.insert(full).values({c: marker[c] for c in (*HEAD, "digest", "prev_hash", "hash")}))
        op.bulk_insert(details, [{c: marker[c] for c in ("id", *DETAIL)}])
        if conn.dialect.name == "postgresql":
            op.execute("SELECT setval(pg_get_serial_sequence('audit_events', 'id'), (SELECT max(id) FROM audit_events))")
    if conn.dialect.name == "postgresql":
        op.alter_column("audit_events", "digest", server_default=None)
    _guard(True)

    op.create_table(
        "erasures",
        sa.Column("scope", sa.String(length=20), nullable=False),
        sa.Column("household_id", BIG, nullable=False),
        sa.Column("member_id", BIG, nullable=True),
        sa.Column("kinds", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
        sa.Column("origin", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("requested_by_id", BIG, nullable=True),
        sa.Column("approved_by_id", BIG, nullable=True),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("approved_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("done_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("report", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
        sa.Column("id", BIG, autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(["household_id"], ["households.id"], name=op.f("fk_erasures_household_id_households")),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_erasures_member_id_members")),
        sa.ForeignKeyConstraint(["requested_by_id"], ["users.id"], name=op.f("fk_erasures_requested_by_id_users")),
        sa.ForeignKeyConstraint(["approved_by_id"], ["users.id"], name=op.f("fk_erasures_approved_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_erasures")),
    )
    with op.batch_alter_table("erasures") as batch:
        batch.create_index(batch.f("ix_erasures_household_id"), ["household_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("erasures") as batch:
        batch.drop_index(batch.f("ix_erasures_household_id"))
    op.drop_table("erasures")
    conn = op.get_bind()
    events = _events((*HEAD, "digest"))
    details = sa.table("audit_details", *(sa.column(c) for c in ("id", *DETAIL)))
    found = {r.id: dict(r._mapping) for r in conn.execute(sa.select(details))}
    rows = [
        {**dict(r._mapping), **{c: found.get(r.id, {}).get(c) for c in DETAIL}}
        for r in conn.execute(sa.select(events).order_by(events.c.id))
    ]
    _rehash(rows, _old_content)
    _guard(False)
    op.drop_table("audit_details")
    with op.batch_alter_table("audit_events") as batch:
        for column in DETAIL:
            batch.add_column(sa.Column(column, sa.Text(), nullable=True))
        batch.drop_column("digest")
    if rows:
        table = _events(("id", *DETAIL, "prev_hash", "hash"))
        stmt = (
            sa.update(table)
            .where(table.c.id == sa.bindparam("b_id"))
            .values(
                before=sa.bindparam("b_before"),
                after=sa.bindparam("b_after"),
                details=sa.bindparam("b_details"),
                prev_hash=sa.bindparam("b_prev"),
                hash=sa.bindparam("b_hash"),
            )
        )
        params = [{f"b_{c}": r[c] for c in DETAIL} | {"b_id": r["id"]} for r in rows]
        conn.execute(stmt, [p | {"b_prev": "", "b_hash": f"m{p['b_id']}"} for p in params])
        conn.execute(stmt, [p | {"b_prev": r["prev_hash"], "b_hash": r["hash"]} for p, r in zip(params, rows)])
    _guard(True)
