"""Waiting until this process keeps principals (it hears other processes' changes)."""

from __future__ import annotations

import time

from broker.people import users


def principals_kept(seconds: float = 10.0) -> None:
    """Return once principals read by token are kept (the process is subscribed)."""
    deadline = time.monotonic() + seconds
    while users._PRINCIPALS.current() is None:
        assert time.monotonic() < deadline, "the process never started hearing changes"
        time.sleep(0.02)
