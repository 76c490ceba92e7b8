"""policy holds: the part of a money request a government policy is expected to cover,
held back from the charities until the household's application is decided

Revision ID: 0007b_policy_holds
Revises: 0007c_regions
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

import models.base

revision = "0007b_policy_holds"
down_revision = "0007c_regions"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = models.base.UTCDateTime(timezone=True)


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"))


def upgrade() -> None:
    op.create_table(
        "policy_holds",
        sa.Column("request_id", ID, nullable=False),
        sa.Column("household_id", ID, nullable=False),
        sa.Column("policy_code", sa.String(length=40), nullable=False),
        sa.Column("policy_version", sa.String(length=20), nullable=False),
        sa.Column("application_id", ID, nullable=True),
        sa.Column("amount_fen", ID, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("decided_by_id", ID, nullable=True),
        sa.Column("decided_at", WHEN, nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.CheckConstraint(
            "status IN ('held','covered','released','overridden')", name=op.f("ck_policy_holds_status")
        ),
        sa.CheckConstraint("amount_fen > 0", name=op.f("ck_policy_holds_amount_positive")),
        _fk("policy_holds", "request_id", "aid_requests"),
        _fk("policy_holds", "household_id", "households"),
        _fk("policy_holds", "application_id", "applications"),
        _fk("policy_holds", "decided_by_id", "users"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_policy_holds")),
        sa.UniqueConstraint("request_id", "policy_code", name="uq_policy_holds_request_policy"),
    )
    with op.batch_alter_table("policy_holds", schema=None) as batch_op:
        for column in ("request_id", "household_id", "application_id"):
            batch_op.create_index(batch_op.f(f"ix_policy_holds_{column}"), [column], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("policy_holds", schema=None) as batch_op:
        for column in ("request_id", "household_id", "application_id"):
            batch_op.drop_index(batch_op.f(f"ix_policy_holds_{column}"))
    op.drop_table("policy_holds")
