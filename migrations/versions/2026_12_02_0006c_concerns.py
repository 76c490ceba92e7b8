"""concerns and complaints with a public reference, and public notices (公示) of
government aid per community with their entries

Revision ID: 0006c_concerns
Revises: 0006d_consents
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

import models.base

revision = "0006c_concerns"
down_revision = "0006d_consents"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notices",
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("community", sa.String(length=80), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("created_by_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.CheckConstraint("ends_on >= starts_on", name=op.f("ck_notices_period")),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_notices_created_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notices")),
        sa.UniqueConstraint("code", name=op.f("uq_notices_code")),
    )
    with op.batch_alter_table("notices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notices_community"), ["community"], unique=False)

    op.create_table(
        "concerns",
        sa.Column("reference", sa.String(length=20), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("contact_phone_enc", sa.LargeBinary(), nullable=True),
        sa.Column("ref_code", sa.String(length=40), nullable=False),
        sa.Column("community", sa.String(length=80), nullable=False),
        sa.Column("household_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("grid_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("partner_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("notice_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("owner_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("recorded_by_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("deadline_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("escalated_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("closed_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_by_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("client_key", sa.String(length=64), nullable=True),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('complaint','not_received','wrong_information','objection','other')",
            name=op.f("ck_concerns_kind"),
        ),
        sa.CheckConstraint("source IN ('public','hotline')", name=op.f("ck_concerns_source")),
        sa.CheckConstraint("state IN ('open','escalated','closed')", name=op.f("ck_concerns_state")),
        sa.ForeignKeyConstraint(["closed_by_id"], ["users.id"], name=op.f("fk_concerns_closed_by_id_users")),
        sa.ForeignKeyConstraint(["grid_id"], ["grids.id"], name=op.f("fk_concerns_grid_id_grids")),
        sa.ForeignKeyConstraint(["household_id"], ["households.id"], name=op.f("fk_concerns_household_id_households")),
        sa.ForeignKeyConstraint(["notice_id"], ["notices.id"], name=op.f("fk_concerns_notice_id_notices")),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], name=op.f("fk_concerns_owner_id_users")),
        sa.ForeignKeyConstraint(["partner_id"], ["partners.id"], name=op.f("fk_concerns_partner_id_partners")),
        sa.ForeignKeyConstraint(["recorded_by_id"], ["users.id"], name=op.f("fk_concerns_recorded_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_concerns")),
        sa.UniqueConstraint("client_key", name=op.f("uq_concerns_client_key")),
        sa.UniqueConstraint("reference", name=op.f("uq_concerns_reference")),
    )
    with op.batch_alter_table("concerns", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_concerns_deadline_at"), ["deadline_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_concerns_grid_id"), ["grid_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_concerns_household_id"), ["household_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_concerns_notice_id"), ["notice_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_concerns_owner_id"), ["owner_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_concerns_partner_id"), ["partner_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_concerns_state"), ["state"], unique=False)

    op.create_table(
        "notice_entries",
        sa.Column("notice_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("household_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("application_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("masked_name", sa.String(length=40), nullable=False),
        sa.Column("household_size", sa.Integer(), nullable=False),
        sa.Column("policy_code", sa.String(length=40), nullable=False),
        sa.Column("policy_version", sa.String(length=20), nullable=False),
        sa.Column("amount_fen", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("approved_on", sa.Date(), nullable=True),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"], ["applications.id"], name=op.f("fk_notice_entries_application_id_applications")
        ),
        sa.ForeignKeyConstraint(
            ["household_id"], ["households.id"], name=op.f("fk_notice_entries_household_id_households")
        ),
        sa.ForeignKeyConstraint(["notice_id"], ["notices.id"], name=op.f("fk_notice_entries_notice_id_notices")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notice_entries")),
        sa.UniqueConstraint("notice_id", "application_id", name=op.f("uq_notice_entries_notice_id")),
    )
    with op.batch_alter_table("notice_entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notice_entries_application_id"), ["application_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_notice_entries_household_id"), ["household_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_notice_entries_notice_id"), ["notice_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("notice_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notice_entries_notice_id"))
        batch_op.drop_index(batch_op.f("ix_notice_entries_household_id"))
        batch_op.drop_index(batch_op.f("ix_notice_entries_application_id"))

    op.drop_table("notice_entries")
    with op.batch_alter_table("concerns", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_concerns_state"))
        batch_op.drop_index(batch_op.f("ix_concerns_partner_id"))
        batch_op.drop_index(batch_op.f("ix_concerns_owner_id"))
        batch_op.drop_index(batch_op.f("ix_concerns_notice_id"))
        batch_op.drop_index(batch_op.f("ix_concerns_household_id"))
        batch_op.drop_index(batch_op.f("ix_concerns_grid_id"))
        batch_op.drop_index(batch_op.f("ix_concerns_deadline_at"))

    op.drop_table("concerns")
    with op.batch_alter_table("notices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notices_community"))

    op.drop_table("notices")
