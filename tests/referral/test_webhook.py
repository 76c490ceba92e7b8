"""The webhook adapter against a real local HTTP server: signatures a partner verifies
with the Standard Webhooks library, stable ids across retries, outcomes classified
(2xx delivered; 408/429/5xx/timeouts/refused transient; other 4xx permanent), and the
circuit breaker in Redis, shared by separate processes."""

from __future__ import annotations

import base64
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import redis
from standardwebhooks import Webhook

from adapters.base import (
    Context,
    DeliveryDeferred,
    OfferInfo,
    PartnerInfo,
    PermanentDeliveryError,
    TransientDeliveryError,
)
from adapters.webhook import Breaker, WebhookAdapter
from broker.platform import adapter_registry, queue
from broker.platform.errors import Invalid
from tests.conftest import wait_for

ROOT = Path(__file__).resolve().parents[2]
SECRET = "whsec_" + base64.b64encode(b"partner-signing-key-of-32-bytes!").decode()


class PartnerEndpoint:
    """A partner's webhook receiver on 127.0.0.1: records what arrives, answers as told."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.status = 200
        self.delay = 0.0
        self.release = threading.Event()
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                endpoint.requests.append({"headers": dict(self.headers.items()), "body": body})
                if endpoint.delay:
                    endpoint.release.wait(endpoint.delay)
                self.send_response(endpoint.status)
                self.send_header("content-type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"ok": true}')

            def log_message(self, *args) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/aidbroker"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def endpoint() -> Iterator[PartnerEndpoint]:
    server = PartnerEndpoint()
    yield server
    server.close()


def offer(offer_id: int = 41) -> OfferInfo:
    return OfferInfo(
        id=offer_id,
        request_id=17,
        category="medical",
        urgency="high",
        amount_fen=3_000_000,
        respond_by=datetime(2026, 12, 2, 9, 30, tzinfo=UTC),
        community="科源社区",
        description="患儿急性淋巴细胞白血病，外地住院，医疗费缺口三万元。",
        household_label="张** household",
        partner_id=5,
    )


def partner(url: str, partner_id: int = 5, **config) -> PartnerInfo:
    return PartnerInfo(
        id=partner_id,
        name="海淀区慈善总会",
        kind="charity",
        config={"url": url, "secret": SECRET, **config},
        available_fen=10_000_000,
    )


def ctx(conn=None, *, threshold: int = 3, cooldown: float = 60, timeout: float = 5.0) -> Context:
    return Context(
        attempt=1,
        timeout_seconds=timeout,
        redis=conn,
        settings={"BREAKER_THRESHOLD": threshold, "BREAKER_COOLDOWN_SECONDS": cooldown},
    )


def test_delivery_is_signed_per_standard_webhooks(endpoint):
    """The partner verifies the POST with standardwebhooks and finds the offer, JSON-safe, inside."""
    adapter = adapter_registry.get("webhook")
    result = adapter.deliver(offer(), partner(endpoint.url), ctx(queue.connection()))
    assert result.outcome == "delivered"
    assert result.details["status_code"] == 200
    [req] = endpoint.requests
    payload = Webhook(SECRET).verify(req["body"], req["headers"])
    assert payload["type"] == "offer.created"
    assert payload["offer"]["id"] == 41
    assert payload["offer"]["respond_by"] == "2026-12-02T09:30:00Z"
    assert payload["offer"]["description"].startswith("患儿急性淋巴细胞白血病")
    assert payload["offer"]["household_label"] == "张** household"
    assert req["headers"]["webhook-signature"].startswith("v1,")
    assert req["headers"]["content-type"] == "application/json"
    with pytest.raises(Exception, match="signature"):
        Webhook("whsec_" + base64.b64encode(b"someone-else-entirely-32-bytes!!").decode()).verify(
            req["body"], req["headers"]
        )


def test_retries_carry_the_same_webhook_id_and_withdrawal_its_own(endpoint):
    """Every retry of one event has the same webhook-id (partners de-duplicate); a withdrawal is a new event."""
    adapter = WebhookAdapter()
    info = partner(endpoint.url)
    adapter.deliver(offer(), info, ctx())
    adapter.deliver(offer(), info, ctx())
    adapter.withdraw(offer(), info, ctx(), "expired")
    adapter.deliver(offer(42), info, ctx())
    ids = [r["headers"]["webhook-id"] for r in endpoint.requests]
    assert ids[0] == ids[1]
    assert len({ids[0], ids[2], ids[3]}) == 3
    withdrawn = Webhook(SECRET).verify(endpoint.requests[2]["body"], endpoint.requests[2]["headers"])
    assert (withdrawn["type"], withdrawn["reason"], withdrawn["offer"]["id"]) == ("offer.withdrawn", "expired", 41)


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (500, TransientDeliveryError),
        (502, TransientDeliveryError),
        (503, TransientDeliveryError),
        (408, TransientDeliveryError),
        (429, TransientDeliveryError),
        (400, PermanentDeliveryError),
        (401, PermanentDeliveryError),
        (404, PermanentDeliveryError),
        (410, PermanentDeliveryError),
        (301, PermanentDeliveryError),
    ],
)
def test_answers_are_classified(endpoint, status, error):
    """408/429/5xx are worth retrying; any other non-2xx answer is permanent."""
    endpoint.status = status
    with pytest.raises(error, match=str(status)):
        WebhookAdapter().deliver(offer(), partner(endpoint.url), ctx())
    assert len(endpoint.requests) == 1


def test_a_slow_partner_times_out_as_transient(endpoint):
    """An answer slower than the timeout is a transient failure (the broker retries later)."""
    endpoint.delay = 30
    with pytest.raises(TransientDeliveryError, match=r"did not answer within 0\.3s"):
        WebhookAdapter().deliver(offer(), partner(endpoint.url), ctx(timeout=0.3))


def test_partner_timeout_setting_overrides_the_default(endpoint):
    """A partner's own timeout_seconds is the one used."""
    endpoint.delay = 30
    with pytest.raises(TransientDeliveryError, match=r"within 0\.5s"):
        WebhookAdapter().deliver(offer(), partner(endpoint.url, timeout_seconds=0.5), ctx(timeout=5))


def test_connection_refused_is_transient(endpoint):
    """A partner whose server is down is a transient failure."""
    url = endpoint.url
    endpoint.close()
    with pytest.raises(TransientDeliveryError, match="Could not reach"):
        WebhookAdapter().deliver(offer(), partner(url), ctx())


def test_breaker_opens_after_threshold_and_stops_calling(endpoint):
    """After N consecutive failures the breaker opens: deliveries fail fast without reaching the partner."""
    conn = queue.connection()
    endpoint.status = 503
    adapter = WebhookAdapter()
    info = partner(endpoint.url)
    for _ in range(3):
        with pytest.raises(TransientDeliveryError, match="503"):
            adapter.deliver(offer(), info, ctx(conn, threshold=3))
    endpoint.status = 200
    with pytest.raises(DeliveryDeferred, match="circuit breaker") as deferred:
        adapter.deliver(offer(), info, ctx(conn, threshold=3))
    assert len(endpoint.requests) == 3
    assert 0 < deferred.value.retry_after_seconds <= 60, "deferred until the cooldown ends"
    other = partner(endpoint.url, partner_id=6)
    assert adapter.deliver(offer(), other, ctx(conn, threshold=3)).outcome == "delivered"


def test_breaker_half_opens_for_one_trial_and_success_closes_it(endpoint):
    """After the cooldown exactly one trial call goes through; its success closes the breaker."""
    conn = queue.connection()
    breaker = Breaker(conn, 5, threshold=2, cooldown_seconds=0.2)
    for _ in range(2):
        breaker.failure()
    assert breaker.allow(probe_seconds=5) == "open"
    wait_for(lambda: breaker.state() == "half_open", timeout=10)
    assert breaker.allow(probe_seconds=5) == "half_open"
    assert breaker.allow(probe_seconds=5) == "open"  # only one trial at a time
    assert 1 <= breaker.reopens_in() <= 5, "the others wait for the trial call, at most its budget"
    breaker.success()
    assert breaker.allow(probe_seconds=5) == "closed"
    assert breaker.state() == "closed"


def test_a_failed_trial_opens_the_breaker_again(endpoint):
    """A half-open trial that fails re-opens the breaker for another cooldown."""
    conn = queue.connection()
    endpoint.status = 500
    adapter = WebhookAdapter()
    info = partner(endpoint.url)
    context = ctx(conn, threshold=1, cooldown=0.2)
    with pytest.raises(TransientDeliveryError, match="500"):
        adapter.deliver(offer(), info, context)
    breaker = adapter.breaker(info, context)
    assert breaker.state() == "open"
    wait_for(lambda: breaker.state() == "half_open", timeout=10)
    with pytest.raises(TransientDeliveryError, match="500"):
        adapter.deliver(offer(), info, context)
    assert breaker.state() == "open"
    assert len(endpoint.requests) == 2


def test_breaker_state_is_shared_across_processes(endpoint):
    """Failures counted in another process, on its own Redis connection, open the breaker here too."""
    url = queue._state["url"]
    mine = redis.Redis.from_url(url)
    endpoint.status = 500
    adapter = WebhookAdapter()
    info = partner(endpoint.url, partner_id=77)
    for _ in range(2):
        with pytest.raises(TransientDeliveryError):
            adapter.deliver(offer(), info, ctx(mine, threshold=3))
    script = f"""
import redis
from adapters.base import Context, PartnerInfo, TransientDeliveryError
from adapters.webhook import WebhookAdapter
from tests.referral.test_webhook import offer, partner
conn = redis.Redis.from_url({url!r})
ctx = Context(attempt=2, timeout_seconds=5, redis=conn, settings={{"BREAKER_THRESHOLD": 3}})
try:
    WebhookAdapter().deliver(offer(), partner({endpoint.url!r}, partner_id=77), ctx)
except TransientDeliveryError as exc:
    print("TRANSIENT", exc)
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert "TRANSIENT" in out.stdout, out.stderr
    assert len(endpoint.requests) == 3
    endpoint.status = 200
    with pytest.raises(TransientDeliveryError, match="circuit breaker"):
        adapter.deliver(offer(), info, ctx(redis.Redis.from_url(url), threshold=3))
    assert len(endpoint.requests) == 3
    mine.close()


def test_concurrent_failures_are_counted_atomically():
    """Failures recorded at once from many threads are all counted (INCR in a script, not read-modify-write)."""
    breaker = Breaker(queue.connection(), 99, threshold=1000, cooldown_seconds=60)
    threads = [threading.Thread(target=lambda: [breaker.failure() for _ in range(25)]) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert int(queue.connection().get(breaker.keys[0])) == 200


def test_webhook_config_requires_a_proper_secret():
    """The secret must be whsec_ plus 24-64 bytes of base64; the URL http or https."""
    good = {"url": "https://aid.example.org/hook", "secret": SECRET}
    assert adapter_registry.validate_config("webhook", good)["secret"] == SECRET
    for secret in (
        "",
        "whsec_",
        "whsec_!!!notbase64",
        "sk_" + SECRET[6:],
        "whsec_" + base64.b64encode(b"x" * 65).decode(),
    ):
        with pytest.raises(Invalid) as exc:
            adapter_registry.validate_config("webhook", {**good, "secret": secret})
        assert set(exc.value.details) == {"adapter_config.secret"}
    with pytest.raises(Invalid) as exc:
        adapter_registry.validate_config("webhook", {**good, "url": "file:///etc/passwd"})
    assert set(exc.value.details) == {"adapter_config.url"}
