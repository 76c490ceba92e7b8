"""The demo: the model case of the design, seeded only into an empty database."""

from __future__ import annotations

from sqlalchemy import func, select

from broker import actor, db, users
from models import Grid, User

DEMO_PASSWORD = "demo-pass-2026"  # noqa: S105 - printed by make run; demo only


def seed_demo_if_empty() -> list[tuple[str, str, str]]:
    """Seed the demo unless the database already has users; return the demo logins."""
    session = db.session()
    if session.execute(select(func.count()).select_from(User)).scalar_one():
        return []
    actor.set_actor("system:seed")
    grid = Grid(
        code="HD-ZGC-01", name="中关村东路第一网格", district="海淀区", street="中关村街道", community="科学院社区"
    )
    session.add(grid)
    session.flush()
    logins = [
        ("admin", "admin", ()),
        ("caseworker", "caseworker", (grid.code,)),
        ("auditor", "auditor", ()),
    ]
    for username, role, grids in logins:
        users.create_user(session, username=username, password=DEMO_PASSWORD, role=role, grid_codes=grids)
    db.commit()
    return [(u, DEMO_PASSWORD, r) for u, r, _ in logins]
