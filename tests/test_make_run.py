"""``make run``'s launcher from an empty instance folder: migrates, seeds the demo,
serves /healthz and the portal, prints the URL and the demo logins, and stops every
process it started on Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import httpx
import psutil

from tests.servers import free_port, wait_http


def test_make_run_serves_and_stops_cleanly(tmp_path):
    """The launcher answers /healthz with 200, has seeded the demo, and leaves no
    process behind after SIGINT."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "TEST_DATABASE_URL")}
    env.update({"INSTANCE_PATH": str(tmp_path / "instance"), "PORT": str(port), "WEB_WORKERS": "1"})
    log = tmp_path / "run.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "broker.run"], env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz", timeout=120)
        health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10)
        assert health.status_code == 200
        assert health.json()["ok"] is True
        login = httpx.post(
            f"http://127.0.0.1:{port}/api/v1/auth/token",
            json={"username": "caseworker", "password": "demo-pass-2026"},
            timeout=10,
        )
        assert login.status_code == 200, login.text
        children = psutil.Process(proc.pid).children(recursive=True)
        assert len(children) >= 3  # web, worker, cron (and their own children)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(60)
    printed = log.read_text()
    assert f"http://127.0.0.1:{port}/" in printed
    assert "caseworker" in printed
    assert "demo-pass-2026" in printed
    assert "stopped." in printed
    assert not [c for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]
