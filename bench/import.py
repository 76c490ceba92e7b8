# ruff: noqa: N999 - the module is named for what it measures: python -m bench.import
"""The survey import at scale: a generated door-to-door survey sheet (one row per member,
Chinese headers) imported into a fresh registry, against the raw read of the same file
(openpyxl read-only, or the csv module) as the baseline.

    python -m bench.import [--rows 100000] [--format xlsx|csv] [--database-url postgresql+psycopg://…] [--reset]

Each side runs in its own process so that its peak memory is its own. The import must
keep memory bounded (streaming read, batch commits): its peak is printed next to the
raw read's."""

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

from bench.common import Result, emit, peak_rss_mb, scratch_instance

SEED = 20260502
GRIDS = 50
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


def phase_import(path: Path, database_url: str | None) -> dict:
    """Import the sheet into a fresh registry through the importer."""
    from sqlalchemy import func, insert, select

    with scratch_instance(database_url):
        from broker.platform import actor, db
        from broker.registry import importer
        from models import Grid, Household, Member
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
        actor.set_actor("cli:import")
        start = time.perf_counter()
        result = importer.import_households(db.session(), path, commit=db.commit)
        seconds = time.perf_counter() - start
        session = db.session()
        households = session.execute(select(func.count()).select_from(Household)).scalar_one()
        members = session.execute(select(func.count()).select_from(Member)).scalar_one()
        return {
            "rows": result.rows_read,
            "seconds": seconds,
            "peak_mb": peak_rss_mb(),
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--format", dest="fmt", choices=("xlsx", "csv"), default="xlsx")
    parser.add_argument("--database-url", default=None, help="an empty scratch PostgreSQL database (default: SQLite)")
    parser.add_argument("--reset", action="store_true", help="drop and recreate the public schema of --database-url")
    parser.add_argument("--phase", choices=("raw", "import"), help=argparse.SUPPRESS)
    parser.add_argument("--sheet", type=Path, help=argparse.SUPPRESS)
    args, _unknown = parser.parse_known_args(argv)
    if args.phase:
        out = phase_raw(args.sheet) if args.phase == "raw" else phase_import(args.sheet, args.database_url)
        print(json.dumps(out, ensure_ascii=False))
        return 0
    if args.database_url and args.reset:
        from sqlalchemy import create_engine, text

        with create_engine(args.database_url).begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    with tempfile.TemporaryDirectory(prefix="aidbroker-import-") as folder:
        sheet = Path(folder) / f"survey.{args.fmt}"
        started = time.perf_counter()
        write_sheet(sheet, sheet_rows(args.rows))
        print(
            f"  wrote {args.rows:,} rows to a {args.fmt} sheet in {time.perf_counter() - started:.1f}s", file=sys.stderr
        )
        raw = _child("raw", sheet, None)
        imported = _child("import", sheet, args.database_url)
    if imported["errors"] or imported["rows"] != args.rows or imported["members"] != args.rows:
        print(f"the import did not take every row: {imported}", file=sys.stderr)
        return 1
    backend = "postgresql" if args.database_url else "sqlite"
    rate, raw_rate = imported["rows"] / imported["seconds"], raw["rows"] / raw["seconds"]
    emit(
        Result.compare(
            f"survey import, {args.fmt} ({backend})",
            rate,
            raw_rate,
            "rows/s",
            # No target is set for speed: every row is validated, its ID encrypted and
            # de-duplicated, its household upserted and audited. The ratio is shown so
            # that a regression is visible; bounded memory is the requirement (below).
            target=None,
            notes=f"{imported['rows']:,} rows, {imported['households']:,} households in {imported['seconds']:.1f}s; "
            f"peak memory {imported['peak_mb']:.0f} MiB (raw read {raw['peak_mb']:.0f} MiB); informational, no target",
        )
    )
    emit(
        Result.compare(
            f"survey import peak memory, {args.fmt} ({backend})",
            imported["peak_mb"],
            raw["peak_mb"],
            "MiB",
            lower_is_better=True,
            target=0.1,
            notes="peak RSS of the importing process vs a process that only reads the file; "
            "target: within 10× (streaming read, batch commits, session cleared per batch)",
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
