"""Process-wide settings and connections, shared by the web app, the CLI and RQ jobs:
the settings, the database engine and Redis. :mod:`broker.boot` starts a process with
them and then loads what the domains add (policies, outbox handlers, adapters)."""

from __future__ import annotations

import atexit
import os
from collections.abc import Callable
from typing import Any

from broker.platform import db, queue
from config.settings import load_settings

_state: dict[str, Any] = {"settings": None}


def configure(
    override: dict[str, Any] | None = None,
    *,
    start_redis: bool = True,
    check: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Load settings and bind the database and Redis; start the embedded Redis when no
    ``REDIS_URL`` is set. ``check`` sees the settings before anything connects, so that a
    bad start (a malformed policy file) leaves nothing running. Idempotent for the same
    process."""
    settings = load_settings(override)
    if check is not None:
        check(settings)
    if not settings["REDIS_URL"] and start_redis:
        settings["REDIS_URL"] = queue.start_embedded(settings["INSTANCE_PATH"])
        atexit.register(queue.stop_embedded)
    db.bind(db.make_engine(settings["DATABASE_URL"], lock_timeout=lambda: float(settings["SQLITE_LOCK_TIMEOUT"])))
    if settings["REDIS_URL"]:
        queue.configure(settings["REDIS_URL"])
    _state["settings"] = settings
    return settings


def settings() -> dict[str, Any]:
    if _state["settings"] is None:
        raise RuntimeError("runtime not initialised")
    return _state["settings"]


def configured() -> bool:
    """Whether this process has its settings yet (a fresh RQ work horse may not)."""
    return _state["settings"] is not None


def usable_cpus() -> int:
    """How many CPUs this process may run on (its affinity, where the system tells it)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1
