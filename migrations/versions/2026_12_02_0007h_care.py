"""special groups in the registry; care plans, their carers, contacts and misses; growth-camp
sessions and attendance

Revision ID: 0007h_care
Revises: 0006a_receipts
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

import models.base

revision = "0007h_care"
down_revision = "0007d_county_rules"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "carers",
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("phone", sa.String(length=30), nullable=False),
        sa.Column("organisation", sa.String(length=120), nullable=False),
        sa.Column("partner_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.CheckConstraint("role IN ('mentor','doctor','volunteer')", name=op.f("ck_carers_role")),
        sa.ForeignKeyConstraint(["partner_id"], ["partners.id"], name=op.f("fk_carers_partner_id_partners")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_carers")),
    )
    with op.batch_alter_table("carers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_carers_partner_id"), ["partner_id"], unique=False)

    op.create_table(
        "camp_sessions",
        sa.Column("grid_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("recorded_by_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(["grid_id"], ["grids.id"], name=op.f("fk_camp_sessions_grid_id_grids")),
        sa.ForeignKeyConstraint(["recorded_by_id"], ["users.id"], name=op.f("fk_camp_sessions_recorded_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_camp_sessions")),
    )
    with op.batch_alter_table("camp_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_camp_sessions_grid_id"), ["grid_id"], unique=False)

    op.create_table(
        "care_plans",
        sa.Column("household_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("grid_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("group", sa.String(length=24), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("schedule", sa.String(length=12), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("next_due_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('mentor','doctor_volunteer')", name=op.f("ck_care_plans_kind")),
        sa.CheckConstraint("schedule IN ('weekly','fortnightly','monthly')", name=op.f("ck_care_plans_schedule")),
        sa.CheckConstraint("status IN ('active','ended')", name=op.f("ck_care_plans_status")),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_care_plans_created_by_id_users")),
        sa.ForeignKeyConstraint(["grid_id"], ["grids.id"], name=op.f("fk_care_plans_grid_id_grids")),
        sa.ForeignKeyConstraint(
            ["household_id"], ["households.id"], name=op.f("fk_care_plans_household_id_households")
        ),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_care_plans_member_id_members")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_care_plans")),
    )
    with op.batch_alter_table("care_plans", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_care_plans_grid_id"), ["grid_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_care_plans_household_id"), ["household_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_care_plans_member_id"), ["member_id"], unique=False)
        batch_op.create_index("ix_care_plans_status_next_due_at", ["status", "next_due_at"], unique=False)

    op.create_table(
        "special_group_members",
        sa.Column("household_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("grid_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("group", sa.String(length=24), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("known_on", sa.Date(), nullable=False),
        sa.Column("recorded_by_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.CheckConstraint(
            "source IN ('survey','visit','civil_affairs','self_report')", name=op.f("ck_special_group_members_source")
        ),
        sa.CheckConstraint(
            "\"group\" IN ('left_behind_child','child_in_difficulty','migrant_child','elderly_alone','disabled')",
            name=op.f("ck_special_group_members_group"),
        ),
        sa.ForeignKeyConstraint(["grid_id"], ["grids.id"], name=op.f("fk_special_group_members_grid_id_grids")),
        sa.ForeignKeyConstraint(
            ["household_id"], ["households.id"], name=op.f("fk_special_group_members_household_id_households")
        ),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_special_group_members_member_id_members")),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["users.id"], name=op.f("fk_special_group_members_recorded_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_special_group_members")),
        sa.UniqueConstraint("member_id", "group", name=op.f("uq_special_group_members_member_id")),
    )
    with op.batch_alter_table("special_group_members", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_special_group_members_grid_id"), ["grid_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_special_group_members_group"), ["group"], unique=False)
        batch_op.create_index(batch_op.f("ix_special_group_members_household_id"), ["household_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_special_group_members_member_id"), ["member_id"], unique=False)

    op.create_table(
        "camp_attendance",
        sa.Column("session_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("plan_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(["plan_id"], ["care_plans.id"], name=op.f("fk_camp_attendance_plan_id_care_plans")),
        sa.ForeignKeyConstraint(
            ["session_id"], ["camp_sessions.id"], name=op.f("fk_camp_attendance_session_id_camp_sessions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_camp_attendance")),
        sa.UniqueConstraint("session_id", "plan_id", name=op.f("uq_camp_attendance_session_id")),
    )
    with op.batch_alter_table("camp_attendance", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_camp_attendance_plan_id"), ["plan_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_camp_attendance_session_id"), ["session_id"], unique=False)

    op.create_table(
        "care_contacts",
        sa.Column("plan_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("carer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("contacted_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("concerns", sa.Text(), nullable=False),
        sa.Column("due_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("on_time", sa.Boolean(), nullable=False),
        sa.Column("new_assessment_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("recorded_by_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.CheckConstraint("channel IN ('visit','phone','video','camp')", name=op.f("ck_care_contacts_channel")),
        sa.ForeignKeyConstraint(["carer_id"], ["carers.id"], name=op.f("fk_care_contacts_carer_id_carers")),
        sa.ForeignKeyConstraint(
            ["new_assessment_id"], ["assessments.id"], name=op.f("fk_care_contacts_new_assessment_id_assessments")
        ),
        sa.ForeignKeyConstraint(["plan_id"], ["care_plans.id"], name=op.f("fk_care_contacts_plan_id_care_plans")),
        sa.ForeignKeyConstraint(["recorded_by_id"], ["users.id"], name=op.f("fk_care_contacts_recorded_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_care_contacts")),
    )
    with op.batch_alter_table("care_contacts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_care_contacts_plan_id"), ["plan_id"], unique=False)

    op.create_table(
        "care_misses",
        sa.Column("plan_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("grid_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("due_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("alerted_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(["grid_id"], ["grids.id"], name=op.f("fk_care_misses_grid_id_grids")),
        sa.ForeignKeyConstraint(["plan_id"], ["care_plans.id"], name=op.f("fk_care_misses_plan_id_care_plans")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_care_misses")),
        sa.UniqueConstraint("plan_id", "due_at", name=op.f("uq_care_misses_plan_id")),
    )
    with op.batch_alter_table("care_misses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_care_misses_grid_id"), ["grid_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_care_misses_plan_id"), ["plan_id"], unique=False)

    op.create_table(
        "care_plan_carers",
        sa.Column("plan_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("carer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(["carer_id"], ["carers.id"], name=op.f("fk_care_plan_carers_carer_id_carers")),
        sa.ForeignKeyConstraint(["plan_id"], ["care_plans.id"], name=op.f("fk_care_plan_carers_plan_id_care_plans")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_care_plan_carers")),
        sa.UniqueConstraint("plan_id", "carer_id", name=op.f("uq_care_plan_carers_plan_id")),
    )
    with op.batch_alter_table("care_plan_carers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_care_plan_carers_carer_id"), ["carer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_care_plan_carers_plan_id"), ["plan_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("care_plan_carers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_care_plan_carers_plan_id"))
        batch_op.drop_index(batch_op.f("ix_care_plan_carers_carer_id"))

    op.drop_table("care_plan_carers")
    with op.batch_alter_table("care_misses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_care_misses_plan_id"))
        batch_op.drop_index(batch_op.f("ix_care_misses_grid_id"))

    op.drop_table("care_misses")
    with op.batch_alter_table("care_contacts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_care_contacts_plan_id"))

    op.drop_table("care_contacts")
    with op.batch_alter_table("camp_attendance", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_camp_attendance_session_id"))
        batch_op.drop_index(batch_op.f("ix_camp_attendance_plan_id"))

    op.drop_table("camp_attendance")
    with op.batch_alter_table("special_group_members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_special_group_members_member_id"))
        batch_op.drop_index(batch_op.f("ix_special_group_members_household_id"))
        batch_op.drop_index(batch_op.f("ix_special_group_members_group"))
        batch_op.drop_index(batch_op.f("ix_special_group_members_grid_id"))

    op.drop_table("special_group_members")
    with op.batch_alter_table("care_plans", schema=None) as batch_op:
        batch_op.drop_index("ix_care_plans_status_next_due_at")
        batch_op.drop_index(batch_op.f("ix_care_plans_member_id"))
        batch_op.drop_index(batch_op.f("ix_care_plans_household_id"))
        batch_op.drop_index(batch_op.f("ix_care_plans_grid_id"))

    op.drop_table("care_plans")
    with op.batch_alter_table("camp_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_camp_sessions_grid_id"))

    op.drop_table("camp_sessions")
    with op.batch_alter_table("carers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_carers_partner_id"))

    op.drop_table("carers")
