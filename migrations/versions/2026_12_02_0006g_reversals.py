"""reversals (红冲): a disbursement recorded in error is reversed by a correcting entry,
proposed by one user and approved by another; the ledger knows a reversal transaction

Revision ID: 0006g_reversals
Revises: 0005a
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0006g_reversals"
down_revision = "0005a"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
KINDS_BEFORE = "kind IN ('deposit','pledge','release','disbursement')"
KINDS_AFTER = "kind IN ('deposit','pledge','release','disbursement','reversal')"


def _kinds(allowed: str) -> None:
    with op.batch_alter_table("ledger_transactions", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_ledger_transactions_kind"), type_="check")
        batch_op.create_check_constraint(op.f("ck_ledger_transactions_kind"), allowed)


def upgrade() -> None:
    _kinds(KINDS_AFTER)
    op.create_table(
        "reversals",
        sa.Column("disbursement_id", BigId, nullable=False),
        sa.Column("live_key", BigId, nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("proposed_by_id", BigId, nullable=False),
        sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by_id", BigId, nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("transaction_id", BigId, nullable=True),
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.CheckConstraint("status IN ('pending','approved','rejected')", name=op.f("ck_reversals_status")),
        sa.CheckConstraint(
            "decided_by_id IS NULL OR decided_by_id <> proposed_by_id", name=op.f("ck_reversals_four_eyes")
        ),
        sa.ForeignKeyConstraint(
            ["disbursement_id"], ["disbursements.id"], name=op.f("fk_reversals_disbursement_id_disbursements")
        ),
        sa.ForeignKeyConstraint(["proposed_by_id"], ["users.id"], name=op.f("fk_reversals_proposed_by_id_users")),
        sa.ForeignKeyConstraint(["decided_by_id"], ["users.id"], name=op.f("fk_reversals_decided_by_id_users")),
        sa.ForeignKeyConstraint(
            ["transaction_id"], ["ledger_transactions.id"], name=op.f("fk_reversals_transaction_id_ledger_transactions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reversals")),
        sa.UniqueConstraint("live_key", name=op.f("uq_reversals_live_key")),
    )
    op.create_index(op.f("ix_reversals_disbursement_id"), "reversals", ["disbursement_id"], unique=False)


def downgrade() -> None:
    reversed_ = op.get_bind().execute(sa.text("SELECT count(*) FROM ledger_transactions WHERE kind = 'reversal'"))
    if reversed_.scalar():
        raise RuntimeError("the ledger holds reversals; a downgrade would lose them: restore a backup instead")
    op.drop_index(op.f("ix_reversals_disbursement_id"), table_name="reversals")
    op.drop_table("reversals")
    _kinds(KINDS_BEFORE)
