"""Rows inserted with SQLAlchemy Core, their ids returned in the rows' order, in as few
statements as the driver allows. For the hottest writes (a needs submission, the audit
events of every transaction), where the ORM's unit of work costs more than the rows."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Insert, Result, Table, insert, inspect
from sqlalchemy.orm import Session, make_transient_to_detached

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
    return _ids(session.execute, session.get_bind().dialect.name, table, rows)


def _ids(execute: Callable[..., Result], dialect: str, table: Table, rows: list[dict[str, Any]]) -> list[int]:
    if dialect == "sqlite":
        return sorted(execute(_returning(table, False), rows).scalars())
    return list(execute(_returning(table, True), rows).scalars())


def insert_now(session: Session, obj: Any) -> Any:
    """Write the new ORM object ``obj`` in one INSERT of its own and put it in ``session``
    as persistent, as if just read: its id is known at once and nothing else pending is
    flushed with it. A flush would send every change the session holds, one UPDATE a row;
    left pending, a batch's changes go out together at its commit. Columns left unset
    (or None) take their column default, computed here as the INSERT would."""
    mapper = inspect(type(obj))
    row: dict[str, Any] = {}
    for prop in mapper.column_attrs:
        column = prop.columns[0]
        if column.primary_key:
            continue
        value = getattr(obj, prop.key)
        default = column.default
        if value is None and default is not None:
            if not (default.is_callable or default.is_scalar):
                raise TypeError(f"{mapper.class_.__name__}.{prop.key}: a SQL default is not computed here")
            value = default.arg(None) if default.is_callable else default.arg
        setattr(obj, prop.key, value)  # an attribute never set would be expired: a read
        row[column.key] = value
    # On the session's connection: Session.execute would flush all that is pending first.
    conn = session.connection()
    obj.id = _ids(conn.execute, conn.dialect.name, mapper.local_table, [row])[0]
    make_transient_to_detached(obj)
    session.add(obj)
    return obj
