"""jobs and skills: openings, courses, enrolments and attendance, placements and their
3/6-month follow-ups, home-based orders and deliveries

Revision ID: 0007g_jobs
Revises: 0007j_group_endings
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

import models.base

revision = "0007g_jobs"
down_revision = "0007j_group_endings"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "courses",
        sa.Column("partner_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("skill", sa.String(length=60), nullable=False),
        sa.Column("teacher", sa.String(length=80), nullable=False),
        sa.Column("schedule", sa.String(length=200), nullable=False),
        sa.Column("sessions", sa.Integer(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("grid_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("district", sa.String(length=80), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("created_by_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('open','closed')", name=op.f("ck_courses_status")),
        sa.CheckConstraint("capacity >= 1", name=op.f("ck_courses_capacity")),
        sa.CheckConstraint("sessions >= 1", name=op.f("ck_courses_sessions")),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_courses_created_by_id_users")),
        sa.ForeignKeyConstraint(["grid_id"], ["grids.id"], name=op.f("fk_courses_grid_id_grids")),
        sa.ForeignKeyConstraint(["partner_id"], ["partners.id"], name=op.f("fk_courses_partner_id_partners")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_courses")),
    )
    with op.batch_alter_table("courses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_courses_grid_id"), ["grid_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_courses_partner_id"), ["partner_id"], unique=False)

    op.create_table(
        "openings",
        sa.Column("partner_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("skill", sa.String(length=60), nullable=False),
        sa.Column("grid_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("district", sa.String(length=80), nullable=False),
        sa.Column("hours_per_week", sa.Integer(), nullable=False),
        sa.Column("pay_fen", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("pay_unit", sa.String(length=8), nullable=False),
        sa.Column("flexible", sa.Boolean(), nullable=False),
        sa.Column("home_based", sa.Boolean(), nullable=False),
        sa.Column("positions", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_by_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('factory','service','handicraft','care','agriculture','office','other')",
            name=op.f("ck_openings_kind"),
        ),
        sa.CheckConstraint("pay_unit IN ('month','day','piece')", name=op.f("ck_openings_pay_unit")),
        sa.CheckConstraint("status IN ('open','closed')", name=op.f("ck_openings_status")),
        sa.CheckConstraint("pay_fen >= 0", name=op.f("ck_openings_pay")),
        sa.CheckConstraint("positions >= 1", name=op.f("ck_openings_positions")),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_openings_created_by_id_users")),
        sa.ForeignKeyConstraint(["grid_id"], ["grids.id"], name=op.f("fk_openings_grid_id_grids")),
        sa.ForeignKeyConstraint(["partner_id"], ["partners.id"], name=op.f("fk_openings_partner_id_partners")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_openings")),
    )
    with op.batch_alter_table("openings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_openings_grid_id"), ["grid_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_openings_partner_id"), ["partner_id"], unique=False)

    op.create_table(
        "home_orders",
        sa.Column("opening_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("buyer", sa.String(length=120), nullable=False),
        sa.Column("items", sa.String(length=200), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("ordered_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_by_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('open','delivered')", name=op.f("ck_home_orders_status")),
        sa.CheckConstraint("amount_fen >= 0", name=op.f("ck_home_orders_amount")),
        sa.CheckConstraint("quantity >= 1", name=op.f("ck_home_orders_quantity")),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_home_orders_created_by_id_users")),
        sa.ForeignKeyConstraint(["opening_id"], ["openings.id"], name=op.f("fk_home_orders_opening_id_openings")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_home_orders")),
    )
    with op.batch_alter_table("home_orders", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_home_orders_opening_id"), ["opening_id"], unique=False)

    op.create_table(
        "enrolments",
        sa.Column("course_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("household_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("grid_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("request_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("completed_on", sa.Date(), nullable=True),
        sa.Column("created_by_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('enrolled','completed','withdrawn')", name=op.f("ck_enrolments_status")),
        sa.ForeignKeyConstraint(["course_id"], ["courses.id"], name=op.f("fk_enrolments_course_id_courses")),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_enrolments_created_by_id_users")),
        sa.ForeignKeyConstraint(["grid_id"], ["grids.id"], name=op.f("fk_enrolments_grid_id_grids")),
        sa.ForeignKeyConstraint(
            ["household_id"], ["households.id"], name=op.f("fk_enrolments_household_id_households")
        ),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_enrolments_member_id_members")),
        sa.ForeignKeyConstraint(
            ["request_id"], ["aid_requests.id"], name=op.f("fk_enrolments_request_id_aid_requests")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enrolments")),
        sa.UniqueConstraint("course_id", "member_id", name=op.f("uq_enrolments_course_id")),
    )
    with op.batch_alter_table("enrolments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_enrolments_course_id"), ["course_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_enrolments_grid_id"), ["grid_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_enrolments_household_id"), ["household_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_enrolments_member_id"), ["member_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_enrolments_request_id"), ["request_id"], unique=False)

    op.create_table(
        "placements",
        sa.Column("opening_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("household_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("grid_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("request_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("pay_fen", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("created_by_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('active','ended')", name=op.f("ck_placements_status")),
        sa.CheckConstraint("pay_fen >= 0", name=op.f("ck_placements_pay")),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_placements_created_by_id_users")),
        sa.ForeignKeyConstraint(["grid_id"], ["grids.id"], name=op.f("fk_placements_grid_id_grids")),
        sa.ForeignKeyConstraint(
            ["household_id"], ["households.id"], name=op.f("fk_placements_household_id_households")
        ),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_placements_member_id_members")),
        sa.ForeignKeyConstraint(["opening_id"], ["openings.id"], name=op.f("fk_placements_opening_id_openings")),
        sa.ForeignKeyConstraint(
            ["request_id"], ["aid_requests.id"], name=op.f("fk_placements_request_id_aid_requests")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_placements")),
        sa.UniqueConstraint("opening_id", "member_id", name=op.f("uq_placements_opening_id")),
    )
    with op.batch_alter_table("placements", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_placements_grid_id"), ["grid_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_placements_household_id"), ["household_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_placements_member_id"), ["member_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_placements_opening_id"), ["opening_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_placements_request_id"), ["request_id"], unique=False)

    op.create_table(
        "course_attendance",
        sa.Column("enrolment_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("session_no", sa.Integer(), nullable=False),
        sa.Column("attended_on", sa.Date(), nullable=False),
        sa.Column("recorded_by_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["enrolment_id"], ["enrolments.id"], name=op.f("fk_course_attendance_enrolment_id_enrolments")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["users.id"], name=op.f("fk_course_attendance_recorded_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_course_attendance")),
        sa.UniqueConstraint("enrolment_id", "session_no", name=op.f("uq_course_attendance_enrolment_id")),
    )
    with op.batch_alter_table("course_attendance", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_course_attendance_enrolment_id"), ["enrolment_id"], unique=False)

    op.create_table(
        "home_deliveries",
        sa.Column("order_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("placement_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("earnings_fen", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("delivered_on", sa.Date(), nullable=False),
        sa.Column("recorded_by_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.CheckConstraint("earnings_fen >= 0", name=op.f("ck_home_deliveries_earnings")),
        sa.CheckConstraint("quantity >= 1", name=op.f("ck_home_deliveries_quantity")),
        sa.ForeignKeyConstraint(["order_id"], ["home_orders.id"], name=op.f("fk_home_deliveries_order_id_home_orders")),
        sa.ForeignKeyConstraint(
            ["placement_id"], ["placements.id"], name=op.f("fk_home_deliveries_placement_id_placements")
        ),
        sa.ForeignKeyConstraint(["recorded_by_id"], ["users.id"], name=op.f("fk_home_deliveries_recorded_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_home_deliveries")),
    )
    with op.batch_alter_table("home_deliveries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_home_deliveries_order_id"), ["order_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_home_deliveries_placement_id"), ["placement_id"], unique=False)

    op.create_table(
        "placement_follow_ups",
        sa.Column("placement_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("grid_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("months", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("done_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("still_working", sa.Boolean(), nullable=True),
        sa.Column("earnings_fen", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("recorded_by_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.CheckConstraint("earnings_fen IS NULL OR earnings_fen >= 0", name=op.f("ck_placement_follow_ups_earnings")),
        sa.CheckConstraint("months IN (3, 6)", name=op.f("ck_placement_follow_ups_months")),
        sa.ForeignKeyConstraint(["grid_id"], ["grids.id"], name=op.f("fk_placement_follow_ups_grid_id_grids")),
        sa.ForeignKeyConstraint(
            ["placement_id"], ["placements.id"], name=op.f("fk_placement_follow_ups_placement_id_placements")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["users.id"], name=op.f("fk_placement_follow_ups_recorded_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_placement_follow_ups")),
        sa.UniqueConstraint("placement_id", "months", name=op.f("uq_placement_follow_ups_placement_id")),
    )
    with op.batch_alter_table("placement_follow_ups", schema=None) as batch_op:
        batch_op.create_index(
            "ix_placement_follow_ups_grid_id_done_at_due_on", ["grid_id", "done_at", "due_on"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_placement_follow_ups_placement_id"), ["placement_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("placement_follow_ups", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_placement_follow_ups_placement_id"))
        batch_op.drop_index("ix_placement_follow_ups_grid_id_done_at_due_on")

    op.drop_table("placement_follow_ups")
    with op.batch_alter_table("home_deliveries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_home_deliveries_placement_id"))
        batch_op.drop_index(batch_op.f("ix_home_deliveries_order_id"))

    op.drop_table("home_deliveries")
    with op.batch_alter_table("course_attendance", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_course_attendance_enrolment_id"))

    op.drop_table("course_attendance")
    with op.batch_alter_table("placements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_placements_request_id"))
        batch_op.drop_index(batch_op.f("ix_placements_opening_id"))
        batch_op.drop_index(batch_op.f("ix_placements_member_id"))
        batch_op.drop_index(batch_op.f("ix_placements_household_id"))
        batch_op.drop_index(batch_op.f("ix_placements_grid_id"))

    op.drop_table("placements")
    with op.batch_alter_table("enrolments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_enrolments_request_id"))
        batch_op.drop_index(batch_op.f("ix_enrolments_member_id"))
        batch_op.drop_index(batch_op.f("ix_enrolments_household_id"))
        batch_op.drop_index(batch_op.f("ix_enrolments_grid_id"))
        batch_op.drop_index(batch_op.f("ix_enrolments_course_id"))

    op.drop_table("enrolments")
    with op.batch_alter_table("home_orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_home_orders_opening_id"))

    op.drop_table("home_orders")
    with op.batch_alter_table("openings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_openings_partner_id"))
        batch_op.drop_index(batch_op.f("ix_openings_grid_id"))

    op.drop_table("openings")
    with op.batch_alter_table("courses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_courses_partner_id"))
        batch_op.drop_index(batch_op.f("ix_courses_grid_id"))

    op.drop_table("courses")
