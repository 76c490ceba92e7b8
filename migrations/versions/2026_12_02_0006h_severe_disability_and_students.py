"""two household facts the corrected policies read: members with a severe disability
(grade 1 or 2) and members in education from preschool to university; existing
households get them computed from their members

Revision ID: 0006h_facts
Revises: 0006g_reversals
Create Date: 2026-12-02
"""

from datetime import date

import sqlalchemy as sa
from alembic import op

revision = "0006h_facts"
down_revision = "0006g_reversals"
branch_labels = None
depends_on = None

SCHOOL = ("primary", "junior", "senior", "vocational")


def _age(born: date | None, today: date) -> int | None:
    if born is None:
        return None
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def _student(age: int | None, schooling: str | None, employment: str | None) -> bool:
    """As ``broker.registry.household_facts`` counts it on the day of the migration."""
    if age is not None and 6 <= age <= 18:
        return True
    if schooling in SCHOOL and (employment == "student" or (age is None and employment is None)):
        return True
    if schooling == "preschool":
        return True
    if age is not None and 3 <= age <= 5:
        return schooling is None
    return schooling == "college" and employment == "student"


def upgrade() -> None:
    with op.batch_alter_table("households", schema=None) as batch_op:
        batch_op.add_column(sa.Column("severe_disabled_count", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("students_count", sa.Integer(), nullable=False, server_default="0"))
    conn = op.get_bind()
    members = conn.execute(
        sa.text(
            "SELECT household_id, birth_date, disability_grade, schooling, employment FROM members "
            "WHERE deceased_on IS NULL"
        )
    ).all()
    today = date.today()
    counts: dict[int, list[int]] = {}
    for household_id, born, grade, schooling, employment in members:
        if isinstance(born, str):
            born = date.fromisoformat(born)
        severe, students = counts.setdefault(household_id, [0, 0])
        counts[household_id] = [
            severe + (grade in (1, 2)),
            students + _student(_age(born, today), schooling, employment),
        ]
    update = sa.text("UPDATE households SET severe_disabled_count = :s, students_count = :n WHERE id = :id")
    for household_id, (severe, students) in counts.items():
        if severe or students:
            conn.execute(update, {"s": severe, "n": students, "id": household_id})


def downgrade() -> None:
    with op.batch_alter_table("households", schema=None) as batch_op:
        batch_op.drop_column("students_count")
        batch_op.drop_column("severe_disabled_count")
