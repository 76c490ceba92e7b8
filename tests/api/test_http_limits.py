"""Oversized and malformed requests against the real web server, started as production
starts it (``gunicorn -c config/gunicorn.py``): a header too large is the API's 431 in
the error envelope naming the header; what gunicorn must refuse itself (headers beyond
its own limit, too many of them, a request line too long, a request that is not HTTP)
is answered in the same envelope, never gunicorn's HTML page."""

from __future__ import annotations

import json
import secrets
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet

from tests.support.servers import VENV_BIN, Process, RedisServer, app_env, free_port, wait_http

API = "/api/v1"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder: Path = tmp_path_factory.mktemp("gunicorn")
    redis = RedisServer().start()
    settings = {
        "DATABASE_URL": f"sqlite:///{folder / 'web.sqlite3'}",
        "REDIS_URL": redis.url,
        "INSTANCE_PATH": str(folder),
        "SECRET_KEY": secrets.token_urlsafe(32),
        "DATA_KEY": Fernet.generate_key().decode(),
    }
    port = free_port()
    args = [str(VENV_BIN / "gunicorn"), "-c", "config/gunicorn.py", "--workers", "1"]
    web = Process([*args, "--bind", f"127.0.0.1:{port}", "app:app"], app_env(settings), folder / "web.log")
    web.start()
    try:
        wait_http(f"http://127.0.0.1:{port}{API}/openapi.json", timeout=90)
        yield f"http://127.0.0.1:{port}"
    finally:
        web.stop()
        redis.close()


def _envelope(resp: httpx.Response, status: int, code: str) -> dict:
    assert resp.status_code == status, resp.text[:300]
    assert resp.headers["content-type"].startswith("application/json"), resp.text[:300]
    error = resp.json()["error"]
    assert set(error) == {"code", "message", "details"}
    assert error["code"] == code
    assert error["message"]
    return error


def _raw(base: str, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send bytes as they are (no client library tidying them) and read the answer."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    return int(lines[0].split()[1]), {k.lower(): v for k, v in headers.items()}, body


def test_a_20_kb_header_is_the_apis_431_naming_it(server):
    """A 20 kB header passes gunicorn and is refused by the app, in the envelope, with the
    header's name and the limit in the message."""
    resp = httpx.get(f"{server}{API}/grids", headers={"X-Big": "a" * 20_000}, timeout=30)
    error = _envelope(resp, 431, "headers_too_large")
    assert "X-Big" in error["message"]
    assert "8192" in error["message"]
    assert httpx.get(f"{server}{API}/openapi.json", timeout=30).status_code == 200  # the worker is fine


def test_headers_beyond_the_servers_own_limit_are_json_too(server):
    """Beyond what even gunicorn reads (32 kB a header, 100 headers) gunicorn answers
    itself — in the same envelope."""
    _envelope(httpx.get(f"{server}{API}/grids", headers={"X-Huge": "a" * 40_000}, timeout=30), 431, "headers_too_large")
    many = {f"X-H{i}": "x" for i in range(150)}
    _envelope(httpx.get(f"{server}{API}/grids", headers=many, timeout=30), 431, "headers_too_large")


def test_a_request_line_too_long_and_a_broken_request_are_json(server):
    """A 9 kB address is a 414, and bytes that are not HTTP a 400 — both in the envelope."""
    status, headers, body = _raw(server, b"GET " + b"/api/v1/grids?q=" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    assert status == 414
    assert headers["content-type"] == "application/json"
    assert json.loads(body)["error"]["code"] == "uri_too_long"
    status, headers, body = _raw(server, b"NOT HTTP AT ALL\r\n\r\n")
    assert status == 400
    assert headers["content-type"] == "application/json"
    assert json.loads(body)["error"]["code"] == "bad_request"
