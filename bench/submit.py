"""Needs submissions (``POST /api/v1/households/{id}/assessments``, one need, with an
Idempotency-Key) against a bare endpoint that writes the same rows in one transaction.

The bare endpoint lives here: Flask and SQLAlchemy Core on the broker's own engine, no
sign-in, no validation, no audit chain — the same tables and the same number of rows
per table as a submission writes (counted, not assumed: the run stops if they differ).
Both are driven by Flask's test client, one request at a time, so the figure is the
server's cost of a submission and nothing else. The statements each side sends per
request (a ``before_cursor_execute`` count; COMMIT is not a statement) are printed
beside the rates. The target is half the bare rate.

Without ``--database-url`` it runs on a scratch SQLite file, then on the local
PostgreSQL (database ``bench_submit``, emptied first) if one answers.

    python -m bench.submit [--submissions 300] [--database-url sqlite|postgresql+psycopg://…]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import event, func, insert, select, text

from bench.common import Result, default_databases, emit, empty_schema, ensure_database, grid_with_households

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/bench_submit"
PASSWORD = "bench-password-1"
GRID = "BENCH-SUBMIT"
HOUSEHOLDS = 50
WARM_UP = 20
# What one submission of one need writes, table by table.
TABLES = ("idempotency_keys", "assessments", "needs", "aid_requests", "outbox", "audit_events", "audit_details")


def setup() -> tuple[int, int, list[int]]:
    """An admin, a grid, its caseworker and households; returns (caseworker id, grid id, households)."""
    from broker.platform import db

    made = grid_with_households(GRID, PASSWORD, HOUSEHOLDS)
    db.commit()
    grid_id = db.session().execute(text("SELECT id FROM grids WHERE code = :c"), {"c": GRID}).scalar_one()
    db.session.remove()
    return made.caseworker.user_id, grid_id, made.households


def bare_app(engine: Any, user_id: int, grid_id: int) -> Any:
    """The bare endpoint: the rows a submission writes, by hand, in one transaction."""
    from flask import Flask, jsonify, request

    from models import AidRequest, Assessment, AuditDetail, AuditEvent, IdempotencyKey, Need, OutboxMessage
    from models.base import utcnow

    app = Flask("bare")
    hash64 = "0" * 64

    @app.post("/bare/<int:household_id>")
    def bare(household_id: int) -> Any:
        body = request.get_json()
        spec = body["needs"][0]
        now = utcnow()
        with engine.begin() as conn:
            conn.execute(
                insert(IdempotencyKey).values(
                    user_id=user_id,
                    key=request.headers["Idempotency-Key"],
                    method="POST",
                    path=request.path,
                    body_hash=hash64,
                    status_code=201,
                    response=body,
                    created_at=now,
                )
            )
            assessment_id = conn.execute(
                insert(Assessment)
                .values(household_id=household_id, assessed_by_id=user_id, summary=body["summary"], created_at=now)
                .returning(Assessment.id)
            ).scalar_one()
            need_id = conn.execute(
                insert(Need)
                .values(assessment_id=assessment_id, household_id=household_id, description="", **spec)
                .returning(Need.id)
            ).scalar_one()
            request_id = conn.execute(
                insert(AidRequest)
                .values(
                    need_id=need_id,
                    household_id=household_id,
                    grid_id=grid_id,
                    description="",
                    status="active",
                    routing_state="routing",
                    created_by_id=user_id,
                    created_at=now,
                    updated_at=now,
                    **spec,
                )
                .returning(AidRequest.id)
            ).scalar_one()
            conn.execute(
                insert(OutboxMessage).values(
                    kind="route_request",
                    payload={"request_id": request_id},
                    queue="default",
                    created_at=now,
                    due_at=now,
                )
            )
            events = [
                {"object_type": "assessments", "object_id": assessment_id, "request_id": None},
                {"object_type": "aid_requests", "object_id": request_id, "request_id": request_id},
            ]
            ids = (
                conn.execute(
                    insert(AuditEvent).returning(AuditEvent.id, sort_by_parameter_order=True),
                    [
                        {
                            "at": now,
                            "actor": "bench",
                            "action": "bare",
                            "household_id": household_id,
                            "digest": hash64,
                            "prev_hash": hash64,
                            "hash": hashlib.sha256(f"{request.headers['Idempotency-Key']}/{n}".encode()).hexdigest(),
                            **e,
                        }
                        for n, e in enumerate(events)
                    ],
                )
                .scalars()
                .all()
            )
            conn.execute(insert(AuditDetail), [{"id": i, "after": "{}"} for i in ids])
        return jsonify({"id": assessment_id}), 201

    return app


def counts(engine: Any) -> dict[str, int]:
    with engine.connect() as conn:
        return {t: conn.execute(select(func.count()).select_from(text(t))).scalar_one() for t in TABLES}


def drive(post: Callable[[int], Any], n: int, engine: Any, offset: int) -> tuple[float, float, dict[str, float]]:
    """``n`` posts, one at a time: seconds, statements per post, rows per post and table."""
    seen = [0]

    def note(*_args: Any) -> None:
        seen[0] += 1

    before = counts(engine)
    event.listen(engine, "before_cursor_execute", note)
    try:
        start = time.perf_counter()
        for i in range(offset, offset + n):
            resp = post(i)
            if resp.status_code != 201:
                raise SystemExit(f"POST failed: {resp.status_code} {resp.get_data(as_text=True)[:300]}")
        seconds = time.perf_counter() - start
    finally:
        event.remove(engine, "before_cursor_execute", note)
    after = counts(engine)
    return seconds, seen[0] / n, {t: (after[t] - before[t]) / n for t in TABLES}


def run(database_url: str | None, n: int) -> Result:
    """One measurement on one database: warm both up, then the broker and the bare endpoint."""
    from broker.factory import create_app
    from broker.platform import db, migrate

    with tempfile.TemporaryDirectory(prefix="aidbroker-bench-submit-") as folder:
        if database_url:
            empty_schema(database_url)
        app = create_app(
            {
                "INSTANCE_PATH": folder,
                "DATABASE_URL": database_url or f"sqlite:///{folder}/bench.sqlite3",
                "REDIS_URL": os.environ.get("BENCH_REDIS_URL") or None,
                "RATELIMIT_ENABLED": False,
            }
        )
        with app.app_context():
            migrate.upgrade()
            user_id, grid_id, households = setup()
        engine = db.engine()
        broker, bare = app.test_client(), bare_app(engine, user_id, grid_id).test_client()
        token = broker.post("/api/v1/auth/token", json={"username": "caseworker", "password": PASSWORD}).get_json()
        auth = {"Authorization": f"Bearer {token['token']}"}

        def body(i: int) -> dict:
            return {
                "summary": "入户走访",
                "needs": [{"category": "medical", "urgency": "high", "amount_fen": 10_000 + i}],
            }

        def post_broker(i: int) -> Any:
            return broker.post(
                f"/api/v1/households/{households[i % HOUSEHOLDS]}/assessments",
                json=body(i),
                headers={**auth, "Idempotency-Key": f"submit-{i}"},
            )

        def post_bare(i: int) -> Any:
            return bare.post(
                f"/bare/{households[i % HOUSEHOLDS]}", json=body(i), headers={"Idempotency-Key": f"bare-{i}"}
            )

        drive(post_broker, WARM_UP, engine, 0)
        drive(post_bare, WARM_UP, engine, 0)
        ours_s, ours_statements, ours_rows = drive(post_broker, n, engine, WARM_UP)
        bare_s, bare_statements, bare_rows = drive(post_bare, n, engine, WARM_UP)
        if ours_rows != bare_rows:
            raise SystemExit(f"the bare endpoint writes other rows than a submission: {bare_rows} vs {ours_rows}")
        dialect = "PostgreSQL" if database_url else "SQLite"
        rows = sum(ours_rows.values())
        print(
            f"{dialect}: submission {n / ours_s:,.1f}/s, {ours_statements:.1f} statements each; bare "
            f"{n / bare_s:,.1f}/s, {bare_statements:.1f} statements each; {rows:g} rows each "
            f"({', '.join(f'{t} {c:g}' for t, c in ours_rows.items())})",
            flush=True,
        )
        db.engine().dispose()
    return Result.compare(
        f"submission ({dialect}): needs/s",
        n / ours_s,
        n / bare_s,
        "per s",
        target=0.5,
        notes=f"{ours_statements:.0f} statements per submission (bare: {bare_statements:.0f}), "
        f"{rows:g} rows each, {n} one at a time through the test client",
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--submissions", type=int, default=300, help="submissions to time on each side (default 300)")
    parser.add_argument("--database-url", default=None, help="sqlite, or a PostgreSQL URL (default: both)")
    args, _ = parser.parse_known_args()
    if args.database_url is None:
        urls = default_databases(DEFAULT_PG_URL)
        base = [sys.executable, "-m", "bench.submit", "--submissions", str(args.submissions)]
        return max(subprocess.run([*base, "--database-url", url], cwd=ROOT).returncode for url in urls)
    url = None if args.database_url == "sqlite" else args.database_url
    if url and not ensure_database(url):
        print(f"no PostgreSQL answers at {url}", file=sys.stderr)
        return 2
    emit(run(url, args.submissions))
    return 0


if __name__ == "__main__":
    sys.exit(main())
