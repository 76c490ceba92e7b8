"""volunteers: volunteers and their light accounts (the ``volunteer`` role), the tasks a
team hands out, each volunteer's claim on one, and the service records confirmed claims
leave

Revision ID: 0007e_volunteers
Revises: 0006a_receipts
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import models.base

revision = "0007e_volunteers"
down_revision = "0007h_care"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
WHEN = models.base.UTCDateTime(timezone=True)
OLD_ROLES = "role IN ('caseworker','partner','auditor','admin')"
NEW_ROLES = "role IN ('caseworker','partner','auditor','admin','volunteer')"


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"))


def _roles(check: str) -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_users_role"), type_="check")
        batch_op.create_check_constraint(op.f("ck_users_role"), check)


def upgrade() -> None:
    _roles(NEW_ROLES)
    op.create_table(
        "volunteers",
        sa.Column("team_id", ID, nullable=False),
        sa.Column("user_id", ID, nullable=True),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("id_number_enc", sa.LargeBinary(), nullable=True),
        sa.Column("id_hash", sa.String(length=64), nullable=True),
        sa.Column("skills", JSON, nullable=False),
        sa.Column("languages", JSON, nullable=False),
        sa.Column("availability", sa.String(length=200), nullable=False),
        sa.Column("grids", JSON, nullable=False),
        sa.Column("household_id", ID, nullable=True),
        sa.Column("consent_at", WHEN, nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("decided_by_id", ID, nullable=True),
        sa.Column("decided_at", WHEN, nullable=True),
        sa.Column("decision_reason", sa.String(length=200), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.CheckConstraint("status IN ('pending','active','rejected')", name=op.f("ck_volunteers_status")),
        _fk("volunteers", "team_id", "partners"),
        _fk("volunteers", "user_id", "users"),
        _fk("volunteers", "household_id", "households"),
        _fk("volunteers", "decided_by_id", "users"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_volunteers")),
        sa.UniqueConstraint("user_id", name=op.f("uq_volunteers_user_id")),
        sa.UniqueConstraint("id_hash", name=op.f("uq_volunteers_id_hash")),
    )
    with op.batch_alter_table("volunteers", schema=None) as batch_op:
        batch_op.create_index("ix_volunteers_team_status", ["team_id", "status"], unique=False)
        batch_op.create_index(batch_op.f("ix_volunteers_household_id"), ["household_id"], unique=False)
    op.create_table(
        "volunteer_tasks",
        sa.Column("team_id", ID, nullable=False),
        sa.Column("offer_id", ID, nullable=True),
        sa.Column("request_id", ID, nullable=True),
        sa.Column("household_id", ID, nullable=True),
        sa.Column("grid_id", ID, nullable=True),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("place", sa.String(length=200), nullable=False),
        sa.Column("starts_at", WHEN, nullable=False),
        sa.Column("ends_at", WHEN, nullable=False),
        sa.Column("slots", sa.Integer(), nullable=False),
        sa.Column("claimed", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_by_id", ID, nullable=True),
        sa.Column("requested_at", WHEN, nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("first_claim_at", WHEN, nullable=True),
        sa.Column("done_at", WHEN, nullable=True),
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.CheckConstraint(
            "kind IN ('visit','escort','tutoring','repairs','delivery','other')", name=op.f("ck_volunteer_tasks_kind")
        ),
        sa.CheckConstraint("status IN ('open','done','cancelled')", name=op.f("ck_volunteer_tasks_status")),
        sa.CheckConstraint("slots > 0 AND claimed >= 0 AND claimed <= slots", name=op.f("ck_volunteer_tasks_slots")),
        _fk("volunteer_tasks", "team_id", "partners"),
        _fk("volunteer_tasks", "offer_id", "offers"),
        _fk("volunteer_tasks", "request_id", "aid_requests"),
        _fk("volunteer_tasks", "household_id", "households"),
        _fk("volunteer_tasks", "grid_id", "grids"),
        _fk("volunteer_tasks", "created_by_id", "users"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_volunteer_tasks")),
    )
    with op.batch_alter_table("volunteer_tasks", schema=None) as batch_op:
        batch_op.create_index("ix_volunteer_tasks_team_status", ["team_id", "status"], unique=False)
        for column in ("offer_id", "request_id", "household_id", "grid_id"):
            batch_op.create_index(batch_op.f(f"ix_volunteer_tasks_{column}"), [column], unique=False)
    op.create_table(
        "task_claims",
        sa.Column("task_id", ID, nullable=False),
        sa.Column("volunteer_id", ID, nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("claimed_at", WHEN, nullable=False),
        sa.Column("checked_in_at", WHEN, nullable=True),
        sa.Column("checked_out_at", WHEN, nullable=True),
        sa.Column("minutes", sa.Integer(), nullable=True),
        sa.Column("code_hash", sa.String(length=64), nullable=True),
        sa.Column("code_expires_at", WHEN, nullable=True),
        sa.Column("code_attempts", sa.Integer(), nullable=False),
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.CheckConstraint(
            "status IN ('claimed','checked_in','checked_out','confirmed','withdrawn')",
            name=op.f("ck_task_claims_status"),
        ),
        sa.CheckConstraint("minutes IS NULL OR minutes >= 0", name=op.f("ck_task_claims_minutes")),
        _fk("task_claims", "task_id", "volunteer_tasks"),
        _fk("task_claims", "volunteer_id", "volunteers"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_claims")),
        sa.UniqueConstraint("task_id", "volunteer_id", name=op.f("uq_task_claims_task_id")),
    )
    with op.batch_alter_table("task_claims", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_task_claims_task_id"), ["task_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_task_claims_volunteer_id"), ["volunteer_id"], unique=False)
    op.create_table(
        "service_records",
        sa.Column("claim_id", ID, nullable=False),
        sa.Column("volunteer_id", ID, nullable=False),
        sa.Column("team_id", ID, nullable=False),
        sa.Column("task_id", ID, nullable=False),
        sa.Column("household_id", ID, nullable=True),
        sa.Column("grid_id", ID, nullable=True),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("content", sa.String(length=120), nullable=False),
        sa.Column("place", sa.String(length=200), nullable=False),
        sa.Column("started_at", WHEN, nullable=False),
        sa.Column("ended_at", WHEN, nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=10), nullable=False),
        sa.Column("verified_by_id", ID, nullable=True),
        sa.Column("verified_at", WHEN, nullable=False),
        sa.Column("details", JSON, nullable=False),
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.CheckConstraint("minutes >= 0", name=op.f("ck_service_records_minutes")),
        sa.CheckConstraint("method IN ('caseworker','code','leader')", name=op.f("ck_service_records_method")),
        _fk("service_records", "claim_id", "task_claims"),
        _fk("service_records", "volunteer_id", "volunteers"),
        _fk("service_records", "team_id", "partners"),
        _fk("service_records", "task_id", "volunteer_tasks"),
        _fk("service_records", "household_id", "households"),
        _fk("service_records", "grid_id", "grids"),
        _fk("service_records", "verified_by_id", "users"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_records")),
        sa.UniqueConstraint("claim_id", name=op.f("uq_service_records_claim_id")),
    )
    with op.batch_alter_table("service_records", schema=None) as batch_op:
        batch_op.create_index("ix_service_records_volunteer_started", ["volunteer_id", "started_at"], unique=False)
        for column in ("team_id", "task_id", "household_id", "grid_id"):
            batch_op.create_index(batch_op.f(f"ix_service_records_{column}"), [column], unique=False)


def downgrade() -> None:
    op.drop_table("service_records")
    op.drop_table("task_claims")
    op.drop_table("volunteer_tasks")
    op.drop_table("volunteers")
    # Volunteers' light accounts have no place in the older schema.
    for table in ("api_tokens", "user_grids", "idempotency_keys", "notifications", "notification_channels"):
        op.execute(f"DELETE FROM {table} WHERE user_id IN (SELECT id FROM users WHERE role = 'volunteer')")
    op.execute("DELETE FROM users WHERE role = 'volunteer'")
    _roles(OLD_ROLES)
