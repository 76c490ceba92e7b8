"""aid_requests follow FHIR ServiceRequest: status (active, on-hold, completed, revoked,
entered-in-error) with a routing state beside it; offers may ask a partner again

Old rows map as: requested → active/routing, in-progress → active/partly-covered (or
covered when what partners accepted covers the amount), failed → active/unmatched,
cancelled → revoked (reason code ``other``, the old note kept in the audit log's record
of the cancellation). A request held keeps its routing state, and ``held_from`` becomes
``active``.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

NEW_STATUSES = "status IN ('active','on-hold','completed','revoked','entered-in-error')"
OLD_STATUSES = "status IN ('requested','in-progress','on-hold','completed','cancelled','failed')"
ROUTING_STATES = "routing_state IN ('routing','offered','partly-covered','covered','unmatched')"

# A held request's routing state comes from where it was held.
UP = (
    """UPDATE aid_requests SET routing_state = CASE
        WHEN status = 'failed' OR (status = 'on-hold' AND held_from = 'failed') THEN 'unmatched'
        WHEN status = 'in-progress' OR (status = 'on-hold' AND held_from = 'in-progress') THEN
            CASE WHEN amount_fen IS NOT NULL AND funded_fen < amount_fen THEN 'partly-covered' ELSE 'covered' END
        WHEN status = 'completed' THEN
            CASE WHEN amount_fen IS NOT NULL AND funded_fen < amount_fen THEN 'partly-covered' ELSE 'covered' END
        ELSE 'routing' END""",
    "UPDATE aid_requests SET held_from = 'active' WHERE status = 'on-hold'",
    "UPDATE aid_requests SET status = 'active' WHERE status IN ('requested', 'in-progress', 'failed')",
    "UPDATE aid_requests SET status = 'revoked', status_reason = 'other' WHERE status = 'cancelled'",
)
DOWN = (
    "UPDATE aid_requests SET status = 'cancelled' WHERE status IN ('revoked', 'entered-in-error')",
    """UPDATE aid_requests SET held_from = CASE routing_state
        WHEN 'unmatched' THEN 'requested' WHEN 'routing' THEN 'requested' WHEN 'offered' THEN 'requested'
        ELSE 'in-progress' END WHERE status = 'on-hold'""",
    """UPDATE aid_requests SET status = CASE routing_state
        WHEN 'unmatched' THEN 'failed' WHEN 'routing' THEN 'requested' WHEN 'offered' THEN 'requested'
        ELSE 'in-progress' END WHERE status = 'active'""",
)


def upgrade() -> None:
    with op.batch_alter_table("aid_requests", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("routing_state", sa.String(length=16), nullable=False, server_default="routing")
        )
        batch_op.add_column(
            sa.Column(
                "routing_reasons", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=True
            )
        )
        batch_op.add_column(sa.Column("auto_retry", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.drop_constraint(op.f("ck_aid_requests_status"), type_="check")
    for stmt in UP:
        op.execute(stmt)
    with op.batch_alter_table("aid_requests", schema=None) as batch_op:
        batch_op.create_check_constraint(op.f("ck_aid_requests_status"), NEW_STATUSES)
        batch_op.create_check_constraint(op.f("ck_aid_requests_routing_state"), ROUTING_STATES)
        batch_op.create_index("ix_aid_requests_routing_state", ["routing_state"], unique=False)
    with op.batch_alter_table("offers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("more_available", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.drop_constraint(op.f("uq_offers_request_id"), type_="unique")
        batch_op.create_index("ix_offers_request_partner", ["request_id", "partner_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("offers", schema=None) as batch_op:
        batch_op.drop_index("ix_offers_request_partner")
        batch_op.create_unique_constraint(op.f("uq_offers_request_id"), ["request_id", "partner_id"])
        batch_op.drop_column("more_available")
    with op.batch_alter_table("aid_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_aid_requests_routing_state")
        batch_op.drop_constraint(op.f("ck_aid_requests_routing_state"), type_="check")
        batch_op.drop_constraint(op.f("ck_aid_requests_status"), type_="check")
    for stmt in DOWN:
        op.execute(stmt)
    with op.batch_alter_table("aid_requests", schema=None) as batch_op:
        batch_op.create_check_constraint(op.f("ck_aid_requests_status"), OLD_STATUSES)
        batch_op.drop_column("auto_retry")
        batch_op.drop_column("routing_reasons")
        batch_op.drop_column("routing_state")
