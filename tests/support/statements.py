"""The SQL statements the broker sends: counted by tests that hold a path to a number of
statements (a count is deterministic; a time is not)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

from broker.platform import db


@contextmanager
def sent() -> Iterator[list[str]]:
    """Every statement the engine sends while the block runs, its whitespace collapsed
    (COMMIT is not a statement)."""
    seen: list[str] = []

    def note(_conn, _cursor, statement, *_rest) -> None:
        seen.append(" ".join(statement.split()))

    engine = db.engine()
    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)
