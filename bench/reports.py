"""The disbursement report over a million disbursements on PostgreSQL, against the bare
SQL GROUP BY it is built on (same filter, same grouping, run through the raw driver).

    python -m bench.reports [--rows 1000000] [--database-url postgresql+psycopg://…] [--reset] [--repeat 5]

``--database-url`` defaults to a ``bench_reports`` database on the local PostgreSQL,
created if missing; its data is kept between runs (``--reset`` rebuilds it). For each
grouping (partner, category, grid, month), over the whole range and over one year,
the figure is the report's rows per second (best of ``--repeat``) against the bare
query's; the target is a ratio of at least 0.5 (the report within 2x of raw SQL)."""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import date

import psycopg
from sqlalchemy import func, insert, select, text
from sqlalchemy.engine import make_url

from bench.common import Result, emit, empty_schema, ensure_database, scratch_instance

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/bench_reports"
SEED = 20260601
PARTNERS, GRIDS, HOUSEHOLDS, REQUESTS = 40, 200, 20_000, 20_000
CATEGORIES = ("living", "medical", "schooling", "employment", "counselling", "emergency", "in_kind")
PERIODS = {"all": (None, None), "2026": (date(2026, 1, 1), date(2026, 12, 31))}


def populate(session, rows: int) -> None:
    """Partners, grids, households, requests and offers through the models (Core bulk
    inserts), then ``rows`` disbursements generated inside PostgreSQL over two years."""
    from models import AidRequest, Assessment, Grid, Household, Need, Offer, Partner
    from models.base import utcnow

    rng = random.Random(SEED)
    now = utcnow()
    session.execute(
        insert(Partner),
        [
            {"name": f"合作方{i:03d}", "kind": "charity", "adapter": "portal", "categories": list(CATEGORIES)}
            for i in range(PARTNERS)
        ],
    )
    session.execute(
        insert(Grid),
        [
            {"code": f"G{i:04d}", "name": f"第{i}网格", "district": "海淀区", "street": "街道", "community": "社区"}
            for i in range(GRIDS)
        ],
    )
    grid_ids = list(session.execute(select(Grid.id)).scalars())
    session.execute(
        insert(Household),
        [{"grid_id": grid_ids[i % GRIDS], "address": f"地址{i}", "head_name": "户主"} for i in range(HOUSEHOLDS)],
    )
    households = list(session.execute(select(Household.id, Household.grid_id)).all())
    session.execute(insert(Assessment), [{"household_id": h.id} for h in households])
    assessment_of = dict(session.execute(select(Assessment.household_id, Assessment.id)).all())
    picks = [(households[i % HOUSEHOLDS], CATEGORIES[rng.randrange(len(CATEGORIES))]) for i in range(REQUESTS)]
    session.execute(
        insert(Need),
        [
            {"assessment_id": assessment_of[h.id], "household_id": h.id, "category": c, "urgency": "normal"}
            for h, c in picks
        ],
    )
    needs = session.execute(select(Need.id, Need.household_id, Need.category).order_by(Need.id)).all()
    grid_of = {h.id: h.grid_id for h in households}
    session.execute(
        insert(AidRequest),
        [
            {
                "need_id": n.id,
                "household_id": n.household_id,
                "grid_id": grid_of[n.household_id],
                "category": n.category,
                "urgency": "normal",
                "amount_fen": 500_000,
                "status": "active",
                "routing_state": "covered",
            }
            for n in needs
        ],
    )
    partner_ids = list(session.execute(select(Partner.id)).scalars())
    request_ids = list(session.execute(select(AidRequest.id)).scalars())
    session.execute(
        insert(Offer),
        [
            {
                "request_id": r,
                "partner_id": partner_ids[rng.randrange(PARTNERS)],
                "status": "accepted",
                "respond_by": now,
            }
            for r in request_ids
        ],
    )
    session.commit()
    per_offer = -(-rows // REQUESTS)
    session.execute(
        text(
            """
            INSERT INTO disbursements (offer_id, request_id, partner_id, household_id, grid_id, category,
                                       amount_fen, kind, reference, actor, created_at)
            SELECT o.id, r.id, o.partner_id, r.household_id, r.grid_id, r.category,
                   100 + (random() * 200000)::int, 'cash', '', 'bench',
                   timestamptz '2025-01-01 00:00+08' + random() * interval '730 days'
            FROM generate_series(1, :per_offer) g
            CROSS JOIN offers o JOIN aid_requests r ON r.id = o.request_id
            LIMIT :rows
            """
        ),
        {"per_offer": per_offer, "rows": rows},
    )
    session.commit()
    session.execute(text("ANALYZE disbursements"))
    session.commit()


BARE_KEYS = {
    "partner": "partner_id",
    "category": "category",
    "grid": "grid_id",
    "month": "date_trunc('month', timezone('Asia/Shanghai', created_at))",
}


def bare_sql(conn: psycopg.Connection, group_by: str, start, end) -> list[tuple]:
    """The report's GROUP BY, by hand through the driver: no names, no objects."""
    key = BARE_KEYS[group_by]
    where, params = [], []
    if start is not None:
        where.append("created_at >= %s")
        params.append(start)
    if end is not None:
        where.append("created_at < %s")
        params.append(end)
    sql = f"SELECT {key}, count(*), sum(amount_fen) FROM disbursements"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += f" GROUP BY {key}"
    return conn.execute(sql, params).fetchall()


def best_of(n: int, fn) -> tuple[float, object]:
    best, value = float("inf"), None
    for _ in range(n):
        t = time.perf_counter()
        value = fn()
        best = min(best, time.perf_counter() - t)
    return best, value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--reset", action="store_true", help="drop and rebuild the benchmark's data")
    parser.add_argument("--repeat", type=int, default=5)
    args, _ = parser.parse_known_args(argv)
    if not args.database_url.startswith("postgresql"):
        print("this benchmark measures PostgreSQL: give a postgresql+psycopg:// URL", file=sys.stderr)
        return 2
    ensure_database(args.database_url)
    if args.reset:
        empty_schema(args.database_url)

    with scratch_instance(args.database_url):
        from broker.money import disbursement_totals
        from broker.platform import db, periods
        from models import Disbursement

        session = db.session()
        have = session.execute(select(func.count()).select_from(Disbursement)).scalar_one()
        if have not in (0, args.rows):
            if args.database_url != DEFAULT_URL:
                print(f"the database holds {have:,} disbursements, not {args.rows:,}: use --reset", file=sys.stderr)
                return 2
            print(f"the benchmark's database holds {have:,} disbursements, not {args.rows:,}: rebuilding it")
            db.session.remove()
            db.engine().dispose()
            return main([*(argv or sys.argv[1:]), "--reset"])
        if have == 0:
            t = time.perf_counter()
            populate(session, args.rows)
            print(f"generated {args.rows:,} disbursements in {time.perf_counter() - t:.1f}s", flush=True)
        session.close()

        u = make_url(args.database_url)
        raw = psycopg.connect(
            host=u.host or "127.0.0.1", port=u.port or 5432, user=u.username or "postgres", dbname=u.database
        )
        for period, (date_from, date_to) in PERIODS.items():
            start, end = periods.bounds(date_from, date_to)
            for group_by in disbursement_totals.GROUPINGS:
                ours_s, ours = best_of(
                    args.repeat,
                    lambda g=group_by, f=date_from, t=date_to: disbursement_totals.disbursement_report(
                        db.session(), g, f, t
                    ),
                )
                db.session.remove()
                bare_s, bare = best_of(args.repeat, lambda g=group_by, a=start, b=end: bare_sql(raw, g, a, b))
                raw.rollback()
                assert ours.count == sum(r[1] for r in bare), (group_by, period)
                assert ours.amount_fen == sum(int(r[2]) for r in bare), (group_by, period)
                emit(
                    Result.compare(
                        f"disbursement report by {group_by} ({period})",
                        ours.count / ours_s,
                        ours.count / bare_s,
                        "rows/s",
                        target=0.5,
                        notes=f"report {ours_s * 1000:.0f} ms vs bare GROUP BY {bare_s * 1000:.0f} ms over "
                        f"{ours.count:,} of {args.rows:,} disbursements, {len(ours.rows)} groups",
                    )
                )
        raw.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
