"""What every benchmark shares: a scratch instance, timing, and the one result format
that ``make bench`` collects into its table."""

from __future__ import annotations

import json
import os
import resource
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any

RESULT_PREFIX = "BENCH-RESULT "


@dataclass
class Result:
    """One benchmark figure against its raw baseline. ``ratio`` is figure/baseline for
    rates (higher is better) or baseline/figure for durations, so that 1.0 means "as fast
    as raw" in both cases; ``target`` is the least ratio the issue asks for."""

    name: str
    figure: float
    baseline: float
    unit: str
    ratio: float
    target: float | None  # None: a figure to read, with no bar to meet
    notes: str = ""

    @classmethod
    def compare(
        cls,
        name: str,
        figure: float,
        baseline: float,
        unit: str,
        target: float | None,
        notes: str = "",
        *,
        lower_is_better: bool = False,
    ) -> Result:
        """``figure`` against its raw ``baseline``, the ratio worked out here for every
        benchmark: figure/baseline, or baseline/figure when less is better (seconds, MiB)."""
        ratio = baseline / figure if lower_is_better else figure / baseline
        return cls(name=name, figure=figure, baseline=baseline, unit=unit, ratio=ratio, target=target, notes=notes)

    @property
    def met(self) -> bool | None:
        return None if self.target is None else self.ratio >= self.target


def emit(result: Result) -> None:
    """Print the human line and the machine line ``make bench`` reads."""
    verdict = (
        "no target" if result.met is None else f"(target ≥ {result.target:.2f}) " + ("MET" if result.met else "NOT MET")
    )
    print(
        f"{result.name}: {result.figure:,.1f} {result.unit} vs raw {result.baseline:,.1f} {result.unit} "
        f"→ ratio {result.ratio:.2f} {verdict}" + (f" — {result.notes}" if result.notes else ""),
        flush=True,
    )
    print(RESULT_PREFIX + json.dumps({**asdict(result), "met": result.met}, ensure_ascii=False), flush=True)


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def peak_rss_mb() -> float:
    """Peak resident memory of this process, in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@contextmanager
def children_peak_rss() -> Iterator[list[float]]:
    """Sample, every tenth of a second while the block runs, the resident memory of this
    process's children (their sum, in MiB); yields a list whose one item becomes the
    highest sample. (``RUSAGE_CHILDREN`` would also count children from before the block.)"""
    import psutil

    peak = [0.0]
    done = threading.Event()

    def sample() -> None:
        me = psutil.Process()
        while not done.wait(0.1):
            peak[0] = max(peak[0], sum(tree_rss_mb(c.pid, measure="rss") for c in me.children()))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield peak
    finally:
        done.set()
        sampler.join()


def tree_rss_mb(pid: int, *, children: bool = True, measure: str = "pss") -> float:
    """Memory of a process and (unless told not to) its children, as they are now, in
    MiB; 0 when the process is gone. ``measure``:

    - ``pss`` (default): each process counts its proportional share of the pages it
      shares. Summing RSS over a tree counts shared memory once per process that touched
      it — PostgreSQL's shared buffers once per backend, gunicorn's preloaded code once per
      worker;
    - ``uss``: only the pages no other process shares, which is where a leak shows;
    - ``rss``: every resident page, for one process on its own whose share would swing
      with the children it forks (an RQ worker and its work horse share the parent's
      pages while a job runs).

    Where the system cannot tell PSS or USS, RSS is counted."""
    import psutil

    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)] if children else [root]
    except psutil.Error:
        return 0.0
    total = 0
    for p in procs:
        try:
            total += _memory(p, measure)
        except psutil.Error:
            continue
    return total / 2**20


def _memory(p: Any, measure: str) -> int:
    import psutil

    if measure != "rss":
        try:
            return getattr(p.memory_full_info(), measure)
        except (AttributeError, psutil.AccessDenied):
            pass
    return p.memory_info().rss


@contextmanager
def scratch_instance(database_url: str | None = None) -> Iterator[dict[str, Any]]:
    """A throwaway instance folder (and SQLite database unless ``database_url`` is given)
    with the schema migrated; yields the settings. ``BENCH_REDIS_URL`` names a Redis
    database the benchmark empties first (jobs left by an earlier run would share ids
    with this one's); without it the broker's own embedded Redis is used."""
    from broker import boot
    from broker.platform import migrate

    with tempfile.TemporaryDirectory(prefix="aidbroker-bench-") as folder:
        override = {
            "INSTANCE_PATH": folder,
            "DATABASE_URL": database_url or f"sqlite:///{folder}/bench.sqlite3",
            "REDIS_URL": os.environ.get("BENCH_REDIS_URL") or None,
        }
        settings = boot.init(override)
        if override["REDIS_URL"]:
            from broker.platform import queue

            queue.connection().flushdb()
        migrate.upgrade()
        yield settings


def ensure_database(url: str) -> bool:
    """Create a benchmark's own PostgreSQL database when it does not exist yet. False
    when no PostgreSQL answers at that address."""
    import psycopg
    from sqlalchemy.engine import make_url

    u = make_url(url)
    dsn = f"host={u.host or '127.0.0.1'} port={u.port or 5432} user={u.username or 'postgres'} dbname=postgres"
    if u.password:
        dsn += f" password={u.password}"
    try:
        with psycopg.connect(dsn, autocommit=True, connect_timeout=3) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (u.database,)).fetchone():
                conn.execute(f'CREATE DATABASE "{u.database}"')
    except psycopg.OperationalError:
        return False
    return True


def default_databases(pg_url: str) -> list[str]:
    """What a benchmark measures when not given a database: ``sqlite``, then ``pg_url``
    (created when missing) when a PostgreSQL server answers there."""
    return ["sqlite", *([pg_url] if ensure_database(pg_url) else [])]


def empty_schema(url: str) -> None:
    """Drop and recreate the public schema of a benchmark's own PostgreSQL database, so
    that a run starts from nothing (every table, sequence and trigger gone)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@dataclass
class Grid:
    """A benchmark's grid with its admin and caseworker (principals) and households."""

    admin: Any
    caseworker: Any
    households: list[int]


def grid_with_households(code: str, password: str, n: int) -> Grid:
    """An admin, a grid ``code``, its caseworker and ``n`` one-person households, made
    through the broker's own functions in the current session (not committed)."""
    from broker.people import users
    from broker.platform import actor, db
    from broker.registry import grids, households
    from broker.registry.household_schema import load_household

    session = db.session()
    actor.set_actor("system:bench")
    admin = users.principal_of(users.create_user(session, username="admin", password=password, role="admin"))
    grid = {"code": code, "name": "基准网格", "district": "海淀区", "street": "中关村街道", "community": "基准社区"}
    grids.create_grid(session, admin, grid)
    caseworker = users.principal_of(
        users.create_user(session, username="caseworker", password=password, role="caseworker", grid_codes=[code])
    )
    ids = []
    for i in range(n):
        data = load_household(
            {
                "grid": code,
                "address": f"海淀区中关村东路{i + 1}号",
                "monthly_income_fen": 100000,
                "members": [{"name": f"户主{i}", "relation": "head", "birth_date": "1980-01-01", "sex": "M"}],
            }
        )
        ids.append(households.create_household(session, caseworker, data).id)
    return Grid(admin, caseworker, ids)
