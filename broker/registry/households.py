"""Households in hardship (困难对象): recording one on a grid with its members, reading,
searching, changing and moving it, and the survey upsert that makes an import
re-runnable. Every call is scoped (:mod:`.access`); members and their identity numbers
are handled in :mod:`.members`, and a household's audit summary masks them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from broker import audit
from broker.platform import security
from broker.platform.errors import Conflict, Forbidden, Invalid, NotFound
from broker.platform.pages import Page, paginate
from broker.platform.scope import Principal
from broker.registry import access_log, consent_records, household_facts, identity, privacy
from broker.registry.access import require_own_grid, require_registry, visible_grid_ids
from broker.registry.grids import grid_by_code
from broker.registry.household_schema import ASSET_FIELDS, HouseholdIn, load_household
from broker.registry.members import match_members, member_summary, new_member, update_member
from models import Grid, Household, Member

HOUSEHOLD_FIELDS = (
    "address",
    "head_name",
    "phone",
    "monthly_income_fen",
    "consent_to_share",
    "sudden_hardship",
    "notes",
    *ASSET_FIELDS,
)


def _grid_for_create(session: Session, principal: Principal, code: str) -> Grid:
    grid = grid_by_code(session, code)
    if grid is None:
        raise Invalid(f"There is no grid with code {code}.", details={"grid": ["unknown grid"]}, code="unknown_grid")
    require_own_grid(principal, grid)
    return grid


def create_household(session: Session, principal: Principal, data: dict) -> Household:
    """Record a household and its members on a grid (validated input, as
    :class:`broker.registry.household_schema.HouseholdIn` loads it)."""
    require_registry(principal, write=True)
    grid = _grid_for_create(session, principal, data["grid"])
    return _create(session, grid, data, principal=principal, created_by_id=principal.user_id)


def _create(
    session: Session,
    grid: Grid,
    data: dict,
    *,
    principal: Principal | None,
    created_by_id: int | None,
    actor: str | None = None,
) -> Household:
    survey_ref = data.get("survey_ref")
    if survey_ref and _by_survey_ref(session, grid.id, survey_ref) is not None:
        raise Conflict(
            f"Survey record {survey_ref} is already registered on grid {grid.code}.",
            details={"survey_ref": survey_ref, "grid": grid.code},
            code="duplicate_survey_ref",
        )
    members = data.get("members") or []
    household = Household(
        grid_id=grid.id,
        grid=grid,
        survey_ref=survey_ref,
        address=data["address"].strip(),
        head_name=(data.get("head_name") or _head_name(members)).strip(),
        phone=data.get("phone"),
        monthly_income_fen=data.get("monthly_income_fen", 0),
        consent_to_share=False,
        sudden_hardship=data.get("sudden_hardship", False),
        notes=data.get("notes", ""),
        created_by_id=created_by_id,
        **{key: data[key] for key in ASSET_FIELDS if key in data},
    )
    for index, member_data in enumerate(members):
        household.members.append(new_member(session, principal, None, member_data, index))
    household_facts.refresh(household)
    session.add(household)
    _flush_guarded(session)
    if data.get("consent_to_share"):
        _follow_consent_flag(session, household, True, principal, actor)
    audit.record(
        session,
        "household.created",
        household,
        household_id=household.id,
        after=household_summary(household),
        actor=actor,
    )
    return household


def _head_name(members: list[dict]) -> str:
    for m in members:
        if m.get("relation") in ("head", "户主"):
            return m["name"]
    return members[0]["name"] if members else ""


def _flush_guarded(session: Session) -> None:
    """Flush; a unique clash that slipped past the checks (a concurrent writer) is a 409."""
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise Conflict(
            "Someone registered the same person or survey record at the same moment; reload and try again.",
            code="duplicate_person" if "id_hash" in str(exc.orig) else "conflict",
        ) from None


def _by_survey_ref(session: Session, grid_id: int, survey_ref: str) -> Household | None:
    return session.execute(
        select(Household).where(Household.grid_id == grid_id, Household.survey_ref == survey_ref)
    ).scalar_one_or_none()


def require_household_scope(principal: Principal, grid_id: int | None, *, write: bool = False) -> None:
    """The principal may see (and change, with ``write``) a household on ``grid_id``
    (``None``: there is no such household): 404 outside a caseworker's grids and for
    partners, 403 for auditors writing. For callers that read only the columns they
    need (a submission); :func:`get_household` is the usual way in."""
    if principal.role == "partner":
        raise NotFound("No such household.")
    require_registry(principal, write=write)
    if grid_id is None:
        raise NotFound("No such household.")
    principal.require_grid(grid_id, write=write)


def get_household(session: Session, principal: Principal, household_id: int, *, write: bool = False) -> Household:
    """The household, if the principal may see it (and change it, with ``write``):
    404 outside a caseworker's grids and for partners, 403 for auditors writing."""
    household = session.get(Household, household_id)
    require_household_scope(principal, None if household is None else household.grid_id, write=write)
    return household


def read_household(session: Session, principal: Principal, household_id: int, *, reason: str) -> Household:
    """The household as :func:`get_household` gives it, for a page or an API answer that
    shows its members in full: the read of their sensitive fields is logged (``reason``:
    the page or call)."""
    household = get_household(session, principal, household_id)
    access_log.record(session, principal, household, reason)
    return household


def list_households(
    session: Session,
    principal: Principal,
    *,
    grid: str | None = None,
    q: str | None = None,
    state: str | None = "active",
    page: int = 1,
    per_page: int = 50,
) -> Page:
    """Households the principal may see, newest first; ``q`` matches the address, the
    head's or a member's name, the survey reference, or (exactly) a resident ID.
    ``state``: ``active`` (the default: the working list), ``inactive`` (moved away,
    deceased, out of hardship), a single state, or None for all."""
    require_registry(principal, write=False)
    stmt = select(Household).options(selectinload(Household.grid)).order_by(Household.id.desc())
    if state == "inactive":
        stmt = stmt.where(Household.state != "active")
    elif state:
        stmt = stmt.where(Household.state == state)
    visible = visible_grid_ids(principal)
    if visible is not None:
        stmt = stmt.where(Household.grid_id.in_(visible))
    if grid:
        stmt = stmt.join(Grid, Grid.id == Household.grid_id).where(Grid.code == grid)
    if q and q.strip():
        term = q.strip()
        like = f"%{_escape_like(term)}%"
        matches = [
            Household.address.ilike(like, escape="\\"),
            Household.head_name.ilike(like, escape="\\"),
            Household.survey_ref.ilike(like, escape="\\"),
            Household.id.in_(select(Member.household_id).where(Member.name.ilike(like, escape="\\"))),
        ]
        try:
            number = identity.parse(term)[0]
        except Invalid:
            pass
        else:
            matches.append(
                Household.id.in_(select(Member.household_id).where(Member.id_hash.in_(security.keyed_hashes(number))))
            )
        stmt = stmt.where(or_(*matches))
    return paginate(session, stmt, page, per_page)


def _escape_like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def update_household(session: Session, principal: Principal, household_id: int, data: dict) -> Household:
    """Change a household's details and members (validated input, as
    :class:`broker.registry.household_schema.HouseholdPatch` loads it); facts are recomputed."""
    household = get_household(session, principal, household_id, write=True)
    if "grid" in data:
        raise Invalid(
            "To move a household to another grid use POST /households/{id}/move.",
            details={"grid": ["use the move action"]},
        )
    before = household_summary(household)
    _apply_changes(session, principal, household, data)
    household_facts.refresh(household)
    _flush_guarded(session)
    if "consent_to_share" in data:
        _follow_consent_flag(session, household, data["consent_to_share"], principal, None)
    after = household_summary(household)
    changed = {k for k in after if after[k] != before.get(k)}
    if changed:
        audit.record(
            session,
            "household.updated",
            household,
            household_id=household.id,
            before={k: before.get(k) for k in sorted(changed)},
            after={k: after[k] for k in sorted(changed)},
        )
    return household


def _follow_consent_flag(
    session: Session, household: Household, wanted: bool, principal: Principal | None, actor: str | None
) -> None:
    """``consent_to_share`` written: the head's consent record follows (see
    :func:`consent_records.follow_flag`); the column itself is derived from the records."""
    by = principal.username if principal is not None else (actor or consent_records.SYSTEM)
    consent_records.follow_flag(session, household, bool(wanted), by_id=principal.user_id if principal else None, by=by)


def _apply_changes(session: Session, principal: Principal | None, household: Household, data: dict) -> None:
    for key in HOUSEHOLD_FIELDS:
        if key == "consent_to_share":
            continue  # derived from the consent records, after the flush
        if key in data:
            value = data[key]
            setattr(household, key, value.strip() if isinstance(value, str) and key != "phone" else value)
    if "survey_ref" in data and data["survey_ref"] != household.survey_ref:
        if data["survey_ref"] and _by_survey_ref(session, household.grid_id, data["survey_ref"]) is not None:
            raise Conflict(
                f"Survey record {data['survey_ref']} is already registered on this grid.",
                code="duplicate_survey_ref",
            )
        household.survey_ref = data["survey_ref"]
    by_id = {m.id: m for m in household.members}
    remove = set(data.get("remove_member_ids") or [])
    unknown = sorted(remove - set(by_id))
    if unknown:
        raise Invalid(
            f"Members {unknown} are not in this household.", details={"remove_member_ids": ["not in this household"]}
        )
    for member_id in remove:
        household.members.remove(by_id[member_id])
    # Removals first, so that a person moved between two entries does not clash with itself.
    session.flush()
    for index, item in enumerate(data.get("members") or []):
        member_id = item.get("id")
        if member_id is None:
            household.members.append(new_member(session, principal, household.id, item, index))
            continue
        if member_id not in by_id or member_id in remove:
            raise Invalid(
                f"Member {member_id} is not in this household.",
                details={f"members.{index}.id": ["not a member of this household"]},
            )
        update_member(session, principal, household, by_id[member_id], item, index)
    if not household.members:
        raise Invalid(
            "A household keeps at least one member.", details={"remove_member_ids": ["would leave no members"]}
        )


def move_household(session: Session, principal: Principal, household_id: int, grid_code: str) -> Household:
    """Move a household to another grid: admins, or a caseworker holding both grids."""
    household = get_household(session, principal, household_id, write=True)
    target = grid_by_code(session, grid_code)
    if target is None:
        raise Invalid(f"There is no grid with code {grid_code}.", details={"grid": ["unknown grid"]})
    if (principal.role == "caseworker" or principal.scoped) and target.id not in principal.grid_ids:
        raise Forbidden(
            f"You hold only one of the two grids; ask an administrator or a caseworker of {target.code}.",
            details={"grid": target.code},
        )
    if target.id == household.grid_id:
        raise Invalid(f"The household is already on grid {target.code}.", details={"grid": ["same grid"]})
    if household.survey_ref and _by_survey_ref(session, target.id, household.survey_ref) is not None:
        raise Conflict(
            f"Grid {target.code} already has a household with survey record {household.survey_ref}.",
            code="duplicate_survey_ref",
        )
    source = household.grid
    household.grid_id = target.id
    household.grid = target
    session.flush()
    audit.record(
        session,
        "household.moved",
        household,
        household_id=household.id,
        before={"grid": source.code},
        after={"grid": target.code},
    )
    return household


def upsert_household_from_survey(
    session: Session, principal_or_actor: Principal | str, grid: Grid | str, row: dict
) -> tuple[Household, bool]:
    """Create or update the household of a survey row, keyed by (grid, ``survey_ref``),
    so that importing the same survey again updates instead of duplicating.

    ``row`` is raw (it is validated here like a POST body; :class:`Invalid` carries the
    field errors). The row is the household's full picture: members are matched by ID
    number, else by name and birth date; matched ones are updated, new ones added, and
    ones no longer listed removed. ``principal_or_actor`` is the signed-in principal
    (scope applies) or an actor name such as ``"cli:import"`` (an operator at the console)."""
    principal = principal_or_actor if isinstance(principal_or_actor, Principal) else None
    actor = None if principal is not None else str(principal_or_actor)
    if principal is not None:
        require_registry(principal, write=True)
    grid_obj = grid if isinstance(grid, Grid) else grid_by_code(session, grid)
    if grid_obj is None:
        raise Invalid(f"There is no grid with code {grid}.", details={"grid": ["unknown grid"]}, code="unknown_grid")
    if principal is not None:
        require_own_grid(principal, grid_obj)
    data = load_household({**row, "grid": grid_obj.code}, schema=HouseholdIn)
    if not data.get("survey_ref"):
        raise Invalid("A survey row needs its survey_ref.", details={"survey_ref": ["required for an import"]})
    existing = _by_survey_ref(session, grid_obj.id, data["survey_ref"])
    if existing is None:
        household = _create(
            session,
            grid_obj,
            data,
            principal=principal,
            created_by_id=principal.user_id if principal else None,
            actor=actor,
        )
        return household, True
    before = household_summary(existing)
    changes: dict[str, Any] = {k: data[k] for k in HOUSEHOLD_FIELDS if k in data}
    changes["members"], changes["remove_member_ids"] = match_members(existing, data["members"])
    _apply_changes(session, principal, existing, changes)
    household_facts.refresh(existing)
    _flush_guarded(session)
    if "consent_to_share" in changes:
        _follow_consent_flag(session, existing, changes["consent_to_share"], principal, actor)
    after = household_summary(existing)
    changed = sorted(k for k in after if after[k] != before.get(k))
    audit.record(
        session,
        "household.reimported",
        existing,
        household_id=existing.id,
        before={k: before.get(k) for k in changed},
        after={k: after[k] for k in changed},
        details={"survey_ref": existing.survey_ref},
        actor=actor,
    )
    return existing, False


def household_summary(household: Household) -> dict[str, Any]:
    """The household's state for the audit log (ID numbers masked)."""
    return {
        "grid": household.grid.code if household.grid else None,
        "address": household.address,
        "head_name": household.head_name,
        "phone": household.phone,
        "monthly_income_fen": household.monthly_income_fen,
        "consent_to_share": household.consent_to_share,
        "sudden_hardship": household.sudden_hardship,
        **{key: getattr(household, key) for key in ASSET_FIELDS},
        "survey_ref": household.survey_ref,
        "notes": privacy.redact(household.notes),
        "members": [member_summary(m) for m in household.members],
        "facts": facts_of(household),
    }


def facts_of(household: Household) -> dict[str, Any]:
    return {column: getattr(household, column) for column in household_facts.FACT_COLUMNS}
