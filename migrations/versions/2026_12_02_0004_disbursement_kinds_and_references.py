"""disbursements record service sessions and goods as well as money; a partner's voucher
numbers are unique

Revision ID: 0004
Revises: 0002
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# A voucher recorded twice before the index existed keeps its number on the first row;
# the later rows get their own id appended, so the index can be built and nothing is lost.
MARK_REPEATED_REFERENCES = """
UPDATE disbursements SET reference = substr(reference, 1, 100) || ' #' || CAST(id AS VARCHAR(20))
WHERE reference <> '' AND EXISTS (
    SELECT 1 FROM disbursements AS first
    WHERE first.partner_id = disbursements.partner_id
      AND first.reference = disbursements.reference
      AND first.id < disbursements.id
)
"""


def upgrade() -> None:
    with op.batch_alter_table("disbursements", schema=None) as batch_op:
        batch_op.add_column(sa.Column("session_date", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("minutes", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("delivered_by", sa.String(length=120), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("notes", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(
            sa.Column("items", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"))
        )
        batch_op.create_check_constraint(op.f("ck_disbursements_minutes_positive"), "minutes IS NULL OR minutes > 0")
    op.execute(MARK_REPEATED_REFERENCES)
    with op.batch_alter_table("disbursements", schema=None) as batch_op:
        batch_op.create_index(
            "uq_disbursements_partner_reference",
            ["partner_id", "reference"],
            unique=True,
            sqlite_where=sa.text("reference <> ''"),
            postgresql_where=sa.text("reference <> ''"),
        )


def downgrade() -> None:
    with op.batch_alter_table("disbursements", schema=None) as batch_op:
        batch_op.drop_index("uq_disbursements_partner_reference")
        batch_op.drop_constraint(op.f("ck_disbursements_minutes_positive"), type_="check")
        batch_op.drop_column("items")
        batch_op.drop_column("notes")
        batch_op.drop_column("delivered_by")
        batch_op.drop_column("minutes")
        batch_op.drop_column("session_date")
