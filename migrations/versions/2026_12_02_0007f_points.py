"""family volunteer points: points as a second unit in the ledger (accounts.unit, the
points_earn and points_redeem transaction kinds), each community's points rules, what
households earned, the points shop's items and redemptions

Revision ID: 0007f_points
Revises: 0006a_receipts
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

import models.base

revision = "0007f_points"
down_revision = "0006a_receipts"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = models.base.UTCDateTime(timezone=True)
MONEY_KINDS = "'deposit','pledge','release','disbursement','reversal'"


def _kinds(allowed: str) -> None:
    with op.batch_alter_table("ledger_transactions", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_ledger_transactions_kind"), type_="check")
        batch_op.create_check_constraint(op.f("ck_ledger_transactions_kind"), f"kind IN ({allowed})")


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"))


def upgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("unit", sa.String(length=8), nullable=False, server_default="fen"))
        batch_op.create_check_constraint(op.f("ck_accounts_unit"), "unit IN ('fen','point')")
    _kinds(MONEY_KINDS + ",'points_earn','points_redeem'")
    op.create_table(
        "points_rules",
        sa.Column("community", sa.String(length=80), nullable=False),
        sa.Column("activity", sa.String(length=40), nullable=False),
        sa.Column("points_per_hour", sa.Integer(), nullable=False),
        sa.Column("monthly_cap", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_by", sa.String(length=60), nullable=False),
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.CheckConstraint("points_per_hour > 0", name=op.f("ck_points_rules_rate_positive")),
        sa.CheckConstraint("monthly_cap IS NULL OR monthly_cap > 0", name=op.f("ck_points_rules_cap_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_points_rules")),
        sa.UniqueConstraint("community", "activity", name=op.f("uq_points_rules_community")),
    )
    with op.batch_alter_table("points_rules", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_points_rules_community"), ["community"], unique=False)
    op.create_table(
        "points_earnings",
        sa.Column("household_id", ID, nullable=False),
        sa.Column("community", sa.String(length=80), nullable=False),
        sa.Column("activity", sa.String(length=40), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("capped", sa.Boolean(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("served_on", WHEN, nullable=False),
        sa.Column("source_ref", sa.String(length=120), nullable=False),
        sa.Column("transaction_id", ID, nullable=True),
        sa.Column("actor", sa.String(length=60), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.CheckConstraint("minutes > 0", name=op.f("ck_points_earnings_minutes_positive")),
        sa.CheckConstraint("points >= 0", name=op.f("ck_points_earnings_points_nonneg")),
        _fk("points_earnings", "household_id", "households"),
        _fk("points_earnings", "transaction_id", "ledger_transactions"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_points_earnings")),
        sa.UniqueConstraint("source_ref", name=op.f("uq_points_earnings_source_ref")),
    )
    with op.batch_alter_table("points_earnings", schema=None) as batch_op:
        batch_op.create_index("ix_points_earnings_household_month", ["household_id", "month"], unique=False)
        batch_op.create_index(batch_op.f("ix_points_earnings_created_at"), ["created_at"], unique=False)
    op.create_table(
        "points_shop_items",
        sa.Column("community", sa.String(length=80), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("price_points", sa.Integer(), nullable=False),
        sa.Column("stock", sa.Integer(), nullable=False),
        sa.Column("partner_id", ID, nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.CheckConstraint("kind IN ('goods','service')", name=op.f("ck_points_shop_items_kind")),
        sa.CheckConstraint("price_points > 0", name=op.f("ck_points_shop_items_price_positive")),
        sa.CheckConstraint("stock >= 0", name=op.f("ck_points_shop_items_stock_nonneg")),
        _fk("points_shop_items", "partner_id", "partners"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_points_shop_items")),
    )
    with op.batch_alter_table("points_shop_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_points_shop_items_community"), ["community"], unique=False)
    op.create_table(
        "points_redemptions",
        sa.Column("household_id", ID, nullable=False),
        sa.Column("item_id", ID, nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("transaction_id", ID, nullable=False),
        sa.Column("actor", sa.String(length=60), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_points_redemptions_quantity_positive")),
        sa.CheckConstraint("points > 0", name=op.f("ck_points_redemptions_points_positive")),
        _fk("points_redemptions", "household_id", "households"),
        _fk("points_redemptions", "item_id", "points_shop_items"),
        _fk("points_redemptions", "transaction_id", "ledger_transactions"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_points_redemptions")),
    )
    with op.batch_alter_table("points_redemptions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_points_redemptions_household_id"), ["household_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_points_redemptions_item_id"), ["item_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_points_redemptions_created_at"), ["created_at"], unique=False)


def downgrade() -> None:
    held = op.get_bind().execute(
        sa.text("SELECT count(*) FROM ledger_transactions WHERE kind IN ('points_earn','points_redeem')")
    )
    if held.scalar():
        raise RuntimeError("the ledger holds family points; a downgrade would lose them: restore a backup instead")
    op.drop_table("points_redemptions")
    op.drop_table("points_shop_items")
    op.drop_table("points_earnings")
    op.drop_table("points_rules")
    op.get_bind().execute(sa.text("DELETE FROM accounts WHERE unit = 'point'"))
    _kinds(MONEY_KINDS)
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_accounts_unit"), type_="check")
        batch_op.drop_column("unit")
