"""The double-entry ledger: deposits, pledges, releases and disbursements keep every
transaction balanced and every balance equal to its entries; overspend is refused; the
deposits API, the fund's history and the auditor's ledger (JSON, CSV, XLSX)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select, text

from broker.money import fund_parts, funds, ledger, ledger_queries
from broker.platform import db
from broker.platform.errors import InsufficientFunds, Invalid
from models import Account, AuditEvent, Entry, LedgerTransaction
from tests.support import money
from tests.support.money import YUAN


def _setup(fund_fen: int = 0):
    s = db.session()
    p = money.partner(s, "红十字会海淀分会", fund_fen=fund_fen)
    h = money.household(s)
    r = money.aid_request(s, h)
    o = money.offer(s, r, p)
    db.commit()
    return s, p, h, r, o


def test_deposit_moves_money_from_outside_into_the_fund():
    """A deposit is external → fund; the fund is available at once; the external account
    alone goes below zero; the transaction's two entries sum to zero; it is audited."""
    s, p, *_ = _setup()
    txn = ledger.deposit(s, p.id, p.name, 5000 * YUAN, reference="BANK-1", donor="星辰科技", memo="年度捐赠")
    db.commit()
    assert funds.balances(s, p.id) == {"balance_fen": 500000, "pledged_fen": 0, "available_fen": 500000}
    amounts = sorted(e.amount_fen for e in txn.entries)
    assert amounts == [-500000, 500000]
    ext = s.execute(select(Account).where(Account.key == "external")).scalar_one()
    assert ext.balance_fen == -500000
    event = s.execute(select(AuditEvent).where(AuditEvent.action == "ledger.deposit")).scalar_one()
    assert '"donor":"星辰科技"' in event.after
    assert event.object_id == txn.id


def test_pledge_release_and_disburse_move_between_fund_pledged_and_household():
    """Pledging takes money out of what is available; releasing gives it back; paying
    out moves it from pledged to the household's account."""
    s, p, h, r, o = _setup(fund_fen=1000 * YUAN)
    fund_parts.pledge(s, p, o, r, 600 * YUAN)
    assert funds.balances(s, p.id) == {"balance_fen": 100000, "pledged_fen": 60000, "available_fen": 40000}
    fund_parts.release(s, p, o, r, 100 * YUAN, memo="under-spent")
    fund_parts.disburse(s, p, o, r, 500 * YUAN, reference="TX-9")
    db.commit()
    assert funds.balances(s, p.id) == {"balance_fen": 50000, "pledged_fen": 0, "available_fen": 50000}
    benef = s.execute(select(Account).where(Account.key == f"beneficiary:{h.id}")).scalar_one()
    assert benef.balance_fen == 50000
    assert ledger_queries.check(s).ok


def test_overspend_is_refused_and_writes_nothing():
    """Pledging more than is available raises insufficient_funds (409) and leaves no
    transaction, entry or balance change behind."""
    s, p, _h, r, o = _setup(fund_fen=100 * YUAN)
    before = s.execute(select(func.count()).select_from(LedgerTransaction)).scalar_one()
    with pytest.raises(InsufficientFunds) as err:
        fund_parts.pledge(s, p, o, r, 100 * YUAN + 1)
    assert err.value.status == 409
    assert err.value.details["balance_fen"] == 10000
    s.rollback()
    assert s.execute(select(func.count()).select_from(LedgerTransaction)).scalar_one() == before
    assert funds.balances(s, p.id)["available_fen"] == 10000


@pytest.mark.parametrize("amount", [0, -5, 1.5, True, "100", 10_000_000_001])
def test_amounts_are_positive_whole_fen(amount):
    """Zero, negative, fractional, boolean, text and absurdly large amounts are refused
    before anything is written: money is whole fen, never rounded."""
    s, p, *_ = _setup()
    with pytest.raises(Invalid) as err:
        ledger.deposit(s, p.id, p.name, amount)
    assert "amount_fen" in err.value.details


def test_the_check_constraint_refuses_a_negative_fund_even_past_the_code():
    """The database itself refuses a negative fund balance (the last line of defence)."""
    s, p, *_ = _setup(fund_fen=10 * YUAN)
    with pytest.raises(Exception, match="no_overdraft"):
        s.execute(text("UPDATE accounts SET balance_fen = -1 WHERE key = :k"), {"k": f"fund:{p.id}"})
    s.rollback()
    assert funds.balances(s, p.id)["available_fen"] == 1000


def test_check_finds_a_balance_that_no_longer_matches_its_entries():
    """The trial balance flags an account whose stored balance was changed behind the
    ledger's back, and a transaction whose entries no longer sum to zero."""
    s, p, *_ = _setup(fund_fen=10 * YUAN)
    assert ledger_queries.check(s).ok
    fund_id = s.execute(select(Account.id).where(Account.key == f"fund:{p.id}")).scalar_one()
    s.execute(text("UPDATE accounts SET balance_fen = balance_fen + 1 WHERE id = :i"), {"i": fund_id})
    entry = s.execute(select(Entry).where(Entry.account_id == fund_id)).scalar_one()
    s.execute(text("UPDATE ledger_entries SET amount_fen = amount_fen + 7 WHERE id = :i"), {"i": entry.id})
    db.commit()
    result = ledger_queries.check(s)
    assert not result.ok
    assert result.mismatched == sorted([fund_id])
    assert result.unbalanced == [entry.transaction_id]


# --- the deposits API --------------------------------------------------------------------------


def test_admin_deposits_over_the_api_and_the_partner_shows_it_available(as_role):
    """POST /partners/{id}/deposits (admin) returns the transaction with its entries, and
    the partner's balances (GET /partners/{id}) include the money as available."""
    _s, p, *_ = _setup()
    admin = as_role("admin")
    resp = admin.post(
        f"/api/v1/partners/{p.id}/deposits",
        json={"amount_fen": 123456, "reference": "BANK-77", "donor": "爱心企业 星辰科技", "memo": "助学专项"},
    )
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert body["kind"] == "deposit"
    assert body["amount_fen"] == 123456
    assert body["donor"] == "爱心企业 星辰科技"
    assert sum(e["amount_fen"] for e in body["entries"]) == 0
    assert {e["account_kind"] for e in body["entries"]} == {"external", "fund"}
    detail = admin.get(f"/api/v1/partners/{p.id}").get_json()
    assert (detail["balance_fen"], detail["available_fen"], detail["pledged_fen"]) == (123456, 123456, 0)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"amount_fen": 0}, "amount_fen"),
        ({"amount_fen": -100}, "amount_fen"),
        ({"amount_fen": 1.5}, "amount_fen"),
        ({"amount_fen": "100"}, "amount_fen"),
        ({}, "amount_fen"),
        ({"amount_fen": 100, "reference": "x" * 121}, "reference"),
        ({"amount_fen": 100, "surprise": 1}, "surprise"),
    ],
)
def test_bad_deposits_are_422_naming_the_field(as_role, body, field):
    """Bad input is a 422 in the error envelope naming the field, never a 500."""
    s, p, *_ = _setup()
    resp = as_role("admin").post(f"/api/v1/partners/{p.id}/deposits", json=body)
    assert resp.status_code == 422
    err = resp.get_json()["error"]
    assert err["code"] == "validation_error"
    assert field in err["details"]
    assert funds.balances(s, p.id)["balance_fen"] == 0


def test_deposit_to_an_unknown_partner_is_404(as_role):
    """A deposit for a partner that does not exist is a 404, not a 500."""
    resp = as_role("admin").post("/api/v1/partners/999999/deposits", json={"amount_fen": 100})
    assert resp.status_code == 404
    assert resp.get_json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("role", ["auditor", "caseworker"])
def test_only_admins_record_deposits(as_role, role):
    """Auditors (who change nothing) and caseworkers get a 403 on deposits."""
    s, p, *_ = _setup()
    resp = as_role(role).post(f"/api/v1/partners/{p.id}/deposits", json={"amount_fen": 100})
    assert resp.status_code == 403
    assert resp.get_json()["error"]["code"] == "forbidden"
    assert funds.balances(s, p.id)["balance_fen"] == 0


def test_fund_history_shows_running_balances_to_admin_auditor_and_own_partner(as_role):
    """The fund's history lists deposits, pledges, releases and disbursements newest first
    with the available and pledged balances after each; the partner sees its own, another
    partner gets a 404; a kind filter keeps the true running balances."""
    s, p, _h, r, o = _setup()
    other = money.partner(s, "另一家基金会")
    ledger.deposit(s, p.id, p.name, 1000 * YUAN, donor="张三")
    fund_parts.pledge(s, p, o, r, 300 * YUAN)
    fund_parts.disburse(s, p, o, r, 200 * YUAN)
    fund_parts.release(s, p, o, r, 100 * YUAN)
    db.commit()
    for client in (as_role("admin"), as_role("auditor"), as_role("partner", partner_id=p.id)):
        resp = client.get(f"/api/v1/partners/{p.id}/deposits")
        assert resp.status_code == 200, resp.get_json()
        body = resp.get_json()
        assert body["total"] == 4
        assert body["available_fen"] == 80000
        assert body["pledged_fen"] == 0
        steps = [
            (m["kind"], m["available_change_fen"], m["pledged_change_fen"], m["available_after_fen"])
            for m in body["items"]
        ]
        assert steps == [
            ("release", 10000, -10000, 80000),
            ("disbursement", 0, -20000, 70000),
            ("pledge", -30000, 30000, 70000),
            ("deposit", 100000, 0, 100000),
        ]
    deposits = as_role("admin").get(f"/api/v1/partners/{p.id}/deposits?kind=pledge").get_json()
    assert [(m["kind"], m["pledged_after_fen"]) for m in deposits["items"]] == [("pledge", 30000)]
    stranger = as_role("partner", partner_id=other.id).get(f"/api/v1/partners/{p.id}/deposits")
    assert stranger.status_code == 404


# --- the auditor's ledger ------------------------------------------------------------------------


def _ledger_world():
    """Two partners, two households; transactions on both sides of the Shanghai midnight
    that ends March 2026 (2026-03-31 16:00 UTC)."""
    s = db.session()
    p1 = money.partner(s, "慈善总会")
    p2 = money.partner(s, '=HYPERLINK("http://evil")')
    h1, h2 = money.household(s), money.household(s)
    r1 = money.aid_request(s, h1)
    o1 = money.offer(s, r1, p1)
    march = ledger.deposit(s, p1.id, p1.name, 1000 * YUAN, donor="李四")
    april = ledger.deposit(s, p2.id, p2.name, 50 * YUAN + 5)
    pledge = fund_parts.pledge(s, p1, o1, r1, 400 * YUAN)
    money.set_created_at(s, march, datetime(2026, 3, 31, 15, 59, 59, tzinfo=UTC))  # 23:59:59 in Shanghai
    money.set_created_at(s, april, datetime(2026, 3, 31, 16, 0, 0, tzinfo=UTC))  # 00:00 on 1 April
    money.set_created_at(s, pledge, datetime(2026, 4, 2, 3, 0, tzinfo=UTC))
    db.commit()
    return p1, p2, h1, h2, march, april, pledge


def test_ledger_lists_transactions_with_entries_and_filters(as_role):
    """GET /ledger: newest first, each transaction with balanced entries; filters by
    partner, household, kind and local (Asia/Shanghai) dates, both inclusive."""
    p1, _p2, h1, h2, march, april, pledge = _ledger_world()
    auditor = as_role("auditor")

    def ids(query: str = "") -> list[int]:
        resp = auditor.get(f"/api/v1/ledger?{query}")
        assert resp.status_code == 200, resp.get_json()
        body = resp.get_json()
        assert body["total"] == len(body["items"])
        for t in body["items"]:
            assert sum(e["amount_fen"] for e in t["entries"]) == 0
            assert len(t["entries"]) == 2
        return [t["id"] for t in body["items"]]

    assert ids() == [pledge.id, april.id, march.id]
    assert ids(f"partner_id={p1.id}") == [pledge.id, march.id]
    assert ids(f"household_id={h1.id}") == [pledge.id]
    assert ids(f"household_id={h2.id}") == []
    assert ids("kind=deposit") == [april.id, march.id]
    assert ids("from=2026-03-01&to=2026-03-31") == [march.id]
    assert ids("from=2026-04-01&to=2026-04-01") == [april.id]
    assert ids("from=2026-04-01") == [pledge.id, april.id]
    page = auditor.get("/api/v1/ledger?per_page=1&page=2").get_json()
    assert (page["total"], page["page"], page["per_page"], [t["id"] for t in page["items"]]) == (3, 2, 1, [april.id])


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("from=2026-04-02&to=2026-04-01", "from"),
        ("from=yesterday", "from"),
        ("kind=gift", "kind"),
        ("per_page=0", "per_page"),
    ],
)
def test_ledger_bad_filters_are_422(as_role, query, field):
    """Unreadable or backwards periods and unknown kinds are 422s naming the parameter."""
    resp = as_role("auditor").get(f"/api/v1/ledger?{query}")
    assert resp.status_code == 422
    assert field in resp.get_json()["error"]["details"]


@pytest.mark.parametrize("role", ["caseworker", "partner"])
def test_ledger_is_for_auditors_and_admins(as_role, role):
    """Caseworkers and partners do not read the whole ledger."""
    s = db.session()
    p = money.partner(s)
    db.commit()
    kw = {"partner_id": p.id} if role == "partner" else {}
    assert as_role(role, **kw).get("/api/v1/ledger").status_code == 403


def test_ledger_exports_open_in_a_spreadsheet(as_role):
    """The ledger as CSV (UTF-8 BOM, Chinese headers and names, yuan with two decimals)
    and XLSX (read back with openpyxl: headers, yuan number format, local times)."""
    _p1, _p2, _h1, _h2, _march, _april, _pledge = _ledger_world()
    auditor = as_role("auditor")
    resp = auditor.get("/api/v1/ledger?format=csv&kind=deposit")
    assert resp.status_code == 200
    assert resp.mimetype == "text/csv"
    assert "attachment" in resp.headers["Content-Disposition"]
    raw = resp.get_data()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert [r["类型"] for r in rows] == ["入账", "入账"]
    assert rows[0]["合作方"] == "慈善总会"
    assert rows[0]["金额（元）"] == "1000.00"
    assert rows[0]["捐赠方"] == "李四"
    assert rows[0]["时间"] == "2026-03-31 23:59:59"
    assert rows[1]["金额（元）"] == "50.05"
    assert rows[1]["合作方"].startswith("'=")

    resp = auditor.get("/api/v1/ledger?format=xlsx")
    assert resp.status_code == 200
    wb = load_workbook(io.BytesIO(resp.get_data()))
    ws = wb.active
    assert ws.title == "台账"
    headers = [c.value for c in ws[1]]
    assert headers[:4] == ["流水号", "时间", "类型", "合作方"]
    amount_col = headers.index("金额（元）") + 1
    assert [ws.cell(row=i, column=amount_col).value for i in (2, 3, 4)] == [1000, 50.05, 400]
    assert ws.cell(row=2, column=amount_col).number_format == "#,##0.00"
    assert ws.cell(row=2, column=2).value == datetime(2026, 3, 31, 23, 59, 59)
    assert ws.cell(row=3, column=4).value.startswith("'=")
    assert ws.cell(row=3, column=4).data_type == "s"
    assert ws.column_dimensions["D"].width >= 20


def test_ledger_check_endpoint_reports_a_clean_trial_balance(as_role):
    """GET /ledger/check: all transactions balance, all balances match, none overdrawn."""
    _ledger_world()
    body = as_role("auditor").get("/api/v1/ledger/check").get_json()
    assert body == {
        "ok": True,
        "transactions": 3,
        "accounts": body["accounts"],
        "unbalanced": [],
        "mismatched": [],
        "overdrawn": [],
    }
    assert body["accounts"] == 5  # external, and a fund and a pledged account per partner
