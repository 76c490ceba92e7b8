"""Local receivers for notifications: an SMTP server (aiosmtpd) that keeps every message
it is sent, and an HTTP server standing in for the WeCom and DingTalk robot hosts, that
keeps every post and answers with the statuses it is told to."""

from __future__ import annotations

import json
import threading
from collections import defaultdict, deque
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from aiosmtpd.controller import Controller

from tests.support.servers import free_port


class MailServer:
    """An SMTP server on 127.0.0.1; ``messages`` are the parsed emails received."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"

    @property
    def url(self) -> str:
        """The broker's ``NOTIFY_SMTP_URL`` for this server (plain SMTP, no sign-in)."""
        return f"mailto://127.0.0.1:{self.port}?from=aid@example.org"

    def __enter__(self) -> MailServer:
        self.controller.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.controller.stop()


def text_of(message: EmailMessage) -> str:
    """The plain-text body of an email."""
    part = message.get_body(preferencelist=("plain",))
    return part.get_content() if part is not None else ""


class RobotServer:
    """Stands in for the robots' hosts: ``/wecom?key=…`` and ``/dingtalk?access_token=…``.
    ``posts[path]`` holds each post's query and JSON body; ``statuses[path]`` are answered
    in turn (then 200)."""

    def __init__(self) -> None:
        self.posts: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.statuses: dict[str, deque[int]] = defaultdict(deque)
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                parts = urlsplit(self.path)
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                server.posts[parts.path].append({"query": query, "json": json.loads(body or b"{}")})
                queued = server.statuses[parts.path]
                status = queued.popleft() if queued else 200
                reply = b'{"errcode":0,"errmsg":"ok"}'
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *_args: Any) -> None:
                return None

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def settings(self) -> dict[str, str]:
        """The broker's robot settings pointed here."""
        return {
            "WECOM_ROBOT_URL": f"{self.base}/wecom?key={{key}}",
            "DINGTALK_ROBOT_URL": f"{self.base}/dingtalk?access_token={{token}}",
        }

    def __enter__(self) -> RobotServer:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


class SmsGateway:
    """Stands in for an SMSEagle SMS gateway (``/jsonrpc/sms``): keeps each message sent
    (``sent``: ``{"to", "message"}``) and answers as the gateway does; ``statuses`` are
    answered in turn (then 200)."""

    TOKEN = "smsgatewaytoken01"

    def __init__(self) -> None:
        self.sent: list[dict[str, str]] = []
        self.statuses: deque[int] = deque()
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("content-length") or 0)) or b"{}")
                status = gateway.statuses.popleft() if gateway.statuses else 200
                params = body.get("params") or {}
                if status == 200 and params.get("access_token") == gateway.TOKEN:
                    gateway.sent.append({"to": params.get("to", ""), "message": params.get("message", "")})
                    reply = json.dumps({"result": {"message_id": len(gateway.sent), "status": "ok"}}).encode()
                else:
                    reply = b'{"result": {"status": "error"}}'
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *_args: Any) -> None:
                return None

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """The broker's ``SMS_GATEWAY_URL`` for this gateway (plain HTTP)."""
        return f"smseagle://{self.TOKEN}@127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> SmsGateway:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)
