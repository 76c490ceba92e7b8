"""Audit-chain verification against raw SHA-256.

Loads ``--events`` audit events (default 1,000,000) into a scratch database with bulk
inserts, chaining them exactly as the chainer does (position = id), then times
``broker.audit.verify`` over the whole chain (reading every row from the database,
hashing it, checking every link and the anchor) against raw ``hashlib.sha256`` over
the very same bytes, read in the same way (the same query on the same server-side
cursor, reading timed too). The figure is events verified per second; the target is
at least half the raw rate. Verify uses as many processes as an auditor's run of it does
(one per CPU; half as many beside a PostgreSQL server on the same machine); the raw
baseline reads and hashes in one process. By default it runs on SQLite and on
PostgreSQL (``bench_audit``, created when missing and wiped) when a server answers.

    python -m bench.audit [--events N] [--database-url sqlite|URL [--reset]] [--repeat N]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

from bench.common import Result, default_databases, emit, empty_schema, peak_rss_mb, scratch_instance

ACTIONS = ("ledger.deposit", "ledger.pledge", "offer.accepted", "disbursement.recorded", "request.completed")
OBJECTS = ("ledger_transactions", "offers", "disbursements", "aid_requests")
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/bench_audit"  # the benchmark's own: wiped


def _event(i: int, start: datetime) -> dict:
    """A realistic row: Chinese text, canonical JSON, some NULL columns."""
    from broker.audit import canonical_json

    return {
        "at": start + timedelta(microseconds=i * 1_000 + 1),
        "actor": f"user:{i % 40 + 1}:社工{i % 40 + 1}",
        "action": ACTIONS[i % len(ACTIONS)],
        "object_type": OBJECTS[i % len(OBJECTS)],
        "object_id": i + 1,
        "household_id": None if i % 7 == 0 else i % 5000 + 1,
        "request_id": None if i % 3 == 0 else i % 20000 + 1,
        "before": None if i % 2 else canonical_json({"status": "received"}),
        "after": canonical_json(
            {"amount_fen": (i % 997 + 1) * 100, "status": "accepted", "partner_id": i % 30 + 1, "memo": "医疗援助"}
        ),
        "details": None if i % 5 else canonical_json({"reason": "自动审批", "by": "auto_grant"}),
    }


def load(session, n: int, batch: int = 20_000) -> None:
    """Insert ``n`` chained events, and their detail rows, with the driver's bulk path
    (executemany / COPY)."""
    from broker import audit

    engine = session.get_bind()
    pg = engine.dialect.name == "postgresql"
    cols = ("id", "at", "actor", "action", "object_type", "object_id", "household_id", "request_id")
    cols += ("digest", "chain_seq", "prev_hash", "hash")
    detail_cols = ("id", "before", "after", "details")
    raw = engine.raw_connection()
    try:
        conn = raw.driver_connection
        cur = conn.cursor()
        prev = audit.GENESIS
        start = datetime(2026, 1, 1, tzinfo=UTC)
        for lo in range(0, n, batch):
            rows = audit.chain_rows(
                [{"id": i + 1, "chain_seq": i + 1, **_event(i, start)} for i in range(lo, min(n, lo + batch))], prev
            )
            prev = rows[-1]["hash"]
            if pg:
                with cur.copy(f"COPY audit_events ({', '.join(cols)}) FROM STDIN") as copy:
                    for r in rows:
                        copy.write_row([r[c] for c in cols])
                with cur.copy(f"COPY audit_details ({', '.join(detail_cols)}) FROM STDIN") as copy:
                    for r in rows:
                        copy.write_row([r[c] for c in detail_cols])
            else:
                cur.execute("BEGIN")  # the driver connection autocommits; one transaction per batch
                values = [
                    tuple(r[c].strftime("%Y-%m-%d %H:%M:%S.%f") if c == "at" else r[c] for c in cols) for r in rows
                ]
                cur.executemany(
                    f"INSERT INTO audit_events ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})", values
                )
                cur.executemany(
                    "INSERT INTO audit_details (id, before, after, details) VALUES (?, ?, ?, ?)",
                    [tuple(r[c] for c in detail_cols) for r in rows],
                )
                cur.execute("COMMIT")
        if pg:
            conn.commit()
            cur.execute("SELECT setval(pg_get_serial_sequence('audit_events', 'id'), %s)", (n,))
            cur.execute("ANALYZE audit_events")
            cur.execute("ANALYZE audit_details")
            conn.commit()
    finally:
        raw.close()


def raw_hash_seconds(session) -> tuple[float, int]:
    """Raw SHA-256 over the same bytes, read in the same way: the same query on the same
    server-side cursor, every payload and every detail text hashed once in one process,
    the reading timed with the hashing. The fastest a verification could be that reads
    what it hashes; verify adds the comparisons, the links and the anchor."""
    from broker import audit

    sha256 = hashlib.sha256
    rows = 0
    t = time.perf_counter()
    for batch in audit.payload_batches(session):
        for row in batch:
            sha256(row[1]).digest()
            sha256(row[3]).digest()
        rows += len(batch)
    return time.perf_counter() - t, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument(
        "--database-url", default=None, help=f"sqlite (a scratch file), or a PostgreSQL URL; default: both ({PG_URL})"
    )
    parser.add_argument("--repeat", type=int, default=3, help="best of N runs")
    parser.add_argument("--reset", action="store_true", help="drop and recreate the schema of --database-url")
    args, _ = parser.parse_known_args()
    if args.database_url is None:
        base = [sys.executable, "-m", "bench.audit", "--events", str(args.events), "--repeat", str(args.repeat)]
        wiped = {PG_URL: ["--reset"]}
        runs = [[*base, "--database-url", url, *wiped.get(url, [])] for url in default_databases(PG_URL)]
        sys.exit(max(subprocess.run(run).returncode for run in runs))
    if args.database_url == "sqlite":
        args.database_url = None
    elif args.reset:
        empty_schema(args.database_url)

    with scratch_instance(args.database_url) as settings:
        from broker import audit
        from broker.platform import db

        session = db.session()
        if audit.count(session):
            print("the database already holds audit events: give an empty one, or --reset", file=sys.stderr)
            sys.exit(2)
        db.session.remove()  # SQLite: do not hold the write lock while the loader writes
        t = time.perf_counter()
        load(session, args.events)
        print(f"loaded {args.events:,} events in {time.perf_counter() - t:.1f}s", flush=True)

        verify_times = []
        for _ in range(args.repeat):
            db.session.remove()
            t = time.perf_counter()
            result = audit.verify(db.session())
            verify_times.append(time.perf_counter() - t)
            assert result.ok, result
            assert result.events == args.events, result
        raw_times = []
        for _ in range(args.repeat):
            seconds, rows = raw_hash_seconds(db.session())
            assert rows == args.events
            raw_times.append(seconds)
        verify_s, raw_s = min(verify_times), min(raw_times)
        dialect = db.engine().dialect.name
        processes = audit.verify_processes(db.engine(), args.events)
        emit(
            Result.compare(
                f"audit verify ({dialect}, {args.events:,} events)",
                args.events / verify_s,
                args.events / raw_s,
                "events/s",
                target=1 / 2,
                notes=(
                    f"verify {verify_s:.2f}s in {processes} processes incl. reading every row, "
                    f"raw read+sha256 {raw_s:.2f}s in 1 process; "
                    f"peak RSS {peak_rss_mb():.0f} MiB; "
                    + json.dumps({"database": settings["DATABASE_URL"].split("@")[-1].split("/")[0] or "sqlite"})
                ),
            )
        )


if __name__ == "__main__":
    main()
