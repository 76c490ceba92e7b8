# ruff: noqa: N999 - the module is named for what it measures: python -m bench.import
"""The survey import at scale: a generated door-to-door survey sheet (one row per member,
Chinese headers) imported into a fresh registry, against two baselines measured in the
same run:

* speed: a raw SQLAlchemy Core insert of the same rows into the same kind of database
  (the same URL on PostgreSQL, a fresh file on SQLite): the sheet read with the same
  streaming reader, each household's rows grouped, and households and members inserted
  with ``executemany`` per chunk of households, committed per chunk — no validation, no
  encryption, no audit. Target: the import at ≥ 0.3× its rows per second.
* memory: the raw read of the file alone (openpyxl read-only, or the csv module). The
  import must keep memory bounded (streaming read, batch commits): within 10×.

    python -m bench.import [--rows 100000] [--format xlsx|csv] [--database-url sqlite|postgresql+psycopg://… --reset]

Each side runs in its own process so that its peak memory is its own; on PostgreSQL each
starts from an empty public schema (the database is the benchmark's own: it is wiped).
By default both formats are measured, each on SQLite and on PostgreSQL (``bench_import``,
created when missing) when a server answers."""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import (
    Result,
    children_peak_rss,
    default_databases,
    emit,
    empty_schema,
    ensure_database,
    peak_rss_mb,
    scratch_instance,
)

SEED = 20260502
GRIDS = 50
CHUNK = 200  # households per commit, as the importer's default batch
TARGET = 0.3  # the import's rows per second against the raw Core insert's
HEADER = ["网格编码", "户编号", "地址", "姓名", "身份证号", "出生日期", "与户主关系", "健康状况", "残疾等级",
          "就学情况", "就业情况", "家庭月收入(元)", "同意共享"]  # fmt: skip
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英"


def sheet_rows(n: int) -> list[list]:
    """``n`` member rows, grouped in households of 1–5 people."""
    from broker.registry import identity

    rng = random.Random(SEED)
    rows: list[list] = []
    person = household = 0
    while len(rows) < n:
        household += 1
        size = min(rng.choice((1, 2, 3, 3, 4, 4, 5)), n - len(rows))
        grid = f"G{1 + household % GRIDS:03d}"
        ref = f"H{household:06d}"
        surname = rng.choice(SURNAMES)
        income = rng.choice((0, 800, 1500, 2400, 3600, 5200, 8000)) + rng.randint(0, 99)
        for m in range(size):
            person += 1
            head = m == 0
            born = dt.date(1950 + rng.randint(0, 40), rng.randint(1, 12), rng.randint(1, 28))
            if m >= 2:
                born = dt.date(2008 + rng.randint(0, 14), rng.randint(1, 12), rng.randint(1, 28))
            with_id = head or rng.random() < 0.5
            # Region and sequence from the person's number: unique for up to 100,000 people per sheet.
            region = f"11{(person // 1000) % 100:02d}{(person // 100_000) % 100:02d}"
            number = identity.make(region, born, f"{person % 1000:03d}") if with_id else None
            rows.append(
                [
                    grid,
                    ref,
                    f"海淀区中关村街道{household % 997}号楼{household % 31}单元{household % 12 + 1}01"
                    if head
                    else None,
                    surname + rng.choice(GIVEN) + rng.choice(GIVEN),
                    number,
                    None if number else born,
                    "户主" if head else ("配偶" if m == 1 else rng.choice(("儿子", "女儿", "孙子"))),
                    rng.choice(("健康", "健康", "健康", "高血压", "白血病", "糖尿病")),
                    rng.choice((None,) * 15 + ("二级",)),
                    rng.choice(("小学", "初中", "高中")) if m >= 2 and born.year > 2008 else None,
                    rng.choice(("个体", "失业", "就业", "退休")) if m < 2 else None,
                    income if head else None,
                    rng.choice(("是", "否")) if head else None,
                ]
            )
    return rows


def write_sheet(path: Path, rows: list[list]) -> None:
    if path.suffix == ".xlsx":
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet("入户调查")
        sheet.append(HEADER)
        for row in rows:
            sheet.append(row)
        book.save(path)
    else:
        with path.open("w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(HEADER)
            for row in rows:
                writer.writerow(["" if v is None else v for v in row])


def phase_raw(path: Path) -> dict:
    """Only read the file, the fastest way its library allows."""
    start = time.perf_counter()
    count = 0
    if path.suffix == ".xlsx":
        from openpyxl import load_workbook

        book = load_workbook(path, read_only=True, data_only=True)
        for _row in book.worksheets[0].iter_rows(values_only=True):
            count += 1
        book.close()
    else:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            for _row in csv.reader(fh):
                count += 1
    return {"rows": count - 1, "seconds": time.perf_counter() - start, "peak_mb": peak_rss_mb()}


def _empty_schema(database_url: str | None) -> None:
    """PostgreSQL: start the phase from an empty public schema (SQLite: a fresh file)."""
    if database_url:
        empty_schema(database_url)


def _add_grids() -> dict[str, int]:
    from sqlalchemy import insert, select

    from broker.platform import db
    from models import Grid
    from models.base import utcnow

    now = utcnow()
    with db.engine().begin() as conn:
        conn.execute(
            insert(Grid),
            [
                {"code": f"G{g:03d}", "name": f"网格{g}", "district": "海淀区", "street": "中关村街道",
                 "community": "社区", "created_at": now, "updated_at": now}
                for g in range(1, GRIDS + 1)
            ],
        )  # fmt: skip
        return dict(conn.execute(select(Grid.code, Grid.id)).all())


def phase_core(path: Path, database_url: str | None) -> dict:
    """The raw baseline: the same rows inserted with SQLAlchemy Core, chunk by chunk."""
    from sqlalchemy import func, insert, select

    _empty_schema(database_url)
    with scratch_instance(database_url):
        from broker.platform import db
        from broker.registry.survey_sheet import iter_sheet
        from models import Household, Member
        from models.base import utcnow

        grid_ids = _add_grids()
        engine = db.engine()
        sqlite = engine.dialect.name == "sqlite"
        start = time.perf_counter()
        rows = iter_sheet(path)
        next(rows)  # the header
        chunk: list[tuple[dict, list[dict]]] = []
        count = 0

        def flush() -> None:
            now = utcnow()
            with engine.begin() as conn:
                households = [{**h, "created_at": now, "updated_at": now} for h, _m in chunk]
                if sqlite:  # ids in insert order: see broker.platform.inserts.insert_ids
                    ids = sorted(conn.execute(insert(Household).returning(Household.id), households).scalars())
                else:
                    ids = conn.execute(
                        insert(Household).returning(Household.id, sort_by_parameter_order=True), households
                    ).scalars()
                conn.execute(
                    insert(Member),
                    [
                        {**m, "household_id": hid, "created_at": now, "updated_at": now}
                        for hid, (_h, members) in zip(ids, chunk, strict=True)
                        for m in members
                    ],
                )
            chunk.clear()

        for _number, cells in rows:
            count += 1
            v = (*cells, *(None,) * (len(HEADER) - len(cells)))  # a read-only sheet drops empty trailing cells
            number = v[4] or None
            if number:
                born = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
            else:
                born = dt.date.fromisoformat(str(v[5])[:10])
            member = {"name": v[3], "birth_date": born, "relation": v[6], "conditions": [], "employment": v[10]}
            if not chunk or chunk[-1][0]["survey_ref"] != v[1]:
                if len(chunk) >= CHUNK:
                    flush()
                household = {"grid_id": grid_ids[v[0]], "survey_ref": v[1], "address": v[2], "head_name": v[3],
                             "monthly_income_fen": round(float(v[11]) * 100)}  # fmt: skip
                chunk.append((household, []))
            chunk[-1][1].append(member)
        if chunk:
            flush()
        seconds = time.perf_counter() - start
        with engine.connect() as conn:
            members = conn.execute(select(func.count()).select_from(Member)).scalar_one()
        return {"rows": count, "seconds": seconds, "peak_mb": peak_rss_mb(), "members": members}


def phase_import(path: Path, database_url: str | None) -> dict:
    """Import the sheet into a fresh registry through the importer."""
    from sqlalchemy import func, select

    _empty_schema(database_url)
    with scratch_instance(database_url):
        from broker.platform import actor, db
        from broker.registry import importer
        from models import Household, Member

        _add_grids()
        actor.set_actor("cli:import")
        start = time.perf_counter()
        with children_peak_rss() as reader:  # the sheet's reader, when it has a process of its own
            result = importer.import_households(db.session(), path, commit=db.commit)
        seconds = time.perf_counter() - start
        session = db.session()
        households = session.execute(select(func.count()).select_from(Household)).scalar_one()
        members = session.execute(select(func.count()).select_from(Member)).scalar_one()
        return {
            "rows": result.rows_read,
            "seconds": seconds,
            "peak_mb": peak_rss_mb() + reader[0],
            "households": households,
            "members": members,
            "errors": len(result.errors),
            "first_errors": [e.reason for e in result.errors[:3]],
        }


def _child(phase: str, path: Path, database_url: str | None) -> dict:
    cmd = [sys.executable, "-m", "bench.import", "--phase", phase, "--sheet", str(path)]
    if database_url:
        cmd += ["--database-url", database_url]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=Path(__file__).resolve().parent.parent)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-4000:])
        raise SystemExit(f"the {phase} phase failed")
    return json.loads(proc.stdout.strip().splitlines()[-1])


DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/bench_import"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--format", dest="fmt", choices=("xlsx", "csv"), help="default: both")
    parser.add_argument(
        "--database-url",
        default=None,
        help="sqlite, or an empty scratch PostgreSQL database (wiped: say so with --reset); "
        f"default: SQLite and {DEFAULT_PG_URL}",
    )
    parser.add_argument("--reset", action="store_true", help="drop and recreate the public schema of --database-url")
    parser.add_argument("--phase", choices=("raw", "core", "import"), help=argparse.SUPPRESS)
    parser.add_argument("--sheet", type=Path, help=argparse.SUPPRESS)
    args, _unknown = parser.parse_known_args(argv)
    if args.phase:
        if args.phase == "raw":
            out = phase_raw(args.sheet)
        else:
            out = (phase_core if args.phase == "core" else phase_import)(args.sheet, args.database_url)
        print(json.dumps(out, ensure_ascii=False))
        return 0
    if args.database_url is None:
        urls = [None if url == "sqlite" else url for url in default_databases(DEFAULT_PG_URL)]
    elif args.database_url == "sqlite":
        urls = [None]
    elif not args.reset:
        parser.error("--database-url is wiped by every phase: say so with --reset (a database of its own)")
    elif not ensure_database(args.database_url):
        parser.error(f"no PostgreSQL answers at {args.database_url}")
    else:
        urls = [args.database_url]
    status = 0
    for fmt in [args.fmt] if args.fmt else ["xlsx", "csv"]:
        with tempfile.TemporaryDirectory(prefix="aidbroker-import-") as folder:
            sheet = Path(folder) / f"survey.{fmt}"
            started = time.perf_counter()
            write_sheet(sheet, sheet_rows(args.rows))
            took = time.perf_counter() - started
            print(f"  wrote {args.rows:,} rows to a {fmt} sheet in {took:.1f}s", file=sys.stderr)
            raw = _child("raw", sheet, None)
            for url in urls:
                status |= _compare(fmt, sheet, url, args.rows, raw)
    return status


def _compare(fmt: str, sheet: Path, database_url: str | None, rows: int, raw: dict) -> int:
    """Import the sheet into one database against the raw Core insert; print both rows."""
    core = _child("core", sheet, database_url)
    imported = _child("import", sheet, database_url)
    if core["members"] != rows:
        print(f"the raw insert did not take every row: {core}", file=sys.stderr)
        return 1
    if imported["errors"] or imported["rows"] != rows or imported["members"] != rows:
        print(f"the import did not take every row: {imported}", file=sys.stderr)
        return 1
    backend = "postgresql" if database_url else "sqlite"
    emit(
        Result.compare(
            f"survey import, {fmt} ({backend})",
            imported["rows"] / imported["seconds"],
            core["rows"] / core["seconds"],
            "rows/s",
            target=TARGET,
            notes=f"{imported['rows']:,} rows, {imported['households']:,} households in {imported['seconds']:.1f}s "
            f"(validated, IDs encrypted, audited) vs a raw Core insert of the same rows in {core['seconds']:.1f}s",
        )
    )
    emit(
        Result.compare(
            f"survey import peak memory, {fmt} ({backend})",
            imported["peak_mb"],
            raw["peak_mb"],
            "MiB",
            lower_is_better=True,
            target=0.1,
            notes="peak RSS of the importing process (with its sheet reader's) vs a process that only reads the file; "
            "target: within 10× (streaming read, batch commits, session cleared per batch)",
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
