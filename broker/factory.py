"""The composition root: ``create_app`` binds settings, database, Redis, the API, the
portal and the CLI. Nothing connects at import time."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, jsonify
from sqlalchemy import text

from broker import db, outbox, queue, runtime


def create_app(config_override: dict[str, Any] | None = None) -> Flask:
    settings = runtime.init(config_override)
    app = Flask(
        "aidbroker",
        instance_path=settings["INSTANCE_PATH"],
        instance_relative_config=False,
    )
    app.config.update(settings)
    app.config["MAX_CONTENT_LENGTH"] = settings["EVIDENCE_MAX_BYTES"] + 64 * 1024
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    @app.teardown_appcontext
    def _remove_session(_exc: BaseException | None) -> None:
        db.session.remove()

    if settings["RELAY_INLINE"]:
        db.on_after_commit(outbox.relay_committed)

    from broker import api, cli

    api.init_app(app)
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
