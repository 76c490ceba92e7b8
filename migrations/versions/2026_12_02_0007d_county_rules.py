"""the household inputs the corrected policy rules need: urban or rural residence, the
asset test's inputs (financial assets, motor vehicles, housing beyond need), rigid
medical spending, each member's disability kind and whether a legal supporter is able
to support them; and the facts derived from them. Existing households get their minors
counted and their income after medical spending set to their income (none recorded).

Revision ID: 0007d_county_rules
Revises: 0006a_receipts
Create Date: 2026-12-02
"""

from datetime import date

import sqlalchemy as sa
from alembic import op

revision = "0007d_county_rules"
down_revision = "0007f_points"
branch_labels = None
depends_on = None

Fen = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

HOUSEHOLD_COLUMNS = (
    ("residence", sa.String(10), "urban"),
    ("financial_assets_fen", Fen, "0"),
    ("motor_vehicles", sa.Integer(), "0"),
    ("surplus_housing", sa.Boolean(), sa.false()),
    ("medical_spending_fen", Fen, "0"),
    ("medical_spending_period", sa.String(10), "monthly"),
    ("minors_count", sa.Integer(), "0"),
    ("unsupported_count", sa.Integer(), "0"),
    ("financial_assets_per_capita_fen", Fen, "0"),
    ("medical_spending_monthly_fen", Fen, "0"),
    ("income_after_medical_per_capita_fen", Fen, "0"),
)


def _age(born: date | None, today: date) -> int | None:
    if born is None:
        return None
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def upgrade() -> None:
    with op.batch_alter_table("households", schema=None) as batch_op:
        for name, type_, default in HOUSEHOLD_COLUMNS:
            batch_op.add_column(sa.Column(name, type_, nullable=False, server_default=default))
        batch_op.create_check_constraint(op.f("ck_households_residence"), "residence IN ('urban','rural')")
        batch_op.create_check_constraint(
            op.f("ck_households_medical_spending_period"), "medical_spending_period IN ('monthly','yearly')")
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.add_column(sa.Column("disability_kind", sa.String(20), nullable=True))
        batch_op.add_column(sa.Column("supporter_able", sa.Boolean(), nullable=True))
    conn = op.get_bind()
    conn.execute(sa.text("UPDATE households SET income_after_medical_per_capita_fen = income_per_capita_fen"))
    today = date.today()
    minors: dict[int, int] = {}
    for household_id, born in conn.execute(
        sa.text("SELECT household_id, birth_date FROM members WHERE deceased_on IS NULL")
    ).all():
        if isinstance(born, str):
            born = date.fromisoformat(born)
        age = _age(born, today)
        if age is not None and age < 18:
            minors[household_id] = minors.get(household_id, 0) + 1
    update = sa.text("UPDATE households SET minors_count = :n WHERE id = :id")
    for household_id, count in minors.items():
        conn.execute(update, {"n": count, "id": household_id})


def downgrade() -> None:
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_column("supporter_able")
        batch_op.drop_column("disability_kind")
    with op.batch_alter_table("households", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_households_medical_spending_period"), type_="check")
        batch_op.drop_constraint(op.f("ck_households_residence"), type_="check")
        for name, _type, _default in reversed(HOUSEHOLD_COLUMNS):
            batch_op.drop_column(name)
