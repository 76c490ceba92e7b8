"""Servers of a test's (or a benchmark's) own: a Redis, a PostgreSQL cluster, RQ workers
and a web server, each started in a temporary folder on its own port, and stopped,
killed or restarted at will. Fault tests use these, never the machine's shared services."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

VENV_BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise TimeoutError(f"{what} did not come up within {timeout}s")


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


class RedisServer:
    """A ``redis-server`` on a private port (noeviction, as RQ needs). It persists nothing,
    unless ``persist``: then it saves on shutdown and reloads on start, as a restarted
    production Redis would."""

    def __init__(self, *, persist: bool = False) -> None:
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="aidbroker-redis-")
        self.persist = persist
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--port", str(self.port),
                "--bind", "127.0.0.1",
                "--save", "",
                "--appendonly", "no",
                "--maxmemory-policy", "noeviction",
                "--dir", self.dir,
                "--dbfilename", "dump.rdb",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        _wait(self._answers, 10, "redis-server")
        return self

    def _answers(self) -> bool:
        import redis

        try:
            return bool(redis.Redis(port=self.port, socket_connect_timeout=1).ping())
        except (redis.RedisError, OSError):
            return False

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            if self.persist:
                import redis

                with contextlib.suppress(redis.RedisError):
                    redis.Redis(port=self.port, socket_connect_timeout=1).shutdown(save=True)
            else:
                self.proc.terminate()
            self.proc.wait(10)
        self.proc = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


@contextlib.contextmanager
def queue_on_own_redis(*, persist: bool = False) -> Iterator[RedisServer]:
    """The app's queue pointed at a Redis of the caller's own, which it may stop and
    start; the suite's Redis is put back afterwards."""
    from broker.platform import queue

    server = RedisServer(persist=persist).start()
    shared_url = queue.url()
    queue.configure(server.url)
    try:
        yield server
    finally:
        queue.configure(shared_url)
        server.close()


def _pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else name


def pg_available() -> bool:
    return bool(shutil.which("initdb") or glob.glob("/usr/lib/postgresql/*/bin/initdb"))


class PostgresCluster:
    """A PostgreSQL cluster made with ``initdb`` in a temporary folder, on its own port.
    PostgreSQL refuses to run as root, so as root the cluster runs as ``postgres``."""

    def __init__(self) -> None:
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="aidbroker-pg-"))
        self.data = self.dir / "data"
        self._as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self._as:
            shutil.chown(self.dir, "postgres")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str) -> None:
        subprocess.run([*self._as, *args], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def init(self) -> PostgresCluster:
        self._run(_pg_bin("initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        return self

    def start(self) -> PostgresCluster:
        opts = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
        self._run(_pg_bin("pg_ctl"), "-D", str(self.data), "-o", opts, "-l", str(self.dir / "log"), "-w", "start")
        return self

    def stop(self, mode: str = "fast") -> None:
        self._run(_pg_bin("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def restart(self) -> None:
        self.stop()
        self.start()

    def create_database(self, name: str) -> str:
        self._run(_pg_bin("createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name)
        return self.url(name)

    def close(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)


def app_env(settings: dict, **extra: str) -> dict[str, str]:
    """The environment that makes a child process (worker, web server) use the same
    database, Redis, instance folder and keys as ``settings``."""
    env = dict(os.environ)
    for key in ("DATABASE_URL", "REDIS_URL", "INSTANCE_PATH", "SECRET_KEY", "DATA_KEY"):
        env[key] = str(settings[key])
    env.update(extra)
    return env


class Process:
    """A child process in its own session, so that it and its children die together."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path | None = None) -> None:
        self.args, self.env, self.log = args, env, log
        self.proc: subprocess.Popen | None = None

    def start(self) -> Process:
        out = open(self.log, "ab") if self.log else subprocess.DEVNULL  # noqa: SIM115 - closed with the process
        self.proc = subprocess.Popen(
            self.args,
            env=self.env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=Path(__file__).resolve().parents[2],
        )
        return self

    def kill(self) -> None:
        """SIGKILL the whole process group: no clean-up, as a crash would."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self, timeout: float = 15) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()


def rq_worker(settings: dict, log: Path | None = None, *, burst: bool = False, name: str | None = None) -> Process:
    args = [
        str(VENV_BIN / "rq"),
        "worker",
        "--with-scheduler",
        "--worker-class",
        "broker.worker.Worker",
        "--url",
        settings["REDIS_URL"],
    ]
    if burst:
        args.append("--burst")
    if name:
        args += ["--name", name]
    return Process([*args, "default", "deliveries"], app_env(settings), log)


def web_server(settings: dict, port: int, workers: int = 2, log: Path | None = None) -> Process:
    args = [
        str(VENV_BIN / "gunicorn"),
        "--workers",
        str(workers),
        "--bind",
        f"127.0.0.1:{port}",
        "--timeout",
        "60",
        "--config",
        str(ROOT / "config" / "gunicorn.py"),
        "app:app",
    ]
    return Process(args, app_env(settings), log)


def wait_http(url: str, timeout: float = 30) -> None:
    import httpx

    def ok() -> bool:
        try:
            return httpx.get(url, timeout=1).status_code < 500
        except httpx.HTTPError:
            return False

    _wait(ok, timeout, url)
