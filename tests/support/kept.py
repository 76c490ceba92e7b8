"""Waiting until this process keeps principals (it hears other processes' changes)."""

from __future__ import annotations

from broker.people import users
from tests.conftest import wait_for


def principals_kept() -> None:
    """Return once principals read by token are kept (the process is subscribed)."""
    wait_for(users._PRINCIPALS.current, timeout=10)
