"""Partner organisations (合作方): who they are, what they fund where, and the adapter
that reaches them with its settings.

An adapter's settings are validated by that adapter's own ``config_schema``. Settings it
marks ``load_only`` (secrets such as a webhook signing secret) are kept encrypted under
the data key, handed only to the adapter (:func:`partner_info`), never shown, and never
written to the audit log."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from adapters.base import PartnerInfo
from broker import audit
from broker.money import funds
from broker.platform import adapter_registry, security
from broker.platform.errors import Conflict, Invalid, found
from broker.platform.pages import Page, paginate
from broker.platform.scope import Principal
from broker.platform.texts import N_, define
from broker.registry import grids, region_tree
from models import Partner
from models.assessment import CATEGORIES
from models.partners import PARTNER_KINDS

define({"partner_exists": N_("A partner called %(name)s already exists.")})

ALL_REGIONS = region_tree.ALL_REGIONS
SEALED_PREFIX = "enc:v1:"


def _secret_fields(adapter_name: str) -> set[str]:
    schema = adapter_registry.get(adapter_name).config_schema()
    return {name for name, field in schema.fields.items() if field.load_only}


def _seal(adapter_name: str, config: dict[str, Any]) -> dict[str, Any]:
    """Encrypt the adapter's secret settings for storage."""
    secret = _secret_fields(adapter_name)
    return {
        key: SEALED_PREFIX + security.encrypt(str(value)).decode()
        if key in secret and value is not None and not str(value).startswith(SEALED_PREFIX)
        else value
        for key, value in config.items()
    }


def _unseal(config: dict[str, Any]) -> dict[str, Any]:
    return {
        key: security.decrypt(value[len(SEALED_PREFIX) :].encode())
        if isinstance(value, str) and value.startswith(SEALED_PREFIX)
        else value
        for key, value in (config or {}).items()
    }


def public_config(partner: Partner) -> dict[str, Any]:
    """The adapter settings as they may be shown: secrets left out."""
    return adapter_registry.dump_config(partner.adapter, partner.adapter_config)


def _check_categories(categories: list[str]) -> list[str]:
    unknown = sorted(set(categories) - set(CATEGORIES))
    if unknown:
        raise Invalid(
            f"Unknown categories {', '.join(unknown)}; known: {', '.join(CATEGORIES)}.",
            details={"categories": [f"unknown: {', '.join(unknown)}"]},
        )
    return sorted(set(categories), key=CATEGORIES.index)


def _check_regions(session: Session, regions: list[str]) -> list[str]:
    """Grid codes and region codes (a node serves everything below it) that exist, or
    ``*`` for everywhere."""
    wanted = sorted({r.strip() for r in regions if r.strip()})
    if ALL_REGIONS in wanted:
        return [ALL_REGIONS]
    found = grids.grids_by_code(session, wanted)
    tree = region_tree.load(session)
    unknown = [code for code in wanted if code not in found and code not in tree.by_code]
    if unknown:
        raise Invalid(
            f"Unknown grid or region codes in regions: {', '.join(unknown)}.",
            details={"regions": [f"unknown grid or region: {code}" for code in unknown]},
        )
    return wanted


def _check_kind(kind: str) -> str:
    if kind not in PARTNER_KINDS:
        raise Invalid(f"kind must be one of {', '.join(PARTNER_KINDS)}.", details={"kind": ["unknown partner kind"]})
    return kind


def _name_free(session: Session, name: str, partner_id: int | None = None) -> None:
    other = session.execute(select(Partner.id).where(Partner.name == name)).scalar_one_or_none()
    if other is not None and other != partner_id:
        raise Conflict(f"A partner called {name} already exists.", details={"name": name}, code="partner_exists")


def create_partner(session: Session, principal: Principal, data: dict) -> Partner:
    """Add a partner (admin). The adapter must be installed and its settings valid."""
    principal.require("admin")
    name = data["name"].strip()
    _name_free(session, name)
    adapter_name = data["adapter"]
    config = adapter_registry.validate_config(adapter_name, data.get("adapter_config") or {})
    partner = Partner(
        name=name,
        kind=_check_kind(data["kind"]),
        adapter=adapter_name,
        adapter_config=_seal(adapter_name, config),
        categories=_check_categories(data.get("categories") or []),
        regions=_check_regions(session, data.get("regions") or []),
        max_amount_fen=data.get("max_amount_fen"),
        respond_within_hours=data.get("respond_within_hours") or 48,
        receipt_within_days=data.get("receipt_within_days") or 7,
        contact=(data.get("contact") or "").strip(),
        active=data.get("active", True),
    )
    session.add(partner)
    session.flush()
    audit.record(session, "partner.created", partner, after=partner_summary(partner))
    return partner


def partner_summary(partner: Partner) -> dict[str, Any]:
    """The partner as the audit log keeps it (no secrets)."""
    return {
        "name": partner.name,
        "kind": partner.kind,
        "adapter": partner.adapter,
        "adapter_config": public_config(partner),
        "categories": list(partner.categories or []),
        "regions": list(partner.regions or []),
        "max_amount_fen": partner.max_amount_fen,
        "respond_within_hours": partner.respond_within_hours,
        "receipt_within_days": partner.receipt_within_days,
        "contact": partner.contact,
        "active": partner.active,
    }


def get_partner(session: Session, principal: Principal, partner_id: int) -> Partner:
    """A partner, for admins, auditors and the partner's own users (others: not found)."""
    principal.require_partner(partner_id, what="partner")
    partner = found(session.get(Partner, partner_id), "partner")
    return partner


def list_partners(
    session: Session,
    principal: Principal,
    *,
    active: bool | None = None,
    category: str | None = None,
    kind: str | None = None,
    page: int = 1,
    per_page: int = 50,
) -> Page:
    """All partners (admins and auditors), filtered; by name."""
    principal.require("admin", "auditor")
    stmt = select(Partner).order_by(Partner.name)
    if active is not None:
        stmt = stmt.where(Partner.active.is_(active))
    if kind:
        stmt = stmt.where(Partner.kind == kind)
    if category:
        # Categories are a JSON list (portable across SQLite and PostgreSQL only as text),
        # and partners are few: filter the whole table, then page.
        rows = [p for p in session.execute(stmt).scalars() if category in (p.categories or [])]
        start = (page - 1) * per_page
        return Page(rows[start : start + per_page], page, per_page, len(rows))
    return paginate(session, stmt, page, per_page)


def update_partner(session: Session, principal: Principal, partner_id: int, data: dict) -> Partner:
    """Change a partner (admin): activate or deactivate, categories, regions, limits,
    adapter and its settings. Secret settings left out of a new config are kept."""
    principal.require("admin")
    partner = found(session.get(Partner, partner_id), "partner")
    before = partner_summary(partner)
    if "name" in data:
        _name_free(session, data["name"].strip(), partner.id)
        partner.name = data["name"].strip()
    if "kind" in data:
        partner.kind = _check_kind(data["kind"])
    if "categories" in data:
        partner.categories = _check_categories(data["categories"] or [])
    if "regions" in data:
        partner.regions = _check_regions(session, data["regions"] or [])
    for key in ("max_amount_fen", "respond_within_hours", "receipt_within_days", "active"):
        if key in data:
            setattr(partner, key, data[key])
    if "contact" in data:
        partner.contact = (data["contact"] or "").strip()
    secrets_changed = False
    if "adapter" in data or "adapter_config" in data:
        adapter_name = data.get("adapter", partner.adapter)
        config = data.get("adapter_config")
        if config is None:
            config = public_config(partner) if adapter_name == partner.adapter else {}
        if adapter_name == partner.adapter:
            # Secrets cannot be read back, so an edit that leaves them out keeps them.
            kept = {k: v for k, v in (partner.adapter_config or {}).items() if k in _secret_fields(adapter_name)}
            config = {**_unseal(kept), **config}
        loaded = adapter_registry.validate_config(adapter_name, config)
        secret = _secret_fields(adapter_name)
        old = _unseal(partner.adapter_config) if adapter_name == partner.adapter else {}
        secrets_changed = any(loaded.get(k) != old.get(k) for k in secret)
        partner.adapter = adapter_name
        partner.adapter_config = _seal(adapter_name, loaded)
    session.flush()
    after = partner_summary(partner)
    changed = sorted(k for k in after if after[k] != before[k])
    if changed or secrets_changed:
        action = "partner.updated"
        if changed == ["active"]:
            action = "partner.activated" if partner.active else "partner.deactivated"
        audit.record(
            session,
            action,
            partner,
            before={k: before[k] for k in changed},
            after={k: after[k] for k in changed},
            details={"secret_changed": True} if secrets_changed else None,
        )
    return partner


def balances(session: Session, partner: Partner) -> dict[str, int]:
    """``balance_fen``, ``pledged_fen`` and ``available_fen`` from the ledger."""
    return funds.balances(session, partner.id)


def partner_info(session: Session, partner: Partner, *, balance: bool = True) -> PartnerInfo:
    """What an adapter is given about a partner: its settings (secrets decrypted) and,
    with ``balance`` (the adapter decides by it), how much its fund can still promise."""
    return PartnerInfo(
        id=partner.id,
        name=partner.name,
        kind=partner.kind,
        config=_unseal(partner.adapter_config),
        available_fen=funds.balances(session, partner.id)["available_fen"] if balance else None,
    )


def serves(partner: Partner, category: str, grid_code: str, tree: region_tree.Tree) -> bool:
    """Whether an active partner takes ``category`` needs on ``grid_code`` (its regions
    matched by :func:`broker.registry.region_tree.serves`, the one region check)."""
    return (
        partner.active
        and category in (partner.categories or [])
        and region_tree.serves(tree, partner.regions, grid_code) is not None
    )


def detail(session: Session, partner: Partner) -> dict[str, Any]:
    """The partner as the API shows it: settings without secrets, and its balances."""
    return {
        "id": partner.id,
        **partner_summary(partner),
        **funds.balances(session, partner.id),
        "created_at": partner.created_at,
        "updated_at": partner.updated_at,
    }


def list_details(session: Session, principal: Principal, **filters: Any) -> Page:
    """:func:`list_partners` with each partner as :func:`detail` shows it."""
    result = list_partners(session, principal, **filters)
    return Page([detail(session, p) for p in result.items], result.page, result.per_page, result.total)


def get_detail(session: Session, principal: Principal, partner_id: int) -> dict[str, Any]:
    """:func:`get_partner`, as :func:`detail` shows it."""
    return detail(session, get_partner(session, principal, partner_id))
