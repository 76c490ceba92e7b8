"""regions: the region tree (district/county → street/town → community/village), each
grid placed under its community or village node, and an optional region scope on users

Existing grids are placed from what they record: one district node per distinct
``district``, one street node per (district, street), one community node per (district,
street, community), each grid under its community node. A name ending in 县 makes a
county, in 镇 or 乡 a town, in 村 a village. Codes are ``R01``, ``R01.02``,
``R01.02.03`` in the order of the names. The downgrade drops the tree; the grids keep
their names, so nothing they record is lost.

Revision ID: 0007c_regions
Revises: 0007a_restricted_funds
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

import models.base

revision = "0007c_regions"
down_revision = "0007a_restricted_funds"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = models.base.UTCDateTime(timezone=True)


def _kind(level: int, name: str) -> str:
    if level == 1:
        return "county" if name.endswith("县") else "district"
    if level == 2:
        return "town" if name.endswith(("镇", "乡")) else "street"
    return "village" if name.endswith("村") else "community"


def _place_existing_grids() -> None:
    conn = op.get_bind()
    grids = conn.execute(sa.text("SELECT id, district, street, community FROM grids ORDER BY id")).all()
    regions = sa.table(
        "regions",
        sa.column("id", ID),
        sa.column("code", sa.String),
        sa.column("name", sa.String),
        sa.column("kind", sa.String),
        sa.column("parent_id", ID),
        sa.column("created_at", WHEN),
        sa.column("updated_at", WHEN),
    )
    now = models.base.utcnow()
    nodes: dict[tuple[str, ...], tuple[int, str]] = {}
    counts: dict[tuple[str, ...], int] = {}

    def node(path: tuple[str, ...]) -> int:
        if path in nodes:
            return nodes[path][0]
        parent = path[:-1]
        parent_id = node(parent) if parent else None
        counts[parent] = counts.get(parent, 0) + 1
        code = (nodes[parent][1] + "." if parent else "R") + f"{counts[parent]:02d}"
        name = path[-1] or "-"
        new_id = conn.execute(
            regions.insert()
            .values(code=code, name=name, kind=_kind(len(path), name), parent_id=parent_id, created_at=now, updated_at=now)
            .returning(regions.c.id)
        ).scalar_one()
        nodes[path] = (new_id, code)
        return new_id

    for grid_id, district, street, community in grids:
        region_id = node(((district or "").strip(), (street or "").strip(), (community or "").strip()))
        conn.execute(sa.text("UPDATE grids SET region_id = :r WHERE id = :g"), {"r": region_id, "g": grid_id})


def upgrade() -> None:
    op.create_table(
        "regions",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("parent_id", ID, nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.CheckConstraint(
            "kind IN ('district','county','street','town','community','village')", name=op.f("ck_regions_kind")
        ),
        sa.CheckConstraint("parent_id IS NULL OR parent_id <> id", name=op.f("ck_regions_not_own_parent")),
        sa.ForeignKeyConstraint(["parent_id"], ["regions.id"], name=op.f("fk_regions_parent_id_regions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_regions")),
        sa.UniqueConstraint("code", name=op.f("uq_regions_code")),
    )
    with op.batch_alter_table("regions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_regions_parent_id"), ["parent_id"], unique=False)
    for table in ("grids", "users"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("region_id", ID, nullable=True))
            batch_op.create_index(batch_op.f(f"ix_{table}_region_id"), ["region_id"], unique=False)
            batch_op.create_foreign_key(batch_op.f(f"fk_{table}_region_id_regions"), "regions", ["region_id"], ["id"])
    _place_existing_grids()


def downgrade() -> None:
    for table in ("users", "grids"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f(f"fk_{table}_region_id_regions"), type_="foreignkey")
            batch_op.drop_index(batch_op.f(f"ix_{table}_region_id"))
            batch_op.drop_column("region_id")
    with op.batch_alter_table("regions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_regions_parent_id"))
    op.drop_table("regions")
