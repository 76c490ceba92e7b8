"""receipts: the family confirms a disbursement (receipts, receipt_codes); messages to
families by SMS (family_messages); each partner's days allowed for a receipt

Revision ID: 0006a_receipts
Revises: 0006b_followups
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import models.base

revision = "0006a_receipts"
down_revision = "0006b_followups"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
WHEN = models.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("partners", schema=None) as batch_op:
        batch_op.add_column(sa.Column("receipt_within_days", sa.Integer(), nullable=False, server_default="7"))
        batch_op.create_check_constraint(op.f("ck_partners_receipt_days_positive"), "receipt_within_days > 0")
    op.create_table(
        "receipts",
        sa.Column("disbursement_id", ID, nullable=False),
        sa.Column("household_id", ID, nullable=False),
        sa.Column("request_id", ID, nullable=False),
        sa.Column("method", sa.String(length=10), nullable=False),
        sa.Column("file", JSON, nullable=True),
        sa.Column("recorded_by_id", ID, nullable=True),
        sa.Column("received_at", WHEN, nullable=False),
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.CheckConstraint("method IN ('signature','photo','code')", name=op.f("ck_receipts_method")),
        sa.ForeignKeyConstraint(
            ["disbursement_id"], ["disbursements.id"], name=op.f("fk_receipts_disbursement_id_disbursements")
        ),
        sa.ForeignKeyConstraint(["household_id"], ["households.id"], name=op.f("fk_receipts_household_id_households")),
        sa.ForeignKeyConstraint(["request_id"], ["aid_requests.id"], name=op.f("fk_receipts_request_id_aid_requests")),
        sa.ForeignKeyConstraint(["recorded_by_id"], ["users.id"], name=op.f("fk_receipts_recorded_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_receipts")),
        sa.UniqueConstraint("disbursement_id", name=op.f("uq_receipts_disbursement_id")),
    )
    with op.batch_alter_table("receipts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_receipts_household_id"), ["household_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_receipts_request_id"), ["request_id"], unique=False)
    op.create_table(
        "receipt_codes",
        sa.Column("disbursement_id", ID, nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("expires_at", WHEN, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("used_at", WHEN, nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["disbursement_id"], ["disbursements.id"], name=op.f("fk_receipt_codes_disbursement_id_disbursements")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_receipt_codes")),
    )
    with op.batch_alter_table("receipt_codes", schema=None) as batch_op:
        batch_op.create_index("ix_receipt_codes_disbursement_created", ["disbursement_id", "created_at"], unique=False)
    op.create_table(
        "family_messages",
        sa.Column("household_id", ID, nullable=False),
        sa.Column("code", sa.String(length=60), nullable=False),
        sa.Column("params", JSON, nullable=False),
        sa.Column("dedupe_key", sa.String(length=120), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error_code", sa.String(length=40), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("sent_at", WHEN, nullable=True),
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.CheckConstraint("status IN ('pending','sent','failed','withheld')", name=op.f("ck_family_messages_status")),
        sa.ForeignKeyConstraint(
            ["household_id"], ["households.id"], name=op.f("fk_family_messages_household_id_households")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_family_messages")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_family_messages_dedupe_key")),
    )
    with op.batch_alter_table("family_messages", schema=None) as batch_op:
        batch_op.create_index("ix_family_messages_household_created", ["household_id", "created_at"], unique=False)


def downgrade() -> None:
    op.drop_table("family_messages")
    op.drop_table("receipt_codes")
    op.drop_table("receipts")
    with op.batch_alter_table("partners", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_partners_receipt_days_positive"), type_="check")
        batch_op.drop_column("receipt_within_days")
