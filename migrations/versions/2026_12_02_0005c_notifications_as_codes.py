"""notifications are stored as a text code and its parameters (no sentence); users'
notification channels and the record of what was sent on each

Revision ID: 0005c
Revises: 0005d
Create Date: 2026-12-02
"""

import json

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import models.base

revision = "0005c"
down_revision = "0005d"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Json = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _params(kind: str, data: dict, application: dict | None) -> dict:
    """An old row's data as the parameters of its code: the routing reasons (English
    sentences) are dropped — the request's timeline keeps them — and an application
    reminder gains what its message named."""
    params = {k: v for k, v in data.items() if k != "reasons"}
    if kind == "application_overdue" and application:
        deadline = application["deadline_at"]
        params.setdefault("policy", data.get("policy") or application["policy_code"])
        params["department"] = application["department"] or ""
        params["deadline"] = str(deadline)[:10] if deadline else ""
    return params


def upgrade() -> None:
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("params", Json, nullable=True))
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT id, kind, data FROM notifications")).all()
    for row in rows:
        data = row.data if isinstance(row.data, dict) else json.loads(row.data or "{}")
        application = None
        if row.kind == "application_overdue" and data.get("application_id"):
            application = (
                conn.execute(
                    sa.text("SELECT policy_code, department, deadline_at FROM applications WHERE id = :id"),
                    {"id": data["application_id"]},
                )
                .mappings()
                .first()
            )
        conn.execute(
            sa.text("UPDATE notifications SET params = :params WHERE id = :id").bindparams(
                sa.bindparam("params", type_=Json)
            ),
            {"params": _params(row.kind, data, application), "id": row.id},
        )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.alter_column("kind", new_column_name="code", existing_type=sa.String(length=40))
        batch_op.alter_column("params", existing_type=Json, nullable=False)
        batch_op.drop_column("message")
        batch_op.drop_column("data")
        batch_op.create_index("ix_notifications_user_unread", ["user_id", "read_at"], unique=False)

    op.create_table(
        "notification_channels",
        sa.Column("user_id", BigId, nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("target_encrypted", sa.LargeBinary(), nullable=False),
        sa.Column("hint", sa.String(length=80), nullable=False),
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("channel IN ('email','wecom','dingtalk')", name=op.f("ck_notification_channels_channel")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_notification_channels_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_channels")),
        sa.UniqueConstraint("user_id", "channel", name=op.f("uq_notification_channels_user_id")),
    )
    op.create_table(
        "notification_deliveries",
        sa.Column("notification_id", BigId, nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error_code", sa.String(length=40), nullable=True),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.CheckConstraint("status IN ('pending','sent','failed')", name=op.f("ck_notification_deliveries_status")),
        sa.ForeignKeyConstraint(
            ["notification_id"],
            ["notifications.id"],
            name=op.f("fk_notification_deliveries_notification_id_notifications"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_deliveries")),
        sa.UniqueConstraint("notification_id", "channel", name=op.f("uq_notification_deliveries_notification_id")),
    )


def downgrade() -> None:
    op.drop_table("notification_deliveries")
    op.drop_table("notification_channels")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index("ix_notifications_user_unread")
        batch_op.alter_column("code", new_column_name="kind", existing_type=sa.String(length=40))
        batch_op.add_column(sa.Column("message", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("data", Json, nullable=True))
    op.execute("UPDATE notifications SET data = params")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.alter_column("data", existing_type=Json, nullable=False)
        batch_op.drop_column("params")
