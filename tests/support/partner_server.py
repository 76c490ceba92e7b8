"""A partner's own system for tests: a real local HTTP server that receives the broker's
webhooks and checks each Standard Webhooks signature before accepting it."""

from __future__ import annotations

import base64
import json
import os
import threading
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError


def new_secret() -> str:
    return "whsec_" + base64.b64encode(os.urandom(32)).decode()


class PartnerServer:
    """Listens on 127.0.0.1; answers ``statuses`` in turn (then 204) to well-signed
    webhooks, and 401 to any whose signature does not verify. With ``hold_first`` the
    first webhook is kept waiting (``arrived`` is set) until ``release`` is set."""

    def __init__(
        self, secret: str | None = None, statuses: list[int] | None = None, *, hold_first: bool = False
    ) -> None:
        self.secret = secret or new_secret()
        self.statuses = deque(statuses or [])
        self.hold_first = hold_first
        self.arrived = threading.Event()
        self.release = threading.Event()
        self.events: list[dict[str, Any]] = []
        self.rejected: list[str] = []
        self.calls = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                headers = {k.lower(): v for k, v in self.headers.items()}
                server.calls += 1
                try:
                    Webhook(server.secret).verify(body, headers)
                except WebhookVerificationError as exc:
                    server.rejected.append(str(exc))
                    self.send_response(401)
                    self.end_headers()
                    return
                if server.hold_first and not server.arrived.is_set():
                    server.arrived.set()
                    server.release.wait(timeout=60)
                status = server.statuses.popleft() if server.statuses else 204
                if status < 300:
                    server.events.append({"id": headers["webhook-id"], **json.loads(body)})
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                return None

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/aid/webhooks"

    def __enter__(self) -> PartnerServer:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)
