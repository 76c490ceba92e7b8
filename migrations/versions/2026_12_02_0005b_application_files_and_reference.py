"""applications keep the department's reference number; document scans and photos
(application_files)

Revision ID: 0005b
Revises: 0004
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

import models.base

revision = "0005b"
down_revision = "0004"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reference", sa.String(length=80), nullable=False, server_default=""))
    op.create_table(
        "application_files",
        sa.Column("application_id", ID, nullable=False),
        sa.Column("document_code", sa.String(length=40), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("uploaded_by_id", ID, nullable=True),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.CheckConstraint("size > 0", name=op.f("ck_application_files_size_positive")),
        sa.ForeignKeyConstraint(
            ["application_id"], ["applications.id"], name=op.f("fk_application_files_application_id_applications")
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"], ["users.id"], name=op.f("fk_application_files_uploaded_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_application_files")),
        sa.UniqueConstraint("token", name=op.f("uq_application_files_token")),
    )
    with op.batch_alter_table("application_files", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_application_files_application_id"), ["application_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("application_files", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_application_files_application_id"))
    op.drop_table("application_files")
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.drop_column("reference")
