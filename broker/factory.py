"""The composition root: ``create_app`` binds settings, database, Redis, the API, the
portal and the CLI. Nothing connects at import time."""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify
from sqlalchemy import text
from werkzeug.routing import IntegerConverter

from broker import boot
from broker.platform import actor, db, logs, outbox_relay, queue


class DatabaseId(IntegerConverter):
    """``<int:…>`` matching only what a database integer holds: a larger id is not found
    (404), instead of overflowing in the database driver (a 500)."""

    def __init__(self, url_map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", 2**63 - 1)
        super().__init__(url_map, *args, **kwargs)


def create_app(config_override: dict[str, Any] | None = None) -> Flask:
    settings = boot.init(config_override)
    app = Flask(
        "aidbroker",
        instance_path=settings["INSTANCE_PATH"],
        instance_relative_config=False,
    )
    app.url_map.converters["int"] = DatabaseId
    app.config.update(settings)
    app.config["MAX_CONTENT_LENGTH"] = settings["EVIDENCE_MAX_BYTES"] + 64 * 1024
    logs.configure()

    @app.before_request
    def _reset_actor() -> None:
        # A worker thread serves many requests: never audit under the previous one's user.
        actor.set_actor("anonymous")

    @app.teardown_appcontext
    def _remove_session(_exc: BaseException | None) -> None:
        db.session.remove()

    if settings["RELAY_INLINE"]:
        outbox_relay.relay_after_commit()

    from broker import api, cli, portal
    from broker.api.errors import page_handlers

    api.init_app(app)
    portal.init_app(app)
    page_handlers.update(portal.PAGE_HANDLERS)
    cli.init_app(app)
    _register_health(app)
    return app


def _register_health(app: Flask) -> None:
    @app.get("/healthz")
    def healthz():
        """Liveness and readiness: the database and Redis both answer."""
        checks = {}
        try:
            db.session().execute(text("SELECT 1"))
            checks["database"] = "ok"
        except Exception as exc:  # noqa: BLE001 - any failure means not ready
            checks["database"] = f"error: {type(exc).__name__}"
        finally:
            db.session.remove()
        try:
            queue.connection().ping()
            checks["redis"] = "ok"
        except Exception as exc:  # noqa: BLE001
            checks["redis"] = f"error: {type(exc).__name__}"
        ok = all(v == "ok" for v in checks.values())
        return jsonify({"ok": ok, **checks}), 200 if ok else 503
