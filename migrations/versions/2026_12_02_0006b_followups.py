"""follow-up visits (回访) after a request completes; when an offer completed (for the
partners' response times)

Revision ID: 0006b_followups
Revises: 0006e_access_log
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

import models.base

revision = "0006b_followups"
down_revision = "0006e_access_log"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "follow_ups",
        sa.Column("request_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("household_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("grid_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("category", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("due_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("notified_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("recorded_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("recorded_by_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("need_met", sa.String(length=8), nullable=True),
        sa.Column("satisfaction", sa.Integer(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("new_assessment_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('scheduled','due','recorded')", name=op.f("ck_follow_ups_status")),
        sa.CheckConstraint(
            "need_met IS NULL OR need_met IN ('yes','partly','no')", name=op.f("ck_follow_ups_need_met")
        ),
        sa.CheckConstraint(
            "satisfaction IS NULL OR (satisfaction >= 1 AND satisfaction <= 5)",
            name=op.f("ck_follow_ups_satisfaction"),
        ),
        sa.ForeignKeyConstraint(
            ["request_id"], ["aid_requests.id"], name=op.f("fk_follow_ups_request_id_aid_requests")
        ),
        sa.ForeignKeyConstraint(["household_id"], ["households.id"], name=op.f("fk_follow_ups_household_id_households")),
        sa.ForeignKeyConstraint(["grid_id"], ["grids.id"], name=op.f("fk_follow_ups_grid_id_grids")),
        sa.ForeignKeyConstraint(["recorded_by_id"], ["users.id"], name=op.f("fk_follow_ups_recorded_by_id_users")),
        sa.ForeignKeyConstraint(
            ["new_assessment_id"], ["assessments.id"], name=op.f("fk_follow_ups_new_assessment_id_assessments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_follow_ups")),
        sa.UniqueConstraint("request_id", name=op.f("uq_follow_ups_request_id")),
    )
    op.create_index("ix_follow_ups_status_due_at", "follow_ups", ["status", "due_at"], unique=False)
    op.create_index(op.f("ix_follow_ups_household_id"), "follow_ups", ["household_id"], unique=False)
    op.create_index(op.f("ix_follow_ups_grid_id"), "follow_ups", ["grid_id"], unique=False)
    with op.batch_alter_table("offers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("completed_at", models.base.UTCDateTime(timezone=True), nullable=True))
    # Offers completed before: the moment the audit trail holds.
    op.execute(
        "UPDATE offers SET completed_at = (SELECT MIN(a.at) FROM audit_events a WHERE a.object_type = 'offers' "
        "AND a.object_id = offers.id AND a.action = 'offer.completed') WHERE status = 'completed'"
    )


def downgrade() -> None:
    with op.batch_alter_table("offers", schema=None) as batch_op:
        batch_op.drop_column("completed_at")
    op.drop_index(op.f("ix_follow_ups_grid_id"), table_name="follow_ups")
    op.drop_index(op.f("ix_follow_ups_household_id"), table_name="follow_ups")
    op.drop_index("ix_follow_ups_status_due_at", table_name="follow_ups")
    op.drop_table("follow_ups")
