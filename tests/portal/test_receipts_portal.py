"""The receipt form in the portal, as a phone sends it: a photo of the signed slip sent
twice with the same one-time key records one receipt; a file that is not a photo is
refused in Chinese and records nothing; a partner cannot open the form."""

from __future__ import annotations

import io
import re

from sqlalchemy import func, select

from broker.platform import db
from models import AuditEvent, Receipt
from tests.referral.test_receipts import paid
from tests.support.aid import make_world
from tests.support.images import png

_ONCE = re.compile(r'name="once_key"[^>]*value="([0-9a-f]+)"|value="([0-9a-f]+)"[^>]*name="once_key"')


def _count(model: type, *where: object) -> int:
    db.session.remove()
    n = db.session().execute(select(func.count()).select_from(model).where(*where)).scalar_one()
    db.session.remove()
    return n


def test_a_photo_sent_twice_records_one_receipt_and_a_non_photo_nothing(as_role, make_user, login, worker, new_portal):
    """Twice the same form (a double tap): one receipt, one audit event, the same page
    after; a text file instead of a photo: 422 with the reason in Chinese, no receipt."""
    world = make_world(as_role, make_user, login)
    p, other = paid(world, worker), paid(world, worker)
    caseworker = new_portal()
    caseworker.login(make_user("caseworker", grids=(world.grid,)))
    path = f"/caseworker/disbursements/{p['disbursement']}/receipt"
    html = caseworker.text(path)
    found = _ONCE.search(html)
    once_key = found.group(1) or found.group(2)
    for _ in range(2):
        form = {"method": "photo", "once_key": once_key, "photo": (io.BytesIO(png()), "slip.png", "image/png")}
        resp = caseworker.post(path, form, content_type="multipart/form-data")
        assert resp.status_code in (302, 303)
        assert f"/caseworker/households/{p['household']}" in resp.headers["Location"]
    assert _count(Receipt, Receipt.disbursement_id == p["disbursement"]) == 1
    assert _count(AuditEvent, AuditEvent.action == "receipt.recorded") == 1

    bad_path = f"/caseworker/disbursements/{other['disbursement']}/receipt"
    caseworker.get(bad_path)
    form = {"method": "photo", "photo": (io.BytesIO(b"just some text"), "slip.png", "image/png")}
    resp = caseworker.post(bad_path, form, content_type="multipart/form-data")
    assert resp.status_code == 422
    assert "这个文件不是照片" in resp.get_data(as_text=True)
    assert _count(Receipt, Receipt.disbursement_id == other["disbursement"]) == 0

    partner = new_portal()
    partner.login(make_user("partner", partner_id=world.partners[p["partner"]]["id"]))
    assert partner.get(path).status_code == 403
