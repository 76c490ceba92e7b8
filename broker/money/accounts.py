"""Accounts: who holds money in the ledger and under which key.

Each partner has a ``fund`` account (money not yet promised) and a ``pledged`` account
(promised on accepted offers), keyed ``fund:<partner id>`` and ``pledged:<partner id>``;
each household a ``beneficiary`` account (``beneficiary:<household id>``); donors sit
behind the one ``external`` account. Accounts are made here on first use; their balances
are changed only by :func:`broker.money.ledger.post`.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from broker.platform.texts import N_, define
from models import Account

EXTERNAL_NAME = "External (donors and the world outside)"
# An account's name as people read it: the stored ``name`` is the broker's own English
# label; pages and exports show these codes instead, in the reader's language.
define(
    {
        "account.external": N_("External (donors and the world outside)"),
        "account.fund": N_("%(partner)s — fund"),
        "account.pledged": N_("%(partner)s — pledged"),
        "account.beneficiary": N_("Household %(household)s"),
    }
)
_SUFFIXES = {"fund": " — fund", "pledged": " — pledged"}


def account(
    session: Session, kind: str, *, partner_id: int | None = None, household_id: int | None = None, name: str = ""
) -> Account:
    """Get or create the account of ``kind`` for a partner or household (race-safe: a
    concurrent creator makes our insert fail inside a savepoint, and we read theirs)."""
    key = kind if kind == "external" else f"{kind}:{partner_id if partner_id is not None else household_id}"
    found = session.execute(select(Account).where(Account.key == key)).scalar_one_or_none()
    if found is not None:
        return found
    acct = Account(
        key=key, kind=kind, partner_id=partner_id, household_id=household_id, name=name or EXTERNAL_NAME, balance_fen=0
    )
    try:
        with session.begin_nested():
            session.add(acct)
    except IntegrityError:
        return session.execute(select(Account).where(Account.key == key)).scalar_one()
    return acct


def partner_accounts(session: Session, partner_id: int, partner_name: str) -> tuple[Account, Account]:
    """The partner's ``fund`` and ``pledged`` accounts, created on first use."""
    fund = account(session, "fund", partner_id=partner_id, name=f"{partner_name} — fund")
    pledged = account(session, "pledged", partner_id=partner_id, name=f"{partner_name} — pledged")
    return fund, pledged


def label(kind: str, name: str, household_id: int | None = None) -> dict:
    """An account as a text code: 外部（捐赠方及外界）, 市慈善总会 — 可用资金 …"""
    if kind in _SUFFIXES:
        return {"code": f"account.{kind}", "params": {"partner": name.removesuffix(_SUFFIXES[kind])}}
    if kind == "beneficiary":
        return {"code": "account.beneficiary", "params": {"household": household_id}}
    if kind == "external":
        return {"code": "account.external", "params": {}}
    return {"code": None, "text": name}
