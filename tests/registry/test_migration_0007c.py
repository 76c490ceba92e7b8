"""Migration 0007c on a database of its own, with grids already recorded: the tree
appears as the models describe it, each existing grid hangs under the community its
names give (one district node per district, one street per district and street), a name
in 镇 makes a town and in 村 a village; the downgrade removes the tree and the grids keep
their names."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from models import Base
from tests.support.migrations import alembic_config, own_database

PREVIOUS = "0007a_restricted_funds"
GRID = (
    "INSERT INTO grids (code, name, district, street, community, created_at, updated_at) "
    "VALUES (:code, '网格', :district, :street, :community, '2026-12-01 08:00:00', '2026-12-01 08:00:00')"
)
GRIDS = [
    ("HD-1", "海淀区", "中关村街道", "科源社区"),
    ("HD-2", "海淀区", "中关村街道", "科源社区"),
    ("HD-3", "海淀区", "中关村街道", "黄庄社区"),
    ("HD-4", "海淀区", "温泉镇", "白家疃村"),
    ("YQ-1", "延庆县", "井庄镇", "柳沟村"),
]


@pytest.fixture
def engine(app, tmp_path) -> Iterator[sa.Engine]:
    with own_database(tmp_path, "mig0007c") as eng:
        yield eng


def _differences(engine: sa.Engine) -> list:
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}), Base.metadata)
    return [d for d in diffs if any(t in repr(d) for t in ("regions", "region_id"))]


def _place(conn: sa.Connection, code: str) -> list[tuple[str, str, str]]:
    """The grid's nodes from the community up: (code, name, kind)."""
    node = conn.execute(sa.text("SELECT region_id FROM grids WHERE code = :c"), {"c": code}).scalar_one()
    out = []
    while node is not None:
        row = conn.execute(sa.text("SELECT code, name, kind, parent_id FROM regions WHERE id = :i"), {"i": node}).one()
        out.append((row.code, row.name, row.kind))
        node = row.parent_id
    return out


def test_existing_grids_are_placed_in_the_tree_and_the_downgrade_removes_it(engine):
    cfg = alembic_config(engine)
    command.upgrade(cfg, PREVIOUS)
    with engine.begin() as conn:
        for code, district, street, community in GRIDS:
            conn.execute(sa.text(GRID), {"code": code, "district": district, "street": street, "community": community})
    command.upgrade(cfg, "head")  # 0007c, and whatever later revisions leave: the models describe the head
    assert _differences(engine) == []
    with engine.connect() as conn:
        assert _place(conn, "HD-1") == [
            ("R01.01.01", "科源社区", "community"),
            ("R01.01", "中关村街道", "street"),
            ("R01", "海淀区", "district"),
        ]
        assert _place(conn, "HD-2") == _place(conn, "HD-1")
        assert _place(conn, "HD-3")[0] == ("R01.01.02", "黄庄社区", "community")
        assert [kind for _c, _n, kind in _place(conn, "HD-4")] == ["village", "town", "district"]
        assert [kind for _c, _n, kind in _place(conn, "YQ-1")] == ["village", "town", "county"]
        assert conn.execute(sa.text("SELECT count(*) FROM regions")).scalar_one() == 9
        assert conn.execute(sa.text("SELECT count(*) FROM users WHERE region_id IS NOT NULL")).scalar_one() == 0
    command.downgrade(cfg, PREVIOUS)
    inspector = sa.inspect(engine)
    assert "regions" not in inspector.get_table_names()
    assert "region_id" not in {c["name"] for c in inspector.get_columns("grids")}
    with engine.connect() as conn:
        names = conn.execute(sa.text("SELECT code, district, street, community FROM grids ORDER BY code")).all()
    assert [tuple(r) for r in names] == sorted(GRIDS)
    command.upgrade(cfg, "head")  # 0007c, and whatever later revisions leave: the models describe the head
    assert _differences(engine) == []
