"""Erasing a member, or a whole household, through the CLI: an admin asks, an auditor
approves (another person), and then the person is gone from every text and JSON column
of every table, from uploaded files and from the exports the broker keeps, while the
audit chain still verifies (the erased details counted, not taken for tampering), the
ledger still balances with the same amounts, and the erasure is on the chain by id.
Running it again changes nothing."""

from __future__ import annotations

import base64
import io
import json
import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from broker import audit
from broker.money import ledger_queries
from broker.people import users
from broker.platform import db, runtime
from broker.policy import document_files
from broker.registry import consent_records
from models import AuditEvent, Base, Consent, Disbursement, Entry, Erasure, Lead, Member, Receipt, User
from tests.conftest import PASSWORD, ApiClient, run_worker, unique
from tests.support.aid import YUAN, make_world, need
from tests.support.images import png

CHILD, MOTHER = "王小军", "李秀英"
CHILD_ID, MOTHER_ID = "110108201203121236", "110108198503121233"
PHONE = "13912345678"
GAP = r"[\s._/·-]*"


def _spaced(needle: str) -> re.Pattern:
    return re.compile(GAP.join(re.escape(c) for c in needle))


@pytest.fixture
def family(as_role, make_user, login, app):
    """The model case: a mother and her son with leukaemia; a need naming them both in
    free text, routed to a charity that pays with a receipt photo; an application with an
    ID-card photo; a policy-scan export kept in the instance folder."""
    world = make_world(as_role, make_user, login)
    world.partner("慈善总会", categories=["medical"], fund_fen=100_000 * YUAN)
    resp = world.caseworker.post(
        "/api/v1/households",
        json={
            "grid": world.grid,
            "address": "海淀区中关村东路18号3单元501",
            "head_name": MOTHER,
            "phone": PHONE,
            "monthly_income_fen": 0,
            "consent_to_share": True,
            "notes": f"{CHILD}在外地住院，{MOTHER}陪护",
            "members": [
                {"name": MOTHER, "relation": "head", "id_number": MOTHER_ID},
                {"name": CHILD, "relation": "son", "id_number": CHILD_ID, "conditions": ["leukaemia"]},
            ],
        },
    )
    assert resp.status_code == 201, resp.get_json()
    hid = resp.get_json()["id"]
    description = (
        f"{CHILD}（{CHILD_ID[:4]} {CHILD_ID[4:8]}-{CHILD_ID[8:]}）急性白血病化疗，母亲{MOTHER}电话139 1234 5678"
    )
    rid = world.assess(hid, need("medical", "high", 5000 * YUAN, description))["needs"][0]["request_id"]
    run_worker()
    (offer,) = [o for o in world.offers_of("慈善总会") if o["request_id"] == rid]
    partner = world.partner_clients["慈善总会"]
    assert partner.post(f"/api/v1/offers/{offer['id']}/accept", json={}).status_code == 200
    paid = partner.client.post(
        f"/api/v1/offers/{offer['id']}/disbursements",
        data={
            "amount_fen": str(2000 * YUAN),
            "reference": f"收据-{CHILD}",
            "evidence": (io.BytesIO(b"%PDF-1.4 receipt"), f"{CHILD}-收据.pdf", "application/pdf"),
        },
        content_type="multipart/form-data",
        headers=partner._headers(None),
    )
    assert paid.status_code == 201, paid.get_json()
    signed = world.caseworker.post(
        f"/api/v1/disbursements/{paid.get_json()['id']}/receipt",
        json={"method": "signature", "image": base64.b64encode(png()).decode()},
    )
    assert signed.status_code == 201, signed.get_json()
    filed = world.caseworker.post(f"/api/v1/households/{hid}/applications", json={"policy": "dibao", "note": CHILD})
    assert filed.status_code == 201, filed.get_json()
    s = db.session()
    caseworker = s.execute(select(User).where(User.role == "caseworker")).scalars().first()
    document_files.add_file(
        s,
        users.principal_of(caseworker),
        filed.get_json()["id"],
        "id_and_hukou",
        document_files.Upload(f"{CHILD}身份证.png", png()),
    )
    head = s.execute(select(Member.id).where(Member.household_id == hid, Member.relation == "head")).scalar_one()
    consent_records.record(
        s,
        users.principal_of(caseworker),
        hid,
        {"member_id": head, "purpose": "sms", "evidence": ""},
        consent_records.Photo(filename="同意书.png", data=png()),
    )
    db.commit()
    scan = app.test_cli_runner().invoke(args=["policy", "scan"])
    assert scan.exit_code == 0, scan.output
    run_worker()
    db.session.remove()
    members = dict(db.session().execute(select(Member.name, Member.id).where(Member.household_id == hid)).all())
    admin = make_user("admin")
    auditor = make_user("auditor")
    db.session.remove()
    return {"hid": hid, "members": members, "admin": admin, "auditor": auditor, "world": world}


def _leaks(*needles: str) -> list[str]:
    """Every place a needle (also spaced, or escaped as JSON) is still found: each text
    and JSON column of each table, and each file in the instance folder."""
    patterns = [_spaced(n) for n in needles] + [re.compile(re.escape(json.dumps(n)[1:-1])) for n in needles]
    found = []
    db.session.remove()
    with db.engine().connect() as conn:
        for table in Base.metadata.sorted_tables:
            for row in conn.execute(sa.select(table)).mappings():
                for column, value in row.items():
                    if isinstance(value, bytes) or value is None:
                        continue
                    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
                    if any(p.search(text) for p in patterns):
                        found.append(f"{table.name}.{column}: {text[:80]}")
    for path in Path(runtime.settings()["INSTANCE_PATH"]).rglob("*"):
        if path.is_file() and path.suffix in (".csv", ".xlsx", ".pdf", ".png", "") and path.stat().st_size < 5_000_000:
            data = path.read_bytes()
            if path.suffix == ".xlsx":
                from openpyxl import load_workbook

                book = load_workbook(path)
                data = "".join(str(c.value) for ws in book.worksheets for r in ws.iter_rows() for c in r).encode()
            text = data.decode("utf-8", "replace")
            if any(p.search(text) for p in patterns):
                found.append(f"file {path.name}")
    return found


def _cli(app, *args: str):
    result = app.test_cli_runner().invoke(args=["privacy", *args])
    return result


def _amounts() -> list[int]:
    with db.engine().connect() as conn:
        return sorted(conn.execute(sa.select(Entry.amount_fen)).scalars())


def _erase(app, family, **target) -> int:
    ((flag, value),) = target.items()
    asked = _cli(
        app,
        "erase",
        f"--{flag}",
        str(value),
        "--reason",
        f"{CHILD}家属申请删除（个人信息保护法第47条）",
        "--by",
        family["admin"],
    )
    assert asked.exit_code == 0, asked.output
    erasure_id = int(re.search(r"erasure request (\d+)", asked.output).group(1))
    done = _cli(app, "approve", str(erasure_id), "--by", family["auditor"])
    assert done.exit_code == 0, done.output
    assert f"erasure {erasure_id} done" in done.output
    return erasure_id


def test_an_erased_member_is_gone_everywhere_and_the_chain_and_ledger_hold(app, family):
    """Erasing the son: his name and ID number (in any spacing) are found nowhere — no
    table, no export, no uploaded file — while his mother stays; `audit verify` passes
    with the masked details counted as erased; the ledger balances with the same amounts;
    the erasure is on the chain with ids only. A second run changes nothing."""
    assert _leaks(CHILD, CHILD_ID)  # the world does name him, everywhere
    amounts = _amounts()
    erasure_id = _erase(app, family, member=family["members"][CHILD])
    assert _leaks(CHILD, CHILD_ID) == []
    assert _leaks(MOTHER)  # only the member named is erased
    db.session.remove()
    s = db.session()
    child = s.get(Member, family["members"][CHILD])
    assert (child.id_number_enc, child.id_hash, child.conditions) == (None, None, [])
    assert child.birth_date.month == child.birth_date.day == 1
    result = audit.verify(s)
    assert result.ok, result.reason
    assert result.erased > 0
    assert ledger_queries.check(s).ok
    assert _amounts() == amounts
    done = s.execute(select(AuditEvent).where(AuditEvent.action == "erasure.done")).scalar_one()
    assert done.object_id == erasure_id
    assert done.household_id == family["hid"]
    assert s.get(Erasure, erasure_id).status == "done"
    db.session.remove()
    again = _cli(app, "run", str(erasure_id))
    assert again.exit_code == 0, again.output
    db.session.remove()
    assert audit.verify(db.session()).ok
    assert _leaks(CHILD, CHILD_ID) == []


def _exports(client) -> str:
    """The ledger (台账) and the disbursement report as an auditor downloads them, as CSV."""
    texts = []
    for path in ("/api/v1/ledger?format=csv&per_page=200", "/api/v1/reports/disbursements?format=csv"):
        resp = client.get(path)
        assert resp.status_code == 200, resp.data[:200]
        texts.append(resp.data.decode("utf-8-sig"))
    return "\n".join(texts)


def test_an_erased_household_is_gone_everywhere(app, family, login):
    """Erasing the household: every member's name and ID number, the phone and the address
    are gone from every table, file and export (kept or downloaded); the chain verifies;
    the ledger balances; the disbursement keeps its amount and its evidence's SHA-256,
    not the file."""
    amounts = _amounts()
    instance = Path(runtime.settings()["INSTANCE_PATH"])
    s = db.session()
    (receipt_token,) = [r.file["token"] for r in s.execute(select(Receipt)).scalars()]
    consent_tokens = [t for t in s.execute(select(Consent.evidence_token)).scalars() if t]
    images = [instance / "receipts" / receipt_token[:2] / receipt_token]
    images += [instance / "consent_forms" / t[:2] / t for t in consent_tokens]
    assert all(path.is_file() for path in images)
    db.session.remove()
    auditor = login(family["auditor"])
    assert CHILD in _exports(auditor)
    _erase(app, family, household=family["hid"])
    assert _leaks(CHILD, CHILD_ID, MOTHER, MOTHER_ID, PHONE, "海淀区中关村东路18号3单元501") == []
    assert CHILD not in _exports(auditor)
    db.session.remove()
    s = db.session()
    assert audit.verify(s).ok
    assert ledger_queries.check(s).ok
    assert _amounts() == amounts
    (paid,) = s.execute(select(Disbursement)).scalars()
    assert paid.evidence["erased"] is True
    assert len(paid.evidence["sha256"]) == 64
    (receipt,) = s.execute(select(Receipt)).scalars()
    assert receipt.file["erased"] is True
    assert set(s.execute(select(Consent.evidence_token)).scalars()) == {None}
    assert [path for path in images if path.exists()] == []  # the signature and the consent form's photo


def _lead(world, anon: ApiClient, address: str, seen: str, household_id: int | None) -> int:
    """A courier's lead with a photo on the family's grid; visited (linked to the
    household) when one is given."""
    username = unique("courier-")
    signed_up = anon.post(
        "/api/v1/reporters",
        json={
            "name": "张快递",
            "phone": "13600002222",
            "username": username,
            "password": PASSWORD,
            "kind": "courier",
            "consent": True,
        },
    )
    assert signed_up.status_code == 201, signed_up.get_json()
    photo = "data:image/png;base64," + base64.b64encode(png()).decode()
    made = world.login(username).post(
        "/api/v1/leads", json={"grid": world.grid, "address": address, "seen": seen, "photo": photo}
    )
    assert made.status_code == 201, made.get_json()
    if household_id is not None:
        visited = world.caseworker.post(
            f"/api/v1/leads/{made.get_json()['id']}/visit", json={"household_id": household_id, "findings": "已入户"}
        )
        assert visited.status_code == 201, visited.get_json()
    return made.get_json()["id"]


def test_an_erased_household_takes_the_words_and_photos_of_the_leads_that_found_it(app, family, anon):
    """A courier's lead describes the family without naming it ("the stall keeper's son has
    leukaemia") and carries a photo: erasing the household masks the lead's address and
    words and removes the photo (its SHA-256 kept); another household's lead is untouched;
    a second run changes nothing."""
    world = family["world"]
    found = _lead(world, anon, "中关村东路18号楼下菜摊", "摊主的儿子得了白血病，家里交不起房租", family["hid"])
    other = _lead(world, anon, "中关村东路20号", "楼上独居老人几天没下楼", None)
    s = db.session()
    tokens = {lead.id: lead.photo_token for lead in s.scalars(select(Lead))}
    folder = Path(runtime.settings()["INSTANCE_PATH"]) / "leads"
    assert all((folder / t[:2] / t).is_file() for t in tokens.values())
    db.session.remove()
    erasure_id = _erase(app, family, household=family["hid"])
    assert _leaks("摊主的儿子得了白血病", "菜摊") == []
    s = db.session()
    erased, kept = s.get(Lead, found), s.get(Lead, other)
    assert (erased.address, erased.seen, erased.photo_token) == ("***", "***", None)
    assert len(erased.photo_sha256) == 64
    assert not (folder / tokens[found][:2] / tokens[found]).exists()
    assert (kept.seen, kept.photo_token) == ("楼上独居老人几天没下楼", tokens[other])
    assert (folder / tokens[other][:2] / tokens[other]).is_file()
    assert s.get(Erasure, erasure_id).report["lead_photos"] == 1
    no_photo = world.caseworker.get(f"/api/v1/leads/{found}")
    assert no_photo.status_code == 200
    assert no_photo.get_json()["has_photo"] is False
    assert world.caseworker.get(f"/api/v1/leads/{found}/photo").status_code == 404
    assert world.caseworker.get(f"/api/v1/leads/{other}/photo").data == png()
    db.session.remove()
    assert _cli(app, "run", str(erasure_id)).exit_code == 0
    assert db.session().get(Erasure, erasure_id).report["lead_photos"] == 1
    assert audit.verify(db.session()).ok


def test_erasure_needs_an_admin_and_another_persons_approval(app, family, make_user):
    """Only an admin asks; only an auditor approves, and not the one who asked (an admin
    cannot approve their own request either); unapproved, nothing is erased."""
    member = family["members"][CHILD]
    refused = _cli(app, "erase", "--member", str(member), "--reason", "x", "--by", family["auditor"])
    assert refused.exit_code == 2
    assert "Only an admin" in refused.output
    no_reason = _cli(app, "erase", "--member", str(member), "--reason", " \x00 ", "--by", family["admin"])
    assert no_reason.exit_code == 2
    asked = _cli(app, "erase", "--member", str(member), "--reason", "申请", "--by", family["admin"])
    erasure_id = re.search(r"erasure request (\d+)", asked.output).group(1)
    assert _cli(app, "approve", erasure_id, "--by", family["admin"]).exit_code == 2
    assert _cli(app, "run", erasure_id).exit_code == 2
    assert _leaks(CHILD)
