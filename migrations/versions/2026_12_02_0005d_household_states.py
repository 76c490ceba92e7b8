"""households leave the active lists when they move away, die out or recover; a member
can be recorded as deceased

Revision ID: 0005d
Revises: 0005b
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

import models.base

revision = "0005d"
down_revision = "0005b"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("households", schema=None) as batch_op:
        batch_op.add_column(sa.Column("state", sa.String(length=20), nullable=False, server_default="active"))
        batch_op.add_column(sa.Column("state_since", models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f("ix_households_state"), ["state"], unique=False)
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.add_column(sa.Column("deceased_on", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_column("deceased_on")
    with op.batch_alter_table("households", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_households_state"))
        batch_op.drop_column("state_since")
        batch_op.drop_column("state")
