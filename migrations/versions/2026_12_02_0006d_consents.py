"""consent per member and purpose (consents); a household's consent_to_share becomes a
share-with-partners record for its head

Revision ID: 0006d_consents
Revises: 0006f_privacy_erasure
Create Date: 2026-12-02
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import models.base

revision = "0006d_consents"
down_revision = "0006f_privacy_erasure"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
CARRIED_OVER = "recorded before consent records"


def upgrade() -> None:
    consents = op.create_table(
        "consents",
        sa.Column("household_id", ID, nullable=False),
        sa.Column("member_id", ID, nullable=True),
        sa.Column("guardian_member_id", ID, nullable=True),
        sa.Column("purpose", sa.String(length=30), nullable=False),
        sa.Column(
            "partner_kinds", sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"), nullable=False
        ),
        sa.Column("evidence", sa.String(length=200), nullable=False),
        sa.Column("evidence_token", sa.String(length=64), nullable=True),
        sa.Column("evidence_content_type", sa.String(length=100), nullable=True),
        sa.Column("evidence_size", sa.Integer(), nullable=True),
        sa.Column("evidence_sha256", sa.String(length=64), nullable=True),
        sa.Column("recorded_by_id", ID, nullable=True),
        sa.Column("recorded_by", sa.String(length=80), nullable=False),
        sa.Column("recorded_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("withdrawn_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_by_id", ID, nullable=True),
        sa.Column("withdrawn_by", sa.String(length=80), nullable=True),
        sa.Column("withdrawal_reason", sa.Text(), nullable=True),
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.CheckConstraint(
            "purpose IN ('share_with_partners','public_notice','sms','points','volunteer_contact')",
            name=op.f("ck_consents_purpose"),
        ),
        sa.ForeignKeyConstraint(
            ["guardian_member_id"],
            ["members.id"],
            name=op.f("fk_consents_guardian_member_id_members"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(["household_id"], ["households.id"], name=op.f("fk_consents_household_id_households")),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_consents_member_id_members"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["recorded_by_id"], ["users.id"], name=op.f("fk_consents_recorded_by_id_users")),
        sa.ForeignKeyConstraint(["withdrawn_by_id"], ["users.id"], name=op.f("fk_consents_withdrawn_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consents")),
        sa.UniqueConstraint("evidence_token", name=op.f("uq_consents_evidence_token")),
    )
    with op.batch_alter_table("consents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_consents_household_id"), ["household_id"], unique=False)
        batch_op.create_index("ix_consents_household_purpose", ["household_id", "purpose"], unique=False)
        batch_op.create_index(batch_op.f("ix_consents_member_id"), ["member_id"], unique=False)
    _carry_over(op.get_bind(), consents)


def _carry_over(conn: sa.Connection, consents: sa.Table) -> None:
    """Each household that agreed to share (the one boolean of before) gets a
    share-with-partners record for its head: the member recorded as head, else the one
    named as head, else its first member."""
    agreed = conn.execute(sa.text("SELECT id, head_name FROM households WHERE consent_to_share")).all()
    members = conn.execute(sa.text("SELECT id, household_id, name, relation FROM members ORDER BY id")).all()
    by_household: dict[int, list] = {}
    for member in members:
        by_household.setdefault(member.household_id, []).append(member)
    now = datetime.now(UTC)
    rows = []
    for household in agreed:
        people = by_household.get(household.id, [])
        head = (
            next((m for m in people if m.relation in ("head", "户主")), None)
            or next((m for m in people if m.name == household.head_name), None)
            or (people[0] if people else None)
        )
        rows.append(
            {
                "household_id": household.id,
                "member_id": head.id if head else None,
                "guardian_member_id": None,
                "purpose": "share_with_partners",
                "partner_kinds": [],
                "evidence": CARRIED_OVER,
                "recorded_by_id": None,
                "recorded_by": "system",
                "recorded_at": now,
            }
        )
    if rows:
        op.bulk_insert(consents, rows)


def downgrade() -> None:
    # households.consent_to_share was kept in step with the records: nothing to carry back.
    with op.batch_alter_table("consents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consents_member_id"))
        batch_op.drop_index("ix_consents_household_purpose")
        batch_op.drop_index(batch_op.f("ix_consents_household_id"))
    op.drop_table("consents")
