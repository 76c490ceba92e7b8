"""The registry of households in hardship (困难对象信息库): grids, households, members and
visits, and the coverage view that keeps any household from being missed.

Scope: caseworkers act only within their own grids (anything outside reads as not
found, so its existence is not disclosed); auditors read everything and change nothing;
partners never see the registry. Identity numbers are stored encrypted with a keyed
hash that keeps one person out of two households; they leave this module only masked,
and never reach the audit log."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from broker import audit
from broker.platform import runtime, security
from broker.platform.errors import Conflict, Forbidden, Invalid, NotFound
from broker.platform.pages import Page, paginate
from broker.platform.scope import Principal
from broker.registry import household_facts, identity, privacy
from broker.registry.household_schema import HouseholdIn, load_household
from models import Grid, Household, Member, User, UserGrid, Visit
from models.base import utcnow
from models.registry import VISIT_CHANNELS

HOUSEHOLD_FIELDS = (
    "address",
    "head_name",
    "phone",
    "monthly_income_fen",
    "consent_to_share",
    "sudden_hardship",
    "notes",
)
MEMBER_FIELDS = ("name", "birth_date", "sex", "relation", "conditions", "disability_grade", "schooling", "employment")
CLOCK_SKEW = timedelta(minutes=5)


# --- who may do what -------------------------------------------------------------------


def _require_registry(principal: Principal, *, write: bool) -> None:
    """Partners never see the registry; auditors never change it."""
    if principal.role == "partner":
        raise Forbidden("Partners do not see the registry of households.")
    if write and principal.role == "auditor":
        raise Forbidden("Auditors read everything and change nothing.")


def _require_own_grid(principal: Principal, grid: Grid) -> None:
    """For creating on a grid: a caseworker must hold it (the grid itself is no secret)."""
    if principal.role == "caseworker" and grid.id not in principal.grid_ids:
        raise Forbidden(
            f"You can record households only on your own grids; {grid.code} is not one of them.",
            details={"grid": grid.code},
        )


def _visible_grid_ids(principal: Principal) -> frozenset[int] | None:
    """None means all grids."""
    return None if principal.role in ("admin", "auditor") else principal.grid_ids


# --- grids -----------------------------------------------------------------------------


def create_grid(session: Session, principal: Principal, data: dict) -> Grid:
    """Add a grid (admin). Codes are unique."""
    principal.require("admin")
    code = data["code"].strip()
    if grid_by_code(session, code) is not None:
        raise Conflict(f"A grid with code {code} already exists.", details={"code": code}, code="grid_exists")
    grid = Grid(
        code=code,
        name=data["name"].strip(),
        district=data["district"].strip(),
        street=data["street"].strip(),
        community=data["community"].strip(),
    )
    session.add(grid)
    session.flush()
    audit.record(session, "grid.created", grid, after=grid_summary(grid))
    return grid


def grid_summary(grid: Grid) -> dict[str, Any]:
    return {
        "code": grid.code,
        "name": grid.name,
        "district": grid.district,
        "street": grid.street,
        "community": grid.community,
    }


def grid_by_code(session: Session, code: str) -> Grid | None:
    return session.execute(select(Grid).where(Grid.code == code)).scalar_one_or_none()


def grids_by_code(session: Session, codes: list[str] | tuple[str, ...] | set[str]) -> dict[str, Grid]:
    """The grids among ``codes`` that exist, by code (for validating partner regions)."""
    if not codes:
        return {}
    rows = session.execute(select(Grid).where(Grid.code.in_(list(codes)))).scalars()
    return {g.code: g for g in rows}


def list_grids(session: Session, principal: Principal, *, page: int = 1, per_page: int = 50) -> Page:
    """Grids the principal may see: a caseworker's own; all for admins and auditors."""
    _require_registry(principal, write=False)
    stmt = select(Grid).order_by(Grid.code)
    visible = _visible_grid_ids(principal)
    if visible is not None:
        stmt = stmt.where(Grid.id.in_(visible))
    return paginate(session, stmt, page, per_page)


def get_grid(session: Session, principal: Principal, code: str) -> Grid:
    _require_registry(principal, write=False)
    grid = grid_by_code(session, code)
    if grid is None or not principal.can_see_grid(grid.id):
        raise NotFound("No such grid.")
    return grid


def caseworkers_by_grid(session: Session, grid_ids: list[int] | set[int]) -> dict[int, list[User]]:
    """The active caseworkers holding each grid."""
    out: dict[int, list[User]] = {gid: [] for gid in grid_ids}
    if not grid_ids:
        return out
    rows = session.execute(
        select(UserGrid.grid_id, User)
        .join(User, User.id == UserGrid.user_id)
        .where(UserGrid.grid_id.in_(list(grid_ids)), User.role == "caseworker", User.is_active.is_(True))
        .order_by(User.username)
    ).all()
    for grid_id, user in rows:
        out[grid_id].append(user)
    return out


# --- households ------------------------------------------------------------------------


def _grid_for_create(session: Session, principal: Principal, code: str) -> Grid:
    grid = grid_by_code(session, code)
    if grid is None:
        raise Invalid(f"There is no grid with code {code}.", details={"grid": ["unknown grid"]}, code="unknown_grid")
    _require_own_grid(principal, grid)
    return grid


def create_household(session: Session, principal: Principal, data: dict) -> Household:
    """Record a household and its members on a grid (validated input, as
    :class:`broker.registry.household_schema.HouseholdIn` loads it)."""
    _require_registry(principal, write=True)
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
        consent_to_share=data.get("consent_to_share", False),
        sudden_hardship=data.get("sudden_hardship", False),
        notes=data.get("notes", ""),
        created_by_id=created_by_id,
    )
    for index, member_data in enumerate(members):
        household.members.append(_new_member(session, principal, None, member_data, index))
    household_facts.refresh(household)
    session.add(household)
    _flush_guarded(session)
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


def _not_registered_elsewhere(
    session: Session, principal: Principal | None, id_hash: str, household_id: int | None, index: int | None
) -> None:
    """409 ``duplicate_person`` if this ID number belongs to a member of another
    household; the other household is named only to those who may see it."""
    other = session.execute(select(Member).where(Member.id_hash == id_hash)).scalar_one_or_none()
    if other is None or (household_id is not None and other.household_id == household_id):
        return
    where = f"member {index}" if index is not None else "this member"
    theirs = session.get(Household, other.household_id)
    details: dict[str, Any] = {"member_index": index}
    if principal is None or principal.can_see_grid(theirs.grid_id):
        details.update(
            {"household_id": theirs.id, "address": theirs.address, "grid": theirs.grid.code, "visible": True}
        )
        message = (
            f"The person in {where} is already registered in household {theirs.id} "
            f"({theirs.grid.code}, {theirs.address}); one person belongs to one household."
        )
    else:
        details["visible"] = False
        message = (
            f"The person in {where} is already registered in another household, on a grid you do not hold; "
            "ask an administrator to check."
        )
    raise Conflict(message, details=details, code="duplicate_person")


def _set_identity(
    session: Session, principal: Principal | None, member: Member, number: str, household_id: int | None, index: int
) -> None:
    id_hash = security.keyed_hash(number)
    if id_hash == member.id_hash:
        return
    _not_registered_elsewhere(session, principal, id_hash, household_id, index)
    member.id_hash = id_hash
    member.id_number_enc = security.encrypt(number)


def _new_member(
    session: Session, principal: Principal | None, household_id: int | None, data: dict, index: int
) -> Member:
    member = Member(
        name=data["name"].strip(),
        birth_date=data.get("birth_date"),
        sex=data.get("sex"),
        relation=data.get("relation", ""),
        conditions=list(data.get("conditions") or []),
        disability_grade=data.get("disability_grade"),
        schooling=data.get("schooling"),
        employment=data.get("employment"),
    )
    if data.get("id_number"):
        _set_identity(session, principal, member, data["id_number"], household_id, index)
    return member


def _update_member(
    session: Session, principal: Principal | None, household: Household, member: Member, data: dict, index: int
) -> None:
    if data.get("id_number"):
        number, born = identity.parse(data["id_number"])
        if "birth_date" in data and data["birth_date"] not in (None, born):
            raise Invalid(
                f"members.{index}.birth_date does not match the birth date inside the ID number.",
                details={f"members.{index}.birth_date": ["does not match the ID number"]},
            )
        _set_identity(session, principal, member, number, household.id, index)
        member.birth_date = born
    elif member.id_number_enc is not None and data.get("birth_date"):
        born = identity.parse(security.decrypt(member.id_number_enc))[1]
        if data["birth_date"] != born:
            raise Invalid(
                f"members.{index}.birth_date does not match the birth date inside the member's ID number "
                f"({born.isoformat()}).",
                details={f"members.{index}.birth_date": ["does not match the ID number"]},
            )
    for key in MEMBER_FIELDS:
        if key in data and key != "birth_date":
            value = data[key]
            setattr(member, key, list(value or []) if key == "conditions" else value)
    if data.get("birth_date") and not data.get("id_number"):
        member.birth_date = data["birth_date"]


def _scoped_household(session: Session, principal: Principal, household_id: int, *, write: bool) -> Household:
    _require_registry(principal, write=write)
    household = session.get(Household, household_id)
    if household is None:
        raise NotFound("No such household.")
    principal.require_grid(household.grid_id, write=write)
    return household


def get_household(session: Session, principal: Principal, household_id: int, *, write: bool = False) -> Household:
    """The household, if the principal may see it (and change it, with ``write``):
    404 outside a caseworker's grids, 403 for auditors writing and for partners."""
    if principal.role == "partner":
        raise NotFound("No such household.")
    return _scoped_household(session, principal, household_id, write=write)


def list_households(
    session: Session,
    principal: Principal,
    *,
    grid: str | None = None,
    q: str | None = None,
    page: int = 1,
    per_page: int = 50,
) -> Page:
    """Households the principal may see, newest first; ``q`` matches the address, the
    head's or a member's name, the survey reference, or (exactly) a resident ID."""
    _require_registry(principal, write=False)
    stmt = select(Household).options(selectinload(Household.grid)).order_by(Household.id.desc())
    visible = _visible_grid_ids(principal)
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
                Household.id.in_(select(Member.household_id).where(Member.id_hash == security.keyed_hash(number)))
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


def _apply_changes(session: Session, principal: Principal | None, household: Household, data: dict) -> None:
    for key in HOUSEHOLD_FIELDS:
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
            household.members.append(_new_member(session, principal, household.id, item, index))
            continue
        if member_id not in by_id or member_id in remove:
            raise Invalid(
                f"Member {member_id} is not in this household.",
                details={f"members.{index}.id": ["not a member of this household"]},
            )
        _update_member(session, principal, household, by_id[member_id], item, index)
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
    if principal.role == "caseworker" and target.id not in principal.grid_ids:
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
        _require_registry(principal, write=True)
    grid_obj = grid if isinstance(grid, Grid) else grid_by_code(session, grid)
    if grid_obj is None:
        raise Invalid(f"There is no grid with code {grid}.", details={"grid": ["unknown grid"]}, code="unknown_grid")
    if principal is not None:
        _require_own_grid(principal, grid_obj)
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
    changes["members"], changes["remove_member_ids"] = _match_members(existing, data["members"])
    _apply_changes(session, principal, existing, changes)
    household_facts.refresh(existing)
    _flush_guarded(session)
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


def _match_members(household: Household, incoming: list[dict]) -> tuple[list[dict], list[int]]:
    by_hash = {m.id_hash: m for m in household.members if m.id_hash}
    by_name = {(m.name, m.birth_date): m for m in household.members}
    items: list[dict] = []
    kept: set[int] = set()
    for data in incoming:
        match = None
        if data.get("id_number"):
            match = by_hash.get(security.keyed_hash(data["id_number"]))
        if match is None:
            candidate = by_name.get((data["name"], data.get("birth_date")))
            if candidate is not None and (not candidate.id_hash or not data.get("id_number")):
                match = candidate
        if match is not None and match.id not in kept:
            kept.add(match.id)
            items.append({**data, "id": match.id})
        else:
            items.append(dict(data))
    removed = [m.id for m in household.members if m.id not in kept]
    return items, removed


# --- views of households ---------------------------------------------------------------


def masked_id(member: Member) -> str | None:
    """The member's ID number as staff see it (110105********123X); None if unknown."""
    if member.id_number_enc is None:
        return None
    return identity.masked(security.decrypt(member.id_number_enc))


def member_summary(member: Member) -> dict[str, Any]:
    """What the audit log keeps of a member: never the full ID number."""
    return {
        "id": member.id,
        "name": member.name,
        "relation": member.relation,
        "birth_date": member.birth_date.isoformat() if member.birth_date else None,
        "id_number": masked_id(member),
        "conditions": list(member.conditions or []),
        "disability_grade": member.disability_grade,
        "schooling": member.schooling,
        "employment": member.employment,
    }


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
        "survey_ref": household.survey_ref,
        "notes": privacy.redact(household.notes),
        "members": [member_summary(m) for m in household.members],
        "facts": facts_of(household),
    }


def facts_of(household: Household) -> dict[str, Any]:
    return {
        "member_count": household.member_count,
        "income_per_capita_fen": household.income_per_capita_fen,
        "school_age_children": household.school_age_children,
        "elderly_count": household.elderly_count,
        "disabled_count": household.disabled_count,
        "serious_illness": household.serious_illness,
        "unemployed_count": household.unemployed_count,
    }


# --- visits ----------------------------------------------------------------------------


def _as_utc(value: datetime | None) -> datetime:
    if value is None:
        return utcnow()
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(runtime.settings()["TIMEZONE"]))
    return value.astimezone(ZoneInfo("UTC"))


def record_visit(session: Session, principal: Principal, household_id: int, data: dict) -> Visit:
    """Record a visit (走访): who, when (default now; never in the future), through
    which channel, what was found. A naive ``visited_at`` is read in the broker's time zone."""
    household = get_household(session, principal, household_id, write=True)
    channel = data["channel"]
    if channel not in VISIT_CHANNELS:
        raise Invalid(f"channel must be one of {', '.join(VISIT_CHANNELS)}.", details={"channel": ["unknown channel"]})
    visited_at = _as_utc(data.get("visited_at"))
    if visited_at > utcnow() + CLOCK_SKEW:
        raise Invalid("A visit cannot be in the future.", details={"visited_at": ["is in the future"]})
    visit = Visit(
        household_id=household.id,
        caseworker_id=principal.user_id,
        channel=channel,
        visited_at=visited_at,
        findings=(data.get("findings") or "").strip(),
    )
    session.add(visit)
    if household.last_visited_at is None or visited_at > household.last_visited_at:
        household.last_visited_at = visited_at
    session.flush()
    audit.record(
        session,
        "visit.recorded",
        visit,
        household_id=household.id,
        after={"channel": channel, "visited_at": visited_at.isoformat(), "findings": privacy.redact(visit.findings)},
    )
    return visit


def list_visits(
    session: Session, principal: Principal, household_id: int, *, page: int = 1, per_page: int = 50
) -> Page:
    household = get_household(session, principal, household_id)
    stmt = select(Visit).where(Visit.household_id == household.id).order_by(Visit.visited_at.desc(), Visit.id.desc())
    return paginate(session, stmt, page, per_page)


# --- coverage: no household missed (不漏一户) ------------------------------------------


def coverage(
    session: Session,
    principal: Principal,
    *,
    grid: str | None = None,
    not_visited_days: int = 90,
    page: int = 1,
    per_page: int = 50,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Households nobody has visited in ``not_visited_days`` (or ever), never-visited
    first then the longest unvisited; with a summary per grid naming the caseworkers
    who hold it. Scoped like every registry read."""
    _require_registry(principal, write=False)
    now = now or utcnow()
    cutoff = now - timedelta(days=not_visited_days)
    grid_stmt = select(Grid).order_by(Grid.code)
    visible = _visible_grid_ids(principal)
    if visible is not None:
        grid_stmt = grid_stmt.where(Grid.id.in_(visible))
    if grid:
        grid_stmt = grid_stmt.where(Grid.code == grid)
    grids = list(session.execute(grid_stmt).scalars())
    if grid and not grids:
        raise NotFound("No such grid.")
    grid_ids = [g.id for g in grids]
    stale = or_(Household.last_visited_at.is_(None), Household.last_visited_at < cutoff)
    totals = dict(
        session.execute(
            select(Household.grid_id, func.count()).where(Household.grid_id.in_(grid_ids)).group_by(Household.grid_id)
        ).all()
    )
    missed = dict(
        session.execute(
            select(Household.grid_id, func.count())
            .where(Household.grid_id.in_(grid_ids), stale)
            .group_by(Household.grid_id)
        ).all()
    )
    workers = caseworkers_by_grid(session, grid_ids)
    stmt = (
        select(Household)
        .options(selectinload(Household.grid))
        .where(Household.grid_id.in_(grid_ids), stale)
        .order_by(Household.last_visited_at.is_not(None), Household.last_visited_at, Household.id)
    )
    result = paginate(session, stmt, page, per_page)
    items = []
    for h in result.items:
        days = None if h.last_visited_at is None else (now - h.last_visited_at).days
        items.append(
            {
                "household_id": h.id,
                "grid": h.grid.code,
                "address": h.address,
                "head_name": h.head_name,
                "last_visited_at": h.last_visited_at,
                "days_since_visit": days,
                "caseworkers": [_worker(u) for u in workers.get(h.grid_id, [])],
            }
        )
    by_grid = [
        {
            "grid": g.code,
            "name": g.name,
            "community": g.community,
            "caseworkers": [_worker(u) for u in workers.get(g.id, [])],
            "households": totals.get(g.id, 0),
            "not_visited": missed.get(g.id, 0),
        }
        for g in grids
    ]
    return {
        **Page(items, result.page, result.per_page, result.total).as_dict(),
        "not_visited_days": not_visited_days,
        "cutoff": cutoff,
        "by_grid": by_grid,
    }


def _worker(user: User) -> dict[str, Any]:
    return {"id": user.id, "username": user.username, "display_name": user.display_name}
