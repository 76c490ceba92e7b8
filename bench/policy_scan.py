"""The policy scan over a large registry: every shipped policy's rule, compiled to SQL,
against one hand-written SQL query doing the same filter (benefit and application
look-ups as pre-aggregated joins, the way one would tune it by hand), in the same run.

    python -m bench.policy_scan [--households 1000000] [--database-url postgresql+psycopg://…] [--reset]

The figure and the baseline are households scanned per second (best of ``--repeat``
runs); the target is a ratio of at least 0.5. Both queries must return the same
rows, or the benchmark fails (the hand-written query is out of date with the policies)."""

from __future__ import annotations

import argparse
import random
import sys
import time

from sqlalchemy import insert, text

from bench.common import Result, emit, empty_schema, scratch_instance

SEED = 20260501
GRIDS = 200
# The grids' counties: the three with figures of their own, and one on the defaults.
DISTRICTS = ("海淀区", "朝阳区", "延庆区", "东城区")


POLICY_CODES = ("dibao", "tekun", "medical_aid", "education_aid", "temporary_aid", "disability_subsidies")


def _figures_table(figures) -> str:
    """One row per (county, residence) with the figures the rules compare against; the
    row with the empty county holds the defaults."""
    rows = []
    for county in [None, *figures.names()]:
        for residence in ("urban", "rural"):
            p = figures.params_for(county, residence)
            name = f"'{county or ''}'"
            rows.append(
                f"({name}, '{residence}', {p['dibao_line']}, {p['low_income_line']}, "
                f"{p['financial_assets_limit']}, {p['motor_vehicle_limit']}, {1 if p['medical_deducted'] else 0})"
            )
    return ",\n        ".join(rows)


def hand_written_sql(figures) -> str:
    """The shipped policies, written by hand (keep in step with config/policies): each
    grid's county read once, the county's figures joined once per household."""
    flags = ",\n           ".join(
        f"MAX(CASE WHEN policy_code = '{code}' THEN 1 ELSE 0 END) AS {code}" for code in POLICY_CODES
    )
    return f"""
WITH gc AS (
    SELECT g.id AS grid_id, COALESCE(r3.name, CASE WHEN g.region_id IS NULL THEN g.district END, '') AS county
    FROM grids g
    LEFT JOIN regions r1 ON r1.id = g.region_id
    LEFT JOIN regions r2 ON r2.id = r1.parent_id
    LEFT JOIN regions r3 ON r3.id = r2.parent_id
), c(county, residence, dibao, low, fa, mv, med) AS (
    VALUES {_figures_table(figures)}
), b AS (
    SELECT household_id,
           {flags}
    FROM household_benefits GROUP BY household_id
), a AS (
    SELECT household_id,
           {flags}
    FROM applications WHERE status <> 'withdrawn' GROUP BY household_id
)
SELECT * FROM (
    SELECT h.id AS household_id, h.grid_id, h.survey_ref, h.address, h.head_name, h.phone,
        h.member_count, h.monthly_income_fen, h.income_per_capita_fen, h.school_age_children,
        h.elderly_count, h.disabled_count, h.unemployed_count, h.serious_illness, h.sudden_hardship,
        h.consent_to_share,
        (h.member_count > 0 AND (h.income_per_capita_fen < f.dibao
                OR (f.med = 1 AND h.income_after_medical_per_capita_fen < f.dibao))
            AND h.financial_assets_per_capita_fen <= f.fa AND h.motor_vehicles <= f.mv AND NOT h.surplus_housing
            AND COALESCE(b.tekun, 0) = 0 AND COALESCE(b.dibao, 0) = 0 AND COALESCE(a.dibao, 0) = 0) AS p0,
        (h.disabled_count > 0
            AND (h.severe_disabled_count > 0 OR COALESCE(b.dibao, 0) = 1 OR h.income_per_capita_fen < f.dibao)
            AND COALESCE(b.disability_subsidies, 0) = 0 AND COALESCE(a.disability_subsidies, 0) = 0) AS p1,
        (h.students_count > 0
            AND (COALESCE(b.dibao, 0) = 1 OR COALESCE(b.tekun, 0) = 1 OR h.income_per_capita_fen < f.low)
            AND COALESCE(b.education_aid, 0) = 0 AND COALESCE(a.education_aid, 0) = 0) AS p2,
        (h.serious_illness
            AND (COALESCE(b.dibao, 0) = 1 OR COALESCE(b.tekun, 0) = 1 OR h.income_per_capita_fen < f.low
                OR h.income_after_medical_per_capita_fen < f.low)
            AND COALESCE(b.medical_aid, 0) = 0 AND COALESCE(a.medical_aid, 0) = 0) AS p3,
        (h.unsupported_count > 0 AND h.income_per_capita_fen < f.dibao
            AND COALESCE(b.tekun, 0) = 0 AND COALESCE(a.tekun, 0) = 0) AS p4,
        (h.sudden_hardship AND h.income_per_capita_fen < f.low * 2
            AND COALESCE(b.temporary_aid, 0) = 0 AND COALESCE(a.temporary_aid, 0) = 0) AS p5
    FROM households h
    JOIN gc ON gc.grid_id = h.grid_id
    JOIN c AS f ON f.residence = h.residence
        AND f.county = CASE WHEN gc.county IN (SELECT county FROM c) THEN gc.county ELSE '' END
    LEFT JOIN b ON b.household_id = h.id
    LEFT JOIN a ON a.household_id = h.id
) x
WHERE x.p0 OR x.p1 OR x.p2 OR x.p3 OR x.p4 OR x.p5
ORDER BY x.grid_id, x.household_id
"""


EXPECTED_ORDER = ("dibao", "disability_subsidies", "education_aid", "medical_aid", "tekun", "temporary_aid")


def _households(n: int, rng: random.Random, now) -> list[dict]:
    lines = [0, 50_000, 110_999, 111_000, 150_000, 166_500, 250_000, 400_000]
    rows = []
    for i in range(n):
        members = rng.choice((1, 1, 2, 3, 3, 4, 4, 5, 6))
        per_capita = rng.choice(lines) if rng.random() < 0.05 else int(rng.expovariate(1 / 160_000))
        rows.append(
            {
                "grid_id": 1 + i % GRIDS,
                "survey_ref": f"S{i:07d}",
                "address": f"第{i % 997}号楼{i % 31}单元{i % 12 + 1}0{i % 4 + 1}",
                "head_name": "张三",
                "phone": None,
                "monthly_income_fen": per_capita * members,
                "consent_to_share": rng.random() < 0.6,
                "sudden_hardship": rng.random() < 0.04,
                "notes": "",
                "member_count": members,
                "income_per_capita_fen": per_capita,
                "school_age_children": rng.choice((0, 0, 0, 1, 1, 2)) if members > 1 else 0,
                "elderly_count": rng.choice((0, 0, 0, 1, 2)),
                "disabled_count": 1 if rng.random() < 0.06 else 0,
                "serious_illness": rng.random() < 0.05,
                "unemployed_count": rng.choice((0, 0, 0, 1)),
                "students_count": rng.choice((0, 0, 0, 1, 1, 2)) if members > 1 else 0,
                "severe_disabled_count": 1 if rng.random() < 0.02 else 0,
                "unsupported_count": 1 if rng.random() < 0.03 else 0,
                "income_after_medical_per_capita_fen": max(0, per_capita - rng.choice((0, 0, 0, 40_000, 90_000))),
                "financial_assets_per_capita_fen": rng.choice((0, 0, 500_000, 2_000_000, 4_000_000)),
                "motor_vehicles": rng.choice((0, 0, 0, 1)),
                "surplus_housing": rng.random() < 0.05,
                "residence": "rural" if rng.random() < 0.3 else "urban",
                "created_at": now,
                "updated_at": now,
            }
        )
    return rows


def populate(engine, n: int, batch: int = 20_000) -> None:
    """Grids, ``n`` households, and a realistic share of benefits and applications."""
    from models import Application, Grid, Household, HouseholdBenefit
    from models.base import utcnow

    rng = random.Random(SEED)
    now = utcnow()
    codes = ("dibao", "tekun", "medical_aid", "education_aid", "temporary_aid", "disability_subsidies")
    weights = (8, 1, 2, 2, 1, 1)
    postgres = engine.dialect.name == "postgresql"
    with engine.begin() as conn:
        conn.execute(
            insert(Grid),
            [
                {"code": f"G{g:04d}", "name": f"网格{g}", "district": DISTRICTS[g % len(DISTRICTS)], "street": "街道",
                 "community": "社区", "created_at": now, "updated_at": now}
                for g in range(1, GRIDS + 1)
            ],
        )  # fmt: skip
    written = 0
    started = time.perf_counter()
    while written < n:
        size = min(batch, n - written)
        rows = _households(size, rng, now)
        for offset, row in enumerate(rows):
            row["survey_ref"] = f"S{written + offset:07d}"
        with engine.begin() as conn:
            if postgres:
                columns = list(rows[0])
                raw = conn.connection.driver_connection
                with raw.cursor().copy(f"COPY households ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row([row[c] for c in columns])
            else:
                conn.execute(insert(Household), rows)
        written += size
        print(f"\r  inserted {written:,} households", end="", file=sys.stderr, flush=True)
    benefits, apps = [], []
    for hid in range(1, n + 1):
        if rng.random() < 0.12:
            for code in set(rng.choices(codes, weights, k=rng.choice((1, 1, 2)))):
                benefits.append({"household_id": hid, "policy_code": code, "source": "declared"})
        if rng.random() < 0.03:
            apps.append(
                {
                    "household_id": hid,
                    "policy_code": rng.choices(codes, weights)[0],
                    "policy_version": "2025.1",
                    "status": rng.choice(("documents-gathering", "submitted", "approved", "rejected", "withdrawn")),
                    "documents": {},
                    "department": "区民政局",
                    "created_at": now,
                    "updated_at": now,
                }
            )
    with engine.begin() as conn:
        for i in range(0, len(benefits), batch):
            conn.execute(insert(HouseholdBenefit), benefits[i : i + batch])
        for i in range(0, len(apps), batch):
            conn.execute(insert(Application), apps[i : i + batch])
        conn.execute(text("ANALYZE"))
    print(
        f"\r  {n:,} households, {len(benefits):,} benefits, {len(apps):,} applications "
        f"in {time.perf_counter() - started:.1f}s",
        file=sys.stderr,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--households", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=None, help="an empty scratch PostgreSQL database (default: SQLite)")
    parser.add_argument("--reset", action="store_true", help="drop and recreate the public schema of --database-url")
    parser.add_argument("--repeat", type=int, default=3)
    args, _unknown = parser.parse_known_args(argv)
    if args.database_url and args.reset:
        empty_schema(args.database_url)
    with scratch_instance(args.database_url):
        from broker.platform import db
        from broker.policy import catalogue
        from broker.policy import scan as policy_scan

        engine = db.engine()
        with engine.connect() as conn:
            if conn.execute(text("SELECT count(*) FROM households")).scalar_one():
                print("the database already holds households: give an empty one, or --reset", file=sys.stderr)
                return 2
        populate(engine, args.households)
        policies = catalogue.current().all()
        if tuple(p.code for p in policies) != EXPECTED_ORDER:
            print("the shipped policies changed: update hand_written_sql()", file=sys.stderr)
            return 2
        compiled = policy_scan.scan_query(policies)
        manual = text(hand_written_sql(catalogue.current().figures))

        def run(stmt) -> tuple[float, list]:
            with engine.connect() as conn:
                start = time.perf_counter()
                rows = conn.execute(stmt).all()
                return time.perf_counter() - start, rows

        best = {"compiled": float("inf"), "manual": float("inf")}
        results = {}
        for _ in range(args.repeat):
            for name, stmt in (("compiled", compiled), ("manual", manual)):
                seconds, rows = run(stmt)
                best[name] = min(best[name], seconds)
                results[name] = [(r[0], tuple(bool(v) for v in r[-len(policies) :])) for r in rows]
        if results["compiled"] != results["manual"]:
            print("the compiled and the hand-written scans disagree", file=sys.stderr)
            return 1
        dialect = engine.dialect.name
        rate = args.households / best["compiled"]
        baseline = args.households / best["manual"]
        emit(
            Result.compare(
                f"policy scan, compiled rules vs hand-written SQL ({dialect})",
                rate,
                baseline,
                "households/s",
                target=0.5,
                notes=f"{args.households:,} households, {len(policies)} policies, {len(results['manual']):,} listed; "
                f"best of {args.repeat}: {best['compiled']:.2f}s vs {best['manual']:.2f}s",
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
