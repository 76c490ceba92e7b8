"""``make run``: migrate, seed the demo into an empty database, then run the web server,
an RQ worker (with RQ's scheduler) and RQ's cron scheduler until Ctrl-C, and stop them
all cleanly. ``PORT``, ``INSTANCE_PATH``, ``DATABASE_URL``, ``REDIS_URL`` and ``DEMO=0``
are honoured."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from broker import migrate, queue, runtime


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


def main() -> int:
    settings = runtime.init(start_redis=True)
    env = dict(os.environ)
    env["REDIS_URL"] = settings["REDIS_URL"]
    env["INSTANCE_PATH"] = settings["INSTANCE_PATH"]
    env["DATABASE_URL"] = settings["DATABASE_URL"]
    # make run serves plain HTTP on the loopback address: a Secure-only session cookie
    # would not be sent back by every browser. Production sets it behind HTTPS.
    env.setdefault("SESSION_COOKIE_SECURE", "0")
    migrate.upgrade()
    logins: list[tuple[str, str, str]] = []
    if os.environ.get("DEMO", "1") != "0":
        from broker import seed

        logins = seed.seed_demo_if_empty()
    port = settings["PORT"]
    bindir = os.path.dirname(sys.executable)
    commands = [
        [
            f"{bindir}/gunicorn",
            "--config",
            "config/gunicorn.py",
            "--workers",
            os.environ.get("WEB_WORKERS", "2"),
            "--bind",
            f"127.0.0.1:{port}",
            "--access-logfile",
            "-",
            "app:app",
        ],
        [
            f"{bindir}/rq",
            "worker",
            "--with-scheduler",
            "--worker-class",
            "broker.worker.Worker",
            "--url",
            env["REDIS_URL"],
            "default",
            "deliveries",
        ],
        [f"{bindir}/rq", "cron", "--url", env["REDIS_URL"], "broker.cron"],
    ]
    procs = [subprocess.Popen(cmd, env=env, start_new_session=True) for cmd in commands]
    _banner(port, logins)
    stopping = False

    def stop(*_args: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    code = 0
    while not stopping:
        for p in procs:
            if p.poll() is not None:
                print(f"\n  {p.args[0]} exited with {p.returncode}; stopping the rest.", file=sys.stderr)
                stopping, code = True, 1
        time.sleep(0.3)
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 15
    for p in procs:
        try:
            p.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
    queue.stop_embedded()
    print("  stopped.")
    return code


if __name__ == "__main__":
    sys.exit(main())
