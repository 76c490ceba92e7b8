"""who read a household's sensitive fields: the access log

Revision ID: 0006e_access_log
Revises: 0006c_concerns
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import models.base

revision = "0006e_access_log"
down_revision = "0006c_concerns"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "access_log",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("user_id", _ID, nullable=True),
        sa.Column("household_id", _ID, nullable=False),
        sa.Column("member_ids", _JSON, nullable=False),
        sa.Column("fields", _JSON, nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_access_log_user_id_users")),
        sa.ForeignKeyConstraint(
            ["household_id"], ["households.id"], name=op.f("fk_access_log_household_id_households")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_log")),
    )
    op.create_index("ix_access_log_household_at", "access_log", ["household_id", "at"], unique=False)
    op.create_index("ix_access_log_user_at", "access_log", ["user_id", "at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_access_log_user_at", table_name="access_log")
    op.drop_index("ix_access_log_household_at", table_name="access_log")
    op.drop_table("access_log")
