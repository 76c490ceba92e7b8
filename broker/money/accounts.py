"""Accounts: who holds money in the ledger and under which key.

Each partner has a ``fund`` account (money not yet promised) and a ``pledged`` account
(promised on accepted offers), keyed ``fund:<partner id>`` and ``pledged:<partner id>``,
and one more pair per restriction on donated money (``fund:<partner id>:r<restriction id>``,
see :mod:`.restrictions`); each household a ``beneficiary`` account (``beneficiary:<household id>``); donors sit
behind the one ``external`` account. Accounts are made here on first use; their balances
are changed only by :func:`broker.money.ledger.post`.

Family volunteer points are a second unit in the same ledger (``unit = 'point'``): a
household's points are a ``beneficiary`` account keyed ``points:<household id>``; the
points a community gives sit behind the ``external`` account ``points:given`` and those
spent in the points shop go to ``points:spent`` (external too, so the given side may
run below zero as donors' money does).
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
        "account.fund_part": N_("%(partner)s — fund, %(part)s"),
        "account.pledged_part": N_("%(partner)s — pledged, %(part)s"),
        "account.beneficiary": N_("Household %(household)s"),
        "account.points": N_("Household %(household)s — volunteer points"),
        "account.points_given": N_("Volunteer points given"),
        "account.points_spent": N_("Volunteer points spent in the shop"),
    }
)
_SUFFIXES = {"fund": " — fund", "pledged": " — pledged"}


def account(
    session: Session,
    kind: str,
    *,
    partner_id: int | None = None,
    household_id: int | None = None,
    name: str = "",
    restriction_id: int | None = None,
) -> Account:
    """Get or create the account of ``kind`` for a partner or household, or for one
    restricted part of a partner's fund (race-safe: a concurrent creator makes our insert
    fail inside a savepoint, and we read theirs)."""
    key = kind if kind == "external" else f"{kind}:{partner_id if partner_id is not None else household_id}"
    if restriction_id is not None:
        key = f"{key}:r{restriction_id}"
    found = session.execute(select(Account).where(Account.key == key)).scalar_one_or_none()
    if found is not None:
        return found
    acct = Account(
        key=key,
        kind=kind,
        partner_id=partner_id,
        household_id=household_id,
        name=name or EXTERNAL_NAME,
        balance_fen=0,
        restriction_id=restriction_id,
    )
    try:
        with session.begin_nested():
            session.add(acct)
    except IntegrityError:
        return session.execute(select(Account).where(Account.key == key)).scalar_one()
    return acct


def _keyed(session: Session, key: str, kind: str, name: str, household_id: int | None = None) -> Account:
    """Get or create a points account by its key (race-safe, as :func:`account`)."""
    found = session.execute(select(Account).where(Account.key == key)).scalar_one_or_none()
    if found is not None:
        return found
    acct = Account(key=key, kind=kind, household_id=household_id, name=name, balance_fen=0, unit="point")
    try:
        with session.begin_nested():
            session.add(acct)
    except IntegrityError:
        return session.execute(select(Account).where(Account.key == key)).scalar_one()
    return acct


def household_points(session: Session, household_id: int) -> Account:
    """The household's volunteer points account, created on first use."""
    return _keyed(session, f"points:{household_id}", "beneficiary", f"Household {household_id} — points", household_id)


def points_given(session: Session) -> Account:
    """Where earned points come from (an ``external`` account: it runs below zero)."""
    return _keyed(session, "points:given", "external", "Volunteer points given")


def points_spent(session: Session) -> Account:
    """Where points spent in the shop go."""
    return _keyed(session, "points:spent", "external", "Volunteer points spent in the shop")


def partner_accounts(
    session: Session, partner_id: int, partner_name: str, restriction_id: int | None = None
) -> tuple[Account, Account]:
    """The ``fund`` and ``pledged`` accounts of a partner's unrestricted part, or of the
    part under ``restriction_id``, created on first use."""
    fund = account(session, "fund", partner_id=partner_id, name=f"{partner_name} — fund", restriction_id=restriction_id)
    pledged = account(
        session, "pledged", partner_id=partner_id, name=f"{partner_name} — pledged", restriction_id=restriction_id
    )
    return fund, pledged


def label(kind: str, name: str, household_id: int | None = None, part: dict | None = None) -> dict:
    """An account as a text code: 外部（捐赠方及外界）, 市慈善总会 — 可用资金 … ``part`` is the
    restricted part a fund or pledged account belongs to, as a text code."""
    if name.endswith(" — points"):
        return {"code": "account.points", "params": {"household": household_id}}
    if name == "Volunteer points given":
        return {"code": "account.points_given", "params": {}}
    if name == "Volunteer points spent in the shop":
        return {"code": "account.points_spent", "params": {}}
    if kind in _SUFFIXES and part is not None:
        return {"code": f"account.{kind}_part", "params": {"partner": name.removesuffix(_SUFFIXES[kind]), "part": part}}
    if kind in _SUFFIXES:
        return {"code": f"account.{kind}", "params": {"partner": name.removesuffix(_SUFFIXES[kind])}}
    if kind == "beneficiary":
        return {"code": "account.beneficiary", "params": {"household": household_id}}
    if kind == "external":
        return {"code": "account.external", "params": {}}
    return {"code": None, "text": name}
