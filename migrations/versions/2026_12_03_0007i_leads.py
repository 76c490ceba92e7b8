"""leads: mobile grid members (the ``reporter`` role) and the leads they report; a
volunteer task's cancellation (reason, by whom, when)

Revision ID: 0007i_leads
Revises: 0007g_jobs
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

import models.base

revision = "0007i_leads"
down_revision = "0007g_jobs"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = models.base.UTCDateTime(timezone=True)
OLD_ROLES = "role IN ('caseworker','partner','auditor','admin','volunteer')"
NEW_ROLES = "role IN ('caseworker','partner','auditor','admin','volunteer','reporter')"
CLOSE_REASONS = "('duplicate','not_found','no_need','moved_away','already_known','other')"


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"))


def _roles(check: str) -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_users_role"), type_="check")
        batch_op.create_check_constraint(op.f("ck_users_role"), check)


def upgrade() -> None:
    _roles(NEW_ROLES)
    op.create_table(
        "reporters",
        sa.Column("user_id", ID, nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("organisation", sa.String(length=80), nullable=False),
        sa.Column("consent_at", WHEN, nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.CheckConstraint("kind IN ('courier','neighbour','other')", name=op.f("ck_reporters_kind")),
        _fk("reporters", "user_id", "users"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reporters")),
        sa.UniqueConstraint("user_id", name=op.f("uq_reporters_user_id")),
    )
    op.create_table(
        "leads",
        sa.Column("reporter_id", ID, nullable=False),
        sa.Column("grid_id", ID, nullable=True),
        sa.Column("community", sa.String(length=80), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=False),
        sa.Column("seen", sa.Text(), nullable=False),
        sa.Column("urgency", sa.String(length=10), nullable=False),
        sa.Column("photo_token", sa.String(length=64), nullable=True),
        sa.Column("photo_type", sa.String(length=20), nullable=True),
        sa.Column("photo_sha256", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("household_id", ID, nullable=True),
        sa.Column("visit_id", ID, nullable=True),
        sa.Column("close_reason", sa.String(length=20), nullable=True),
        sa.Column("handled_by_id", ID, nullable=True),
        sa.Column("handled_at", WHEN, nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.CheckConstraint("urgency IN ('normal','urgent','critical')", name=op.f("ck_leads_urgency")),
        sa.CheckConstraint("status IN ('new','visited','closed')", name=op.f("ck_leads_status")),
        sa.CheckConstraint(
            f"close_reason IS NULL OR close_reason IN {CLOSE_REASONS}", name=op.f("ck_leads_close_reason")
        ),
        _fk("leads", "reporter_id", "reporters"),
        _fk("leads", "grid_id", "grids"),
        _fk("leads", "household_id", "households"),
        _fk("leads", "visit_id", "visits"),
        _fk("leads", "handled_by_id", "users"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_leads")),
    )
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.create_index("ix_leads_grid_status", ["grid_id", "status"], unique=False)
        batch_op.create_index("ix_leads_community_status", ["community", "status"], unique=False)
        batch_op.create_index(batch_op.f("ix_leads_reporter_id"), ["reporter_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_leads_household_id"), ["household_id"], unique=False)
    with op.batch_alter_table("volunteer_tasks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cancel_reason", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("cancelled_by_id", ID, nullable=True))
        batch_op.add_column(sa.Column("cancelled_at", WHEN, nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_volunteer_tasks_cancelled_by_id_users"), "users", ["cancelled_by_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("volunteer_tasks", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_volunteer_tasks_cancelled_by_id_users"), type_="foreignkey")
        batch_op.drop_column("cancelled_at")
        batch_op.drop_column("cancelled_by_id")
        batch_op.drop_column("cancel_reason")
    op.drop_table("leads")
    op.drop_table("reporters")
    # Reporters' light accounts have no place in the older schema.
    for table in ("api_tokens", "user_grids", "idempotency_keys", "notifications", "notification_channels"):
        op.execute(f"DELETE FROM {table} WHERE user_id IN (SELECT id FROM users WHERE role = 'reporter')")
    op.execute("DELETE FROM users WHERE role = 'reporter'")
    _roles(OLD_ROLES)
