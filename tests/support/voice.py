"""Building blocks for the tests of concerns and public notices: an approved application
(filed, every document ticked, submitted, approved — over the API), and a concern's
deadline moved into the past (time control: nobody waits days for a deadline)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from broker.platform import db
from models import Concern
from models.base import utcnow
from tests.conftest import ApiClient

API = "/api/v1"


def approved_application(cw: ApiClient, household_id: int, policy: str = "temporary_aid", **extra: object) -> int:
    """File ``policy`` for the household and take it through to approval; its id."""
    resp = cw.post(f"{API}/households/{household_id}/applications", json={"policy": policy})
    assert resp.status_code == 201, resp.get_json()
    app = resp.get_json()
    ticked = cw.post(
        f"{API}/applications/{app['id']}/documents", json={"documents": {d["code"]: True for d in app["documents"]}}
    )
    assert ticked.status_code == 200, ticked.get_json()
    for status in ("submitted", "approved"):
        body = {"status": status, **(extra if status == "approved" else {})}
        moved = cw.post(f"{API}/applications/{app['id']}/steps", json=body)
        assert moved.status_code == 200, moved.get_json()
    return app["id"]


def past_deadline(reference: str, days: int = 1) -> None:
    """Move the concern's deadline ``days`` into the past."""
    db.session().execute(
        update(Concern).where(Concern.reference == reference).values(deadline_at=utcnow() - timedelta(days=days))
    )
    db.commit()
    db.session.remove()


def agree_to_notice(cw: ApiClient, household: dict | int) -> None:
    """The household's head agrees, on a signed form, to be named (masked) in public notices."""
    agree(cw, household, "public_notice")


def agree(cw: ApiClient, household: dict | int, purpose: str) -> None:
    """The household's head agrees to ``purpose`` (sms, public_notice …) on a signed form."""
    if isinstance(household, int):
        household = cw.get(f"{API}/households/{household}").get_json()
    head = next((m for m in household["members"] if m["relation"] == "head"), household["members"][0])
    body = {"member_id": head["id"], "purpose": purpose, "evidence": "同意书（已签字）"}
    resp = cw.post(f"{API}/households/{household['id']}/consents", json=body)
    assert resp.status_code == 201, resp.get_json()
