"""What a household record may contain, as marshmallow schemas shared by the API (its
request bodies) and the survey import (its rows): one definition of a valid household,
checked at the edge. Identity numbers are checked here (GB 11643 check character,
a real embedded birth date agreeing with ``birth_date``), and a missing birth date or sex
is read from the number."""

from __future__ import annotations

import datetime as dt
from typing import Any

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from broker.platform.errors import Invalid
from broker.platform.input_schema import MAX_ID, MAX_INCOME_FEN, InputSchema
from broker.registry import identity
from broker.registry.household_facts import normalise_condition
from models.registry import DISABILITY_KINDS, RESIDENCES, SPENDING_PERIODS

RELATIONS = ("head", "spouse", "child", "parent", "grandchild", "grandparent", "sibling", "in_law", "other")
SCHOOLING = ("none", "preschool", "primary", "junior", "senior", "vocational", "college")
EMPLOYMENT = ("employed", "self_employed", "unemployed", "retired", "student", "unable")
SEXES = {"M": "M", "F": "F", "男": "M", "女": "F", "m": "M", "f": "F"}
MAX_MEMBERS = 30
MAX_ASSETS_FEN = 10**11  # ¥1,000,000,000: beyond any household on a hardship register
MAX_VEHICLES = 20
# The household inputs of the asset test and of expense-type poverty (支出型贫困).
ASSET_FIELDS = (
    "residence",
    "financial_assets_fen",
    "motor_vehicles",
    "surplus_housing",
    "medical_spending_fen",
    "medical_spending_period",
)


class LenientDate(fields.Date):
    """An ISO date, or a date/datetime object as spreadsheets hand them over."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dt.date:
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        return super()._deserialize(value, attr, data, **kwargs)


class MemberFields(InputSchema):
    """The fields of a member; every one optional here (a PATCH may change just one)."""

    name = fields.String(validate=validate.Length(min=1, max=80), metadata={"example": "张伟"})
    id_number = fields.String(
        allow_none=True,
        load_only=True,
        validate=validate.Length(max=40),
        metadata={"description": "Resident ID (18 characters); optional when not yet known. Never returned."},
    )
    birth_date = LenientDate(allow_none=True)
    sex = fields.String(allow_none=True, validate=validate.OneOf(list(SEXES)), metadata={"description": "M or F"})
    relation = fields.String(
        validate=validate.Length(min=1, max=30),
        metadata={"description": "Relation to the head of the household: " + ", ".join(RELATIONS) + "."},
    )
    conditions = fields.List(
        fields.String(validate=validate.Length(min=1, max=60)),
        validate=validate.Length(max=20),
        metadata={"description": 'Health conditions, e.g. "leukaemia", "serious_illness", "disability".'},
    )
    disability_grade = fields.Integer(allow_none=True, strict=True, validate=validate.Range(min=1, max=4))
    disability_kind = fields.String(
        allow_none=True,
        validate=validate.OneOf(DISABILITY_KINDS),
        metadata={"description": "Kind on the disability certificate: " + ", ".join(DISABILITY_KINDS) + "."},
    )
    schooling = fields.String(allow_none=True, validate=validate.OneOf(SCHOOLING))
    employment = fields.String(allow_none=True, validate=validate.OneOf(EMPLOYMENT))
    supporter_able = fields.Boolean(
        allow_none=True,
        metadata={
            "description": "Has a legal supporter (法定赡养、抚养、扶养义务人) able to support this member: "
            "true; false when there is none or none is able (extreme-poverty support); null: not recorded."
        },
    )

    @validates_schema
    def _identity(self, data: dict, **_kw: Any) -> None:
        number = data.get("id_number")
        if number in (None, ""):
            return
        try:
            data["id_number"], born = identity.parse(number)  # normalised once, for _normalise
        except Invalid as exc:
            raise ValidationError(exc.message.split(": ", 1)[-1], "id_number") from None
        given = data.get("birth_date")
        if given is not None and given != born:
            raise ValidationError(
                f"does not match the birth date inside the ID number ({born.isoformat()})", "birth_date"
            )

    @post_load
    def _normalise(self, data: dict, **_kw: Any) -> dict:
        number = data.get("id_number")
        if number in (None, ""):
            data.pop("id_number", None)
        else:
            born = identity.born_on(number)  # checked and normalised by _identity
            data.setdefault("birth_date", born)
            if data["birth_date"] is None:
                data["birth_date"] = born
            if not data.get("sex"):
                data["sex"] = "M" if int(data["id_number"][16]) % 2 else "F"
        if data.get("sex"):
            data["sex"] = SEXES[data["sex"]]
        if "conditions" in data:
            data["conditions"] = sorted({normalise_condition(c) for c in data["conditions"] if c.strip()})
        return data


class MemberIn(MemberFields):
    """A new member: name and relation required, and a birth date or an ID number."""

    name = fields.String(required=True, validate=validate.Length(min=1, max=80), metadata={"example": "张伟"})
    relation = fields.String(required=True, validate=validate.Length(min=1, max=30))

    @validates_schema
    def _born(self, data: dict, **_kw: Any) -> None:
        if data.get("birth_date") is None and not data.get("id_number"):
            raise ValidationError("give the birth date (or the ID number, which contains it)", "birth_date")
        if data.get("birth_date") and data["birth_date"] > dt.date.today():
            raise ValidationError("is in the future", "birth_date")


class MemberPatch(MemberFields):
    """A member in a PATCH: with ``id`` it updates that member (only the fields given);
    without, it is a new member and needs what :class:`MemberIn` needs."""

    id = fields.Integer(
        strict=True,
        validate=validate.Range(min=1, max=MAX_ID),
        metadata={"description": "The member to update; omit to add a member."},
    )

    @validates_schema
    def _new_member(self, data: dict, **_kw: Any) -> None:
        if data.get("id") is not None:
            return
        missing = {k: ["required for a new member"] for k in ("name", "relation") if not data.get(k)}
        if data.get("birth_date") is None and not data.get("id_number"):
            missing["birth_date"] = ["give the birth date (or the ID number) for a new member"]
        if missing:
            raise ValidationError(missing)


def _no_repeated_person(members: list[dict]) -> None:
    """Members loaded without field errors (the check is skipped otherwise) carry their
    numbers normalised, so equal people have equal strings."""
    seen: dict[str, int] = {}
    errors: dict[int, dict] = {}
    for i, member in enumerate(members):
        number = member.get("id_number")
        if not number:
            continue
        if number in seen:
            errors[i] = {"id_number": [f"the same person as member {seen[number]}: one person, one entry"]}
        else:
            seen[number] = i
    if errors:
        raise ValidationError({"members": errors})


class HouseholdFields(InputSchema):
    address = fields.String(
        validate=validate.Length(min=4, max=255), metadata={"example": "海淀区中关村东路18号院3号楼2单元501"}
    )
    head_name = fields.String(validate=validate.Length(max=80), metadata={"example": "张伟"})
    phone = fields.String(
        allow_none=True,
        validate=validate.Regexp(r"^\+?[0-9][0-9 \-]{4,28}$", error="digits only (with an optional +, spaces, -)"),
    )
    monthly_income_fen = fields.Integer(
        strict=True,
        validate=validate.Range(min=0, max=MAX_INCOME_FEN),
        metadata={"description": "The household's total monthly income, in fen (at most ¥1,000,000)."},
    )
    consent_to_share = fields.Boolean(
        metadata={"description": "The family agreed that partners may see its name (default: no)."}
    )
    sudden_hardship = fields.Boolean(metadata={"description": "A sudden event (illness, accident, disaster)."})
    survey_ref = fields.String(allow_none=True, validate=validate.Length(min=1, max=60))
    notes = fields.String(validate=validate.Length(max=4000))
    residence = fields.String(
        validate=validate.OneOf(RESIDENCES),
        metadata={"description": "urban or rural (城镇/农村, by household register or where it lives); default urban."},
    )
    financial_assets_fen = fields.Integer(
        strict=True,
        validate=validate.Range(min=0, max=MAX_ASSETS_FEN),
        metadata={"description": "Financial assets of the whole household (deposits, securities, cash value), fen."},
    )
    motor_vehicles = fields.Integer(
        strict=True,
        validate=validate.Range(min=0, max=MAX_VEHICLES),
        metadata={"description": "Motor vehicles owned, not counting a disabled member's own mobility vehicle."},
    )
    surplus_housing = fields.Boolean(
        metadata={"description": "Owns housing beyond the household's need (a second home)."}
    )
    medical_spending_fen = fields.Integer(
        strict=True,
        validate=validate.Range(min=0, max=MAX_INCOME_FEN * 12),
        metadata={"description": "Rigid medical spending paid out of pocket (自付医疗费用), in fen, per period."},
    )
    medical_spending_period = fields.String(
        validate=validate.OneOf(SPENDING_PERIODS),
        metadata={"description": "monthly or yearly: the period medical_spending_fen covers (default monthly)."},
    )


class HouseholdIn(HouseholdFields):
    """A new household on a grid, with at least one member."""

    grid = fields.String(required=True, validate=validate.Length(min=1, max=40), metadata={"example": "HD-ZGC-01"})
    address = fields.String(
        required=True,
        validate=validate.Length(min=4, max=255),
        metadata={"example": "海淀区中关村东路18号院3号楼2单元501"},
    )
    monthly_income_fen = fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(min=0, max=MAX_INCOME_FEN),
        metadata={"description": "The household's total monthly income, in fen (at most ¥1,000,000)."},
    )
    consent_to_share = fields.Boolean(load_default=False)
    sudden_hardship = fields.Boolean(load_default=False)
    members = fields.List(fields.Nested(MemberIn), required=True, validate=validate.Length(min=1, max=MAX_MEMBERS))

    @validates_schema
    def _one_person_once(self, data: dict, **_kw: Any) -> None:
        _no_repeated_person(data.get("members") or [])


class HouseholdPatch(HouseholdFields):
    """Changes to a household. Members listed with an ``id`` are updated, without one
    added; ``remove_member_ids`` removes members. Moving to another grid is ``/move``."""

    members = fields.List(fields.Nested(MemberPatch), validate=validate.Length(max=MAX_MEMBERS))
    remove_member_ids = fields.List(
        fields.Integer(strict=True, validate=validate.Range(min=1, max=MAX_ID)),
        validate=validate.Length(max=MAX_MEMBERS),
    )

    @validates_schema
    def _one_person_once(self, data: dict, **_kw: Any) -> None:
        _no_repeated_person(data.get("members") or [])


def load_household(row: dict, *, schema: type[Schema] | Schema = HouseholdIn) -> dict:
    """Validate a raw record (a survey row, say) and return the clean data; raise
    :class:`Invalid` with the field errors (``members.0.id_number`` …) otherwise.
    ``schema`` may be an instance, for a caller loading many records (the survey
    import): making one costs more than loading a household with it."""
    try:
        return (schema if isinstance(schema, Schema) else schema()).load(row)
    except ValidationError as exc:
        details = flatten(exc.messages)
        raise Invalid(
            "Some fields are missing or invalid: " + ", ".join(sorted(details)[:6]) + ".", details=details
        ) from None


def flatten(messages: Any, prefix: str = "") -> dict[str, Any]:
    """``{"members": {0: {"id_number": [...]}}}`` → ``{"members.0.id_number": [...]}``."""
    if not isinstance(messages, dict):
        return {prefix or "_schema": messages}
    out: dict[str, Any] = {}
    for key, value in messages.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict):
            out.update(flatten(value, name))
        else:
            out[name] = value
    return out
