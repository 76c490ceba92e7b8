"""``make run``: migrate, seed the demo into an empty database, then run the web server,
an RQ worker (with RQ's scheduler) and RQ's cron scheduler until Ctrl-C, and stop them
all — and the embedded Redis — however the run ends, also when start-up fails half-way.
``PORT``, ``INSTANCE_PATH``, ``DATABASE_URL``, ``REDIS_URL``, ``WEB_WORKERS`` and
``DEMO=0`` are honoured."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from typing import Any

import httpx
import psutil

from broker import boot
from broker.platform import db, logs, migrate, outbox_relay, queue

STOP_GRACE_SECONDS = 10.0  # what the children get to finish their work after Ctrl-C
TICK_SECONDS = 0.3
UNHEALTHY_AFTER_SECONDS = 60.0  # then the launcher says what /healthz answers instead


class _Signals:
    """SIGINT and SIGTERM stop the run. While a child is being started the stop waits
    until the child is on the list (so that it is stopped too); once stopping, another
    Ctrl-C cuts the grace short instead of abandoning the children."""

    def __init__(self) -> None:
        self.requested = False
        self.deferred = False
        self.hurry = False
        self.stopping = False
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._on_signal)

    def _on_signal(self, *_args: object) -> None:
        if self.stopping:
            self.hurry = True
            return
        self.requested = True
        if not self.deferred:
            raise KeyboardInterrupt

    @contextlib.contextmanager
    def deferring(self) -> Any:
        self.deferred = True
        try:
            yield
        finally:
            self.deferred = False
        if self.requested:
            raise KeyboardInterrupt


def _banner(port: int, logins: list[tuple[str, str, str]]) -> None:
    print("\n  aidbroker is running:")
    print(f"    portal    http://127.0.0.1:{port}/")
    print(f"    API docs  http://127.0.0.1:{port}/api/v1/docs")
    print(f"    health    http://127.0.0.1:{port}/healthz")
    if logins:
        print("  demo logins (username / password / role):")
        for username, password, role in logins:
            print(f"    {username:<14} {password:<14} {role}")
    print("  Ctrl-C stops everything.\n", flush=True)


def _commands(settings: dict[str, Any]) -> list[list[str]]:
    bindir = os.path.dirname(sys.executable)
    url = settings["REDIS_URL"]
    web = [f"{bindir}/gunicorn", "--workers", os.environ.get("WEB_WORKERS", "2")]
    web += ["--bind", f"127.0.0.1:{settings['PORT']}", "--access-logfile", "-"]
    # Start-up chatter off (the banner says where it listens); no control socket, whose
    # one default path every gunicorn of this user would share.
    web += ["--log-level", "warning", "--no-control-socket", "--config", "config/gunicorn.py", "app:app"]
    # RQ's own lines for every job (several per cron tick) off: the jobs log what they did.
    worker = [f"{bindir}/rq", "worker", "--quiet", "--with-scheduler", "--worker-class", "broker.worker.Worker"]
    worker += ["--url", url, "default", "deliveries"]
    cron = [sys.executable, "-m", "broker.scheduler", "--logging-level", "WARNING", "--url", url]
    return [web, worker, cron]


def _prepare(signals: _Signals) -> list[tuple[str, str, str]]:
    """Migrate and seed; return the demo logins (none with ``DEMO=0``). Ends by giving
    back every database connection: the children must find no transaction of ours open
    and SQLite's writer lock free."""
    try:
        with signals.deferring():  # SQLite's DDL is not transactional: no half a migration
            migrate.upgrade()
        if os.environ.get("DEMO", "1") == "0":
            return []
        from broker.cli import demo as seed

        # The demo's routing goes to RQ as it commits, for the worker to take at once.
        outbox_relay.relay_after_commit()

        return seed.seed_demo_if_empty().logins
    finally:
        db.session.remove()
        db.engine().dispose()


def _health(port: int) -> str | None:
    """``"ok"``, what /healthz said instead, or None while nothing listens yet. Asks
    only once the port accepts (a request waits in gunicorn's backlog until a worker has
    booted), so that the log shows one health check, not one per tick."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return None
    try:
        resp = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=15)
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}: {exc}"
    return "ok" if resp.status_code == 200 else f"{resp.status_code} {resp.text.strip()}"


def _supervise(children: list[subprocess.Popen], port: int, logins: list[tuple[str, str, str]]) -> int:
    """Print the banner once the broker answers healthy (or say, once, what it answers
    instead if that takes long); return 1 as soon as a child exits (the rest are then
    stopped). Ctrl-C arrives as KeyboardInterrupt."""
    started = time.monotonic()
    next_check, complained = started, False
    while True:
        for child in children:
            if child.poll() is not None:
                print(f"\n  {child.args[0]} exited with {child.returncode}; stopping the rest.", file=sys.stderr)
                return 1
        if next_check is not None and time.monotonic() >= next_check:
            health = _health(port)
            if health == "ok":
                _banner(port, logins)
                next_check = None
            else:
                # Not up yet: ask again soon while it boots, then every few seconds.
                waited = time.monotonic() - started
                soon = TICK_SECONDS if health is None else 1.0
                next_check = time.monotonic() + (soon if waited < 30 else 5.0)
                if health is not None and waited > UNHEALTHY_AFTER_SECONDS and not complained:
                    print(f"  not healthy yet: {health}", file=sys.stderr, flush=True)
                    complained = True
        time.sleep(TICK_SECONDS)


def _family(children: list[subprocess.Popen]) -> list[psutil.Process]:
    """The children and everything they started (gunicorn's workers, RQ's work horses and
    scheduler — a horse leads a process group of its own, so a group signal misses it)."""
    found: list[psutil.Process] = []
    for child in children:
        with contextlib.suppress(psutil.NoSuchProcess):
            proc = psutil.Process(child.pid)
            found += [proc, *proc.children(recursive=True)]
    return found


def _stop(children: list[subprocess.Popen], signals: _Signals) -> None:
    """SIGTERM each child (gunicorn and RQ finish what they are doing), wait out the
    grace, then kill whatever of theirs is left."""
    family = _family(children)
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    while any(c.poll() is None for c in children) and time.monotonic() < deadline and not signals.hurry:
        time.sleep(0.1)
    family += _family(children)
    for child in children:
        if child.poll() is None:  # not yet reaped: its process group is still ours
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGKILL)
    for proc in family:
        with contextlib.suppress(psutil.NoSuchProcess):
            proc.kill()
    psutil.wait_procs(family, timeout=5)
    for child in children:
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.wait(timeout=5)


def main() -> int:
    logs.configure()
    signals = _Signals()
    children: list[subprocess.Popen] = []
    code = 0
    try:
        with signals.deferring():  # an embedded Redis started is an embedded Redis recorded
            settings = boot.init(start_redis=True)
        env = dict(os.environ)
        for key in ("REDIS_URL", "INSTANCE_PATH", "DATABASE_URL"):
            env[key] = settings[key]
        # make run serves plain HTTP on the loopback address: a Secure-only session cookie
        # would not be sent back by every browser. Production sets it behind HTTPS.
        env.setdefault("SESSION_COOKIE_SECURE", "0")
        print("  preparing the database…", flush=True)
        logins = _prepare(signals)
        for command in _commands(settings):
            with signals.deferring():
                children.append(subprocess.Popen(command, env=env, start_new_session=True))
        code = _supervise(children, settings["PORT"], logins)
    except KeyboardInterrupt:
        code = 0
    finally:
        signals.stopping = True
        try:
            _stop(children, signals)
        finally:
            queue.stop_embedded()
            print("  stopped.", flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
