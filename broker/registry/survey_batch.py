"""Writing one chunk of the survey import set-based, so that a sheet of 100,000 rows is
a few statements per chunk instead of ten per household.

Each household is first prepared by :func:`prepare` (validated, its ID numbers hashed
and encrypted: no database), in the sheet's reader (:mod:`.survey_reader`). For a chunk
of prepared households (:class:`Ready`), :func:`plan` reads, in one SELECT each, the
households the chunk names (by grid and survey number, with their members), the
members its identity numbers already belong to, and the special groups of the known
households. Then each household takes one of three ways:

* **new** (not on the grid yet, nobody in it registered elsewhere or earlier in the
  chunk): inserted with the chunk's other new households — households, members (ID
  numbers encrypted as :mod:`.members` does, by the reader), consent records and special groups, each
  an ``executemany`` — and audited as :func:`households.upsert_household_from_survey`
  would (``consent.recorded``, ``household.created``, ``special_group.recorded``);
* **unchanged** (known, and the sheet says what the registry holds, facts included):
  nothing is written but its ``household.reimported`` event, as before;
* **changed**, or refused (a person registered in another household): the household
  goes through :func:`households.upsert_household_from_survey` alone, in a savepoint,
  which updates it or explains the refusal.

The order is the sheet's: a person claimed by an earlier household of the chunk makes a
later one take the one-by-one way, after the new ones are written, so that the second
is the one refused, as before."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from types import SimpleNamespace
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from broker import audit
from broker.platform import inserts, security
from broker.platform.errors import DomainError
from broker.registry import consent_records, household_facts, households, identity, privacy
from broker.registry.consents import HEAD_RELATIONS, SHARE_WITH_PARTNERS
from broker.registry.household_schema import ASSET_FIELDS, HouseholdIn, load_household
from broker.registry.members import MEMBER_FIELDS, match_members
from models import Consent, Grid, Household, Member, SpecialGroupMember
from models.base import utcnow

NEW, SAME, ONE_BY_ONE = "new", "same", "one_by_one"


@dataclass
class Ready:
    """A household of the sheet that passed the row checks: its grid's code, raw record
    (as :func:`households.upsert_household_from_survey` takes it) and special groups;
    then, from :func:`prepare`, its validated data with each ID number's hashes and
    encryption; and from :func:`plan` its grid and the way it is written."""

    grid_code: str
    row: dict[str, Any]
    groups: dict[str, list[str]]
    data: dict[str, Any] | None = None
    hashes: dict[str, str] = field(default_factory=dict)  # ID number → its hash under the current key
    all_hashes: list[str] = field(default_factory=list)  # every number's hash under every valid key
    encrypted: dict[str, bytes] = field(default_factory=dict)  # ID number → encrypted under the current key
    grid: Grid | None = None
    way: str = ONE_BY_ONE
    existing: Household | None = None


_SCHEMA = HouseholdIn()  # made once: making one costs more than loading a household with it


def prepare(item: Ready, keys: tuple[bytes, ...]) -> None:
    """Validate the household and hash and encrypt its ID numbers under ``keys`` (the
    current data key first): all that needs no database, so that it can be done in
    another process. An invalid household is left without data: the registry's upsert
    explains it, as for a single household."""
    try:
        item.data = load_household({**item.row, "grid": item.grid_code}, schema=_SCHEMA)
    except DomainError:
        return
    for m in item.data["members"]:
        number = m.get("id_number")
        if number:
            all_keys = security.keyed_hashes(number, keys)
            item.hashes[number] = all_keys[0]
            item.all_hashes += all_keys
            item.encrypted[number] = security.encrypt(number, keys)


def plan(session: Session, chunk: list[Ready]) -> None:
    """Choose each prepared household's way, with one read per kind of row."""
    valid = [i for i in chunk if i.data is not None]
    if not valid:
        return
    known = _known_households(session, valid)
    every_hash = [h for item in valid for h in item.all_hashes]
    claims: dict[str, Any] = {}  # hash (under any key) → the household holding the person
    for start in range(0, len(every_hash), 500):
        part = every_hash[start : start + 500]
        stmt = select(Member.id_hash, Member.household_id).where(Member.id_hash.in_(part))
        claims.update(session.execute(stmt).all())
    groups = _special_groups(session, [h.id for h in known.values()])
    today = household_facts.local_today()
    for index, item in enumerate(valid):
        item.existing = known.get((item.grid.id, item.data["survey_ref"]))
        mine: Any = item.existing.id if item.existing is not None else ("new", index)
        taken = any(claims.get(h) not in (None, mine) for h in item.all_hashes)
        if item.existing is None:
            item.way = ONE_BY_ONE if taken else NEW
        elif not taken and _unchanged(item.existing, item.data, item.groups, groups, today):
            item.way = SAME
        else:
            item.way = ONE_BY_ONE
        # A person a changed household lets go of stays claimed by it: a household taking
        # them later in the chunk waits its turn after it, one by one.
        for h in item.all_hashes:
            claims.setdefault(h, mine)


def _known_households(session: Session, chunk: list[Ready]) -> dict[tuple[int, str], Household]:
    grid_ids = {i.grid.id for i in chunk}
    refs = {i.data["survey_ref"] for i in chunk}
    stmt = (
        select(Household)
        .where(Household.grid_id.in_(grid_ids), Household.survey_ref.in_(refs))
        .options(selectinload(Household.members))
    )
    return {(h.grid_id, h.survey_ref): h for h in session.execute(stmt).scalars()}


def _special_groups(session: Session, household_ids: list[int]) -> set[tuple[int, str]]:
    if not household_ids:
        return set()
    stmt = select(SpecialGroupMember.member_id, SpecialGroupMember.group).where(
        SpecialGroupMember.household_id.in_(household_ids)
    )
    return {(member_id, group) for member_id, group in session.execute(stmt).all()}


def _unchanged(
    household: Household, data: dict, groups: dict[str, list[str]], recorded: set[tuple[int, str]], today: Any
) -> bool:
    """Whether the upsert would change nothing: fields, members, facts, consent, groups."""
    for key in households.HOUSEHOLD_FIELDS:
        if key in data and key != "consent_to_share":
            value = data[key]
            value = value.strip() if isinstance(value, str) and key != "phone" else value
            if getattr(household, key) != value:
                return False
    if bool(data.get("consent_to_share")) != bool(household.consent_to_share):
        return False
    items, removed = match_members(household, data["members"])
    if removed or any("id" not in item for item in items):
        return False
    by_id = {m.id: m for m in household.members}
    for item in items:
        member = by_id[item["id"]]
        if item.get("id_number"):
            if member.id_hash not in security.keyed_hashes(item["id_number"]):
                return False
        elif member.id_number_enc is not None and item.get("birth_date"):
            return False  # checked against the stored number by the one-by-one way
        for key in MEMBER_FIELDS:
            if key in item:
                value = list(item[key] or []) if key == "conditions" else item[key]
                if getattr(member, key) != value:
                    return False
    facts = household_facts.facts_for(household, today)
    if any(getattr(household, key) != value for key, value in facts.items()):
        return False
    for member in household.members:
        for group in groups.get(member.name, []):
            if member.deceased_on is None and (member.id, group) not in recorded:
                return False
    return True


def record_unchanged(session: Session, actor: str, item: Ready) -> None:
    """The event a re-import of an unchanged household leaves, as the upsert writes it."""
    household = item.existing
    audit.record(
        session,
        "household.reimported",
        household,
        household_id=household.id,
        before={},
        after={},
        details={"survey_ref": household.survey_ref},
        actor=actor,
    )


def insert_new(session: Session, actor: str, chunk: list[Ready]) -> bool:
    """Insert the chunk's new households in a few statements and audit them. False (and
    nothing written) when the database refused them: a concurrent writer took a survey
    number or a person; the caller then takes them one by one."""
    if not chunk:
        return True
    today = household_facts.local_today()
    now = utcnow()
    plans = [_new_household(item, today) for item in chunk]
    try:
        with session.begin_nested():
            ids = inserts.insert_ids(session, Household.__table__, [p[0] for p in plans])
            member_rows = [
                {**m, "household_id": hid} for hid, (_h, members) in zip(ids, plans, strict=True) for m in members
            ]
            member_ids = iter(inserts.insert_ids(session, Member.__table__, member_rows))
            for hid, (_h, members) in zip(ids, plans, strict=True):
                for m in members:
                    m["id"], m["household_id"] = next(member_ids), hid
            consents = [_consent_row(h, members, actor, now) for h, members in plans if h["consent_to_share"]]
            consent_ids = inserts.insert_ids(session, Consent.__table__, consents)
            group_rows = [
                {"household_id": m["household_id"], "member_id": m["id"], "grid_id": item.grid.id, "group": group,
                 "source": "survey", "known_on": date.today(), "recorded_by_id": None}
                for item, (_h, members) in zip(chunk, plans, strict=True)
                for m in members
                for group in item.groups.get(m["name"], [])
            ]  # fmt: skip
            group_ids = inserts.insert_ids(session, SpecialGroupMember.__table__, group_rows)
    except IntegrityError:
        return False
    consent_by_household = {c["household_id"]: (cid, c) for cid, c in zip(consent_ids, consents, strict=True)}
    groups_by_household: dict[int, list[tuple[int, dict]]] = {}
    for gid, row in zip(group_ids, group_rows, strict=True):
        groups_by_household.setdefault(row["household_id"], []).append((gid, row))
    for item, hid, (h, members) in zip(chunk, ids, plans, strict=True):
        if hid in consent_by_household:
            cid, c = consent_by_household[hid]
            audit.record(
                session,
                "consent.recorded",
                object_type=Consent.__tablename__,
                object_id=cid,
                household_id=hid,
                after={"member_id": c["member_id"], "guardian_member_id": None, "purpose": c["purpose"],
                       "partner_kinds": [], "evidence_photo_sha256": None},
            )  # fmt: skip
        audit.record(
            session,
            "household.created",
            object_type=Household.__tablename__,
            object_id=hid,
            household_id=hid,
            after=_summary(item, h, members),
            actor=actor,
        )
        for gid, row in groups_by_household.get(hid, []):
            audit.record(
                session,
                "special_group.recorded",
                object_type=SpecialGroupMember.__tablename__,
                object_id=gid,
                after={"member_id": row["member_id"], "group": row["group"], "source": row["source"],
                       "known_on": row["known_on"].isoformat()},
                household_id=hid,
                actor=actor,
            )  # fmt: skip
    return True


_DEFAULTS = {key: Household.__table__.c[key].default.arg for key in ASSET_FIELDS}


def _new_household(item: Ready, today: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The household's and its members' rows, as :func:`households.upsert_household_from_survey` would make them."""
    data = item.data
    members = []
    for m in data["members"]:
        number = m.get("id_number")
        row = {
            "name": m["name"].strip(),
            "birth_date": m.get("birth_date"),
            "sex": m.get("sex"),
            "relation": m.get("relation", ""),
            "conditions": list(m.get("conditions") or []),
            **{k: m.get(k) for k in ("disability_grade", "disability_kind", "schooling", "employment")},
            "supporter_able": m.get("supporter_able"),
            "id_hash": item.hashes[number] if number else None,
            "id_number_enc": item.encrypted[number] if number else None,
        }
        members.append(row)
    head = next((m["name"] for m in data["members"] if m.get("relation") in HEAD_RELATIONS), None)
    household = {
        "grid_id": item.grid.id,
        "survey_ref": data["survey_ref"],
        "address": data["address"].strip(),
        "head_name": (data.get("head_name") or head or (members[0]["name"] if members else "")).strip(),
        "phone": data.get("phone"),
        "monthly_income_fen": data.get("monthly_income_fen", 0),
        "consent_to_share": bool(data.get("consent_to_share")),
        "sudden_hardship": data.get("sudden_hardship", False),
        "notes": data.get("notes", ""),
        "created_by_id": None,
        **{key: data.get(key, _DEFAULTS[key]) for key in ASSET_FIELDS},
    }
    household.update(
        household_facts.compute(
            [SimpleNamespace(**m) for m in members],
            household["monthly_income_fen"] or 0,
            today,
            financial_assets_fen=household["financial_assets_fen"] or 0,
            medical_monthly_fen=household_facts.monthly_spending(
                household["medical_spending_fen"] or 0, household["medical_spending_period"]
            ),
        )
    )
    return household, members


def _consent_row(household: dict, members: list[dict], actor: str, now: Any) -> dict[str, Any]:
    """The head's consent to share, as :func:`consent_records.follow_flag` records it."""
    head = (
        next((m for m in members if m["relation"] in HEAD_RELATIONS), None)
        or next((m for m in members if m["name"] == household["head_name"]), None)
        or members[0]
    )
    return {
        "household_id": head["household_id"],
        "member_id": head["id"],
        "guardian_member_id": None,
        "purpose": SHARE_WITH_PARTNERS,
        "partner_kinds": [],
        "evidence": consent_records.FROM_HOUSEHOLD_FLAG,
        "recorded_by_id": None,
        "recorded_by": actor or consent_records.SYSTEM,
        "recorded_at": now,
    }


def _summary(item: Ready, household: dict, members: list[dict]) -> dict[str, Any]:
    """:func:`households.household_summary` of the household just inserted (ID numbers masked)."""
    numbers = {h: n for n, h in item.hashes.items()}
    return {
        "grid": item.grid.code,
        "address": household["address"],
        "head_name": household["head_name"],
        "phone": household["phone"],
        "monthly_income_fen": household["monthly_income_fen"],
        "consent_to_share": household["consent_to_share"],
        "sudden_hardship": household["sudden_hardship"],
        **{key: household[key] for key in ASSET_FIELDS},
        "survey_ref": household["survey_ref"],
        "notes": privacy.redact(household["notes"]),
        "members": [
            {
                "id": m["id"],
                "name": m["name"],
                "relation": m["relation"],
                "birth_date": m["birth_date"].isoformat() if m["birth_date"] else None,
                "id_number": identity.masked(numbers[m["id_hash"]]) if m["id_hash"] else None,
                "conditions": list(m["conditions"]),
                "disability_grade": m["disability_grade"],
                "disability_kind": m["disability_kind"],
                "schooling": m["schooling"],
                "employment": m["employment"],
                "supporter_able": m["supporter_able"],
            }
            for m in members
        ],
        "facts": {column: household[column] for column in household_facts.FACT_COLUMNS},
    }
