"""special groups can end: the day a member left a group (a left-behind child whose
parents came home, a family that moved away), why, and who recorded it. Existing records
stay open.

Revision ID: 0007j_group_endings
Revises: 0007e_volunteers
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0007j_group_endings"
down_revision = "0007e_volunteers"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
END_REASONS = "end_reason IS NULL OR end_reason IN ('circumstances_changed','moved_away','aged_out','recorded_in_error')"


def upgrade() -> None:
    with op.batch_alter_table("special_group_members", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ended_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("end_reason", sa.String(24), nullable=True))
        batch_op.add_column(sa.Column("ended_by_id", ID, nullable=True))
        batch_op.create_foreign_key(
            op.f("fk_special_group_members_ended_by_id_users"), "users", ["ended_by_id"], ["id"]
        )
        batch_op.create_check_constraint(op.f("ck_special_group_members_end_reason"), END_REASONS)


def downgrade() -> None:
    with op.batch_alter_table("special_group_members", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_special_group_members_end_reason"), type_="check")
        batch_op.drop_constraint(op.f("fk_special_group_members_ended_by_id_users"), type_="foreignkey")
        batch_op.drop_column("ended_by_id")
        batch_op.drop_column("end_reason")
        batch_op.drop_column("ended_on")
