"""Rows inserted with SQLAlchemy Core, their ids returned in the rows' order, in as few
statements as the driver allows. For the hottest writes (a needs submission, the audit
events of every transaction), where the ORM's unit of work costs more than the rows."""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import Insert, Table, TextClause, insert, inspect, text
from sqlalchemy.orm import Session, make_transient_to_detached

# From this many rows, PostgreSQL inserts with ids drawn first (measured: see _insert_drawn).
DRAWN_MIN = 20


@cache
def _returning(table: Table, ordered: bool) -> Insert:
    """``INSERT … RETURNING id`` for ``table``, built once per table."""
    return insert(table).returning(table.c.id, sort_by_parameter_order=ordered)


@cache
def _draw(table: Table) -> TextClause:
    """``n`` new ids from ``table``'s id sequence, built once per table."""
    return text(f"SELECT nextval(pg_get_serial_sequence('{table.name}', 'id')) FROM generate_series(1, :n)")


def insert_ids(session: Session, table: Table, rows: list[dict[str, Any]]) -> list[int]:
    """Insert ``rows`` (each with the same columns) and return their ids in order.

    PostgreSQL matches RETURNING rows to the parameters itself; from DRAWN_MIN rows on,
    the ids are drawn first instead (:func:`_insert_drawn`). SQLite cannot match them,
    but it numbers the rows of a multi-row INSERT consecutively in their order, under the
    write lock this transaction holds, each later batch above the one before: so the ids
    sorted are the rows' ids in order, and the rows still go as one statement."""
    if not rows:
        return []
    if len(rows) == 1:  # a plain execute: an executemany of one costs its batching setup
        return [session.execute(_returning(table, False), rows[0]).scalar_one()]
    if session.get_bind().dialect.name == "sqlite":
        return sorted(session.execute(_returning(table, False), rows).scalars())
    if len(rows) >= DRAWN_MIN:
        return _insert_drawn(session, table, rows)
    return list(session.execute(_returning(table, True), rows).scalars())


def _insert_drawn(session: Session, table: Table, rows: list[dict[str, Any]]) -> list[int]:
    """Many rows on PostgreSQL: their ids drawn from the table's sequence in one query
    (ascending, so in the rows' order as a RETURNING would give them), then the rows in
    a plain executemany, which psycopg sends as one prepared single-row INSERT,
    pipelined. A multi-row INSERT … RETURNING holds thousands of placeholders that
    psycopg parses anew on every execution (it caches only short statements): in a
    100,000-row survey import that parsing was over half of the time."""
    ids = sorted(session.execute(_draw(table), {"n": len(rows)}).scalars())
    session.execute(insert(table), [{**row, "id": i} for i, row in zip(ids, rows, strict=True)])
    return ids


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
    with session.no_autoflush:  # else the INSERT would send all that is pending first
        obj.id = insert_ids(session, mapper.local_table, [row])[0]
    make_transient_to_detached(obj)
    session.add(obj)
    return obj
