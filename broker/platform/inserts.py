"""Rows inserted with SQLAlchemy Core, their ids returned in the rows' order, in as few
statements as the driver allows. For the hottest writes (a needs submission, the audit
events of every transaction), where the ORM's unit of work costs more than the rows."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Insert, Table, insert
from sqlalchemy.orm import Session

_statements: dict[tuple[str, bool], Insert] = {}


def _returning(table: Table, ordered: bool) -> Insert:
    """``INSERT … RETURNING id`` for ``table``, built once per table."""
    key = (table.name, ordered)
    if key not in _statements:
        _statements[key] = insert(table).returning(table.c.id, sort_by_parameter_order=ordered)
    return _statements[key]


def insert_ids(session: Session, table: Table, rows: list[dict[str, Any]]) -> list[int]:
    """Insert ``rows`` (each with the same columns) and return their ids in order.

    PostgreSQL matches RETURNING rows to the parameters itself. SQLite cannot, but it
    numbers the rows of a multi-row INSERT consecutively in their order, under the write
    lock this transaction holds, each later batch above the one before: so the ids
    sorted are the rows' ids in order, and the rows still go as one statement."""
    if not rows:
        return []
    if session.get_bind().dialect.name == "sqlite":
        return sorted(session.execute(_returning(table, False), rows).scalars())
    return list(session.execute(_returning(table, True), rows).scalars())
