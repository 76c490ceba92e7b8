"""Process-wide wiring shared by the web app, the CLI and RQ jobs: settings, the
database, Redis, adapters and policies. Jobs use it without building a Flask app."""

from __future__ import annotations

import atexit
from typing import Any

from broker import db, queue
from broker.policy import catalogue as policy_catalogue
from config.settings import load_settings

_state: dict[str, Any] = {"settings": None}


def init(override: dict[str, Any] | None = None, *, start_redis: bool = True) -> dict[str, Any]:
    """Load settings and bind the database and Redis; start the embedded Redis when no
    ``REDIS_URL`` is set. Idempotent for the same process."""
    settings = load_settings(override)
    policy_catalogue.init(settings)  # a malformed policy file stops the start, naming file and line
    if not settings["REDIS_URL"] and start_redis:
        settings["REDIS_URL"] = queue.start_embedded(settings["INSTANCE_PATH"])
        atexit.register(queue.stop_embedded)
    db.bind(db.make_engine(settings["DATABASE_URL"], lock_timeout=lambda: float(settings["SQLITE_LOCK_TIMEOUT"])))
    if settings["REDIS_URL"]:
        queue.configure(settings["REDIS_URL"])
    _state["settings"] = settings
    from broker import plugins

    plugins.load_all()
    return settings


def settings() -> dict[str, Any]:
    if _state["settings"] is None:
        raise RuntimeError("runtime not initialised")
    return _state["settings"]


def ensure() -> dict[str, Any]:
    """Initialise from the environment if nothing has yet (an RQ job in a fresh process)."""
    if _state["settings"] is None:
        return init()
    return _state["settings"]
