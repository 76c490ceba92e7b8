"""Building blocks for the money and audit tests, made directly with the models (fast,
and independent of the closed loop's rules): partners, households, requests, offers,
disbursements; a real HTTP server for the concurrency tests; and raw-SQL tampering."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from broker.money import fund_parts, ledger
from broker.platform import db
from models import Assessment, Disbursement, Grid, Household, LedgerTransaction, Need, Offer, Partner
from models.base import utcnow
from tests.conftest import unique

YUAN = 100


def partner(session: Session, name: str | None = None, *, kind: str = "charity", fund_fen: int = 0) -> Partner:
    p = Partner(
        name=name or unique("慈善总会-"),
        kind=kind,
        adapter="portal",
        adapter_config={},
        categories=["medical", "living", "schooling", "emergency"],
        regions=["*"],
    )
    session.add(p)
    session.flush()
    if fund_fen:
        ledger.deposit(session, p.id, p.name, fund_fen, reference=unique("DEP-"))
    return p


def grid(session: Session, name: str = "中关村东路第一网格") -> Grid:
    g = Grid(code=unique("HD-"), name=name, district="海淀区", street="中关村街道", community="科源社区")
    session.add(g)
    session.flush()
    return g


def household(session: Session, g: Grid | None = None, head: str = "张建国") -> Household:
    g = g or grid(session)
    h = Household(grid_id=g.id, address=f"海淀区中关村东路{unique('')}号", head_name=head)
    session.add(h)
    session.flush()
    return h


def aid_request(
    session: Session,
    h: Household,
    *,
    category: str = "medical",
    amount_fen: int | None = 1000 * YUAN,
    status: str = "active",
    created_at: datetime | None = None,
    completed_at: datetime | None = None,
):
    """An assessment with one need, and the request made for it."""
    from models import AidRequest

    a = Assessment(household_id=h.id, summary="走访")
    session.add(a)
    session.flush()
    n = Need(assessment_id=a.id, household_id=h.id, category=category, urgency="normal", amount_fen=amount_fen)
    session.add(n)
    session.flush()
    r = AidRequest(
        need_id=n.id,
        household_id=h.id,
        grid_id=h.grid_id,
        category=category,
        urgency="normal",
        amount_fen=amount_fen,
        status=status,
        completed_at=completed_at,
    )
    if created_at is not None:
        r.created_at = created_at
    session.add(r)
    session.flush()
    return r


def offer(session: Session, req, p: Partner, *, amount_fen: int | None = None, status: str = "received") -> Offer:
    o = Offer(
        request_id=req.id,
        partner_id=p.id,
        status=status,
        amount_fen=req.amount_fen if amount_fen is None else amount_fen,
        respond_by=utcnow() + timedelta(days=2),
    )
    session.add(o)
    session.flush()
    return o


def pledged_offer(session: Session, req, p: Partner, amount_fen: int) -> Offer:
    """An offer accepted for ``amount_fen``, pledged in the ledger (its request (partly) covered)."""
    o = offer(session, req, p, amount_fen=amount_fen, status="accepted")
    o.accepted_fen = amount_fen
    req.status = "active"
    req.routing_state = "covered" if req.funded_fen + amount_fen >= (req.amount_fen or 0) else "partly-covered"
    req.funded_fen += amount_fen
    fund_parts.pledge(session, p, o, req, amount_fen)
    return o


def disbursement(
    session: Session,
    o: Offer,
    req,
    amount_fen: int,
    *,
    at: datetime | None = None,
    kind: str = "cash",
    through_ledger: bool = True,
) -> Disbursement:
    """A disbursement row (and, by default, its ledger transaction), at time ``at``."""
    txn = None
    if through_ledger and amount_fen > 0:
        txn = fund_parts.disburse(session, session.get(Partner, o.partner_id), o, req, amount_fen)
        if at is not None:
            txn.created_at = at
    d = Disbursement(
        offer_id=o.id,
        request_id=req.id,
        partner_id=o.partner_id,
        household_id=req.household_id,
        grid_id=req.grid_id,
        category=req.category,
        amount_fen=amount_fen,
        kind=kind,
        transaction_id=txn.id if txn is not None else None,
        actor="test",
    )
    if at is not None:
        d.created_at = at
    session.add(d)
    o.disbursed_fen += amount_fen
    session.flush()
    return d


def set_created_at(session: Session, txn: LedgerTransaction, at: datetime) -> None:
    txn.created_at = at
    session.flush()


# --- a real server, for requests that must really run at the same time ----------------------


@contextmanager
def live_server(app) -> Iterator[str]:
    """The app behind a threaded werkzeug server on a free port (one thread per request,
    each with its own database session); yields the base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)
        server.server_close()


def token_for(base_url: str, username: str) -> str:
    import httpx

    from tests.conftest import PASSWORD

    resp = httpx.post(f"{base_url}/api/v1/auth/token", json={"username": username, "password": PASSWORD}, timeout=30)
    assert resp.status_code == 200, resp.text
    return resp.json()["token"]


# --- tampering, as someone with database access would -----------------------------------------

SQLITE_GUARDS = {
    "audit_events_no_update": (
        "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events WHEN NOT ("
        "OLD.chain_seq IS NULL AND OLD.prev_hash IS NULL AND OLD.hash IS NULL "
        "AND NEW.chain_seq IS NOT NULL AND NEW.prev_hash IS NOT NULL AND NEW.hash IS NOT NULL "
        "AND NEW.id IS OLD.id AND NEW.at IS OLD.at AND NEW.actor IS OLD.actor AND NEW.action IS OLD.action "
        "AND NEW.object_type IS OLD.object_type AND NEW.object_id IS OLD.object_id "
        "AND NEW.household_id IS OLD.household_id AND NEW.request_id IS OLD.request_id AND NEW.digest IS OLD.digest"
        ") BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: UPDATE refused'); END"
    ),
    "audit_events_no_delete": "CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events "
    "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: DELETE refused'); END",
}


def tamper(*statements: str, params: dict | None = None) -> None:
    """Run raw SQL against audit_events with its append-only guard lifted (as an attacker
    with database rights would), then put the guard back."""
    db.session.remove()
    with db.engine().begin() as conn:
        pg = conn.dialect.name == "postgresql"
        if pg:
            conn.execute(text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
        else:
            for name in SQLITE_GUARDS:
                conn.execute(text(f"DROP TRIGGER IF EXISTS {name}"))
        for stmt in statements:
            conn.execute(text(stmt), params or {})
        if pg:
            conn.execute(text("ALTER TABLE audit_events ENABLE TRIGGER USER"))
        else:
            for ddl in SQLITE_GUARDS.values():
                conn.execute(text(ddl))
