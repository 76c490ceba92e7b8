"""restricted funds (定向/专项): a restriction on donated money (categories, regions,
programme, expiry) and a pair of fund/pledged accounts per restriction

Revision ID: 0007a_restricted_funds
Revises: 0007i_leads
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import models.base

revision = "0007a_restricted_funds"
down_revision = "0007i_leads"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
WHEN = models.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "fund_restrictions",
        sa.Column("partner_id", ID, nullable=False),
        sa.Column("categories", JSON, nullable=False),
        sa.Column("regions", JSON, nullable=False),
        sa.Column("programme", sa.String(length=120), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("actor", sa.String(length=60), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(["partner_id"], ["partners.id"], name=op.f("fk_fund_restrictions_partner_id_partners")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fund_restrictions")),
    )
    op.create_index(op.f("ix_fund_restrictions_partner_id"), "fund_restrictions", ["partner_id"], unique=False)
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("restriction_id", ID, nullable=True))
        batch_op.create_index(batch_op.f("ix_accounts_restriction_id"), ["restriction_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_accounts_restriction_id_fund_restrictions"), "fund_restrictions", ["restriction_id"], ["id"]
        )


def _fold_parts_back(conn: sa.Connection) -> None:
    """Before the restrictions go: each restricted account's entries and balance move to
    the partner's unrestricted account of the same kind (made if missing), so that every
    transaction still balances and every partner's total is unchanged."""
    parts = conn.execute(
        sa.text(
            "SELECT id, kind, partner_id, name, balance_fen FROM accounts "
            "WHERE restriction_id IS NOT NULL ORDER BY id"
        )
    ).all()
    for part in parts:
        key = f"{part.kind}:{part.partner_id}"
        target = conn.execute(sa.text("SELECT id FROM accounts WHERE key = :key"), {"key": key}).scalar()
        if target is None:
            conn.execute(
                sa.text(
                    "INSERT INTO accounts (key, kind, partner_id, name, balance_fen, unit, created_at) "
                    "VALUES (:key, :kind, :partner, :name, 0, 'fen', CURRENT_TIMESTAMP)"
                ),
                {"key": key, "kind": part.kind, "partner": part.partner_id, "name": part.name},
            )
            target = conn.execute(sa.text("SELECT id FROM accounts WHERE key = :key"), {"key": key}).scalar()
        conn.execute(sa.text("UPDATE ledger_entries SET account_id = :t WHERE account_id = :a"), {"t": target, "a": part.id})
        conn.execute(
            sa.text("UPDATE accounts SET balance_fen = balance_fen + :b WHERE id = :t"), {"b": part.balance_fen, "t": target}
        )
        conn.execute(sa.text("DELETE FROM accounts WHERE id = :a"), {"a": part.id})


def downgrade() -> None:
    _fold_parts_back(op.get_bind())
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_accounts_restriction_id_fund_restrictions"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_accounts_restriction_id"))
        batch_op.drop_column("restriction_id")
    op.drop_index(op.f("ix_fund_restrictions_partner_id"), table_name="fund_restrictions")
    op.drop_table("fund_restrictions")
