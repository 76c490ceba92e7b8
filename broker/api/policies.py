"""Government policies (data), a household's policy package (政策包) and the
applications caseworkers file on the family's behalf (代办)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from broker.api.auth import current_principal, require
from broker.api.blueprint import Blueprint
from broker.api.schemas.common import PageArgs, page_of
from broker.platform import db
from broker.platform.input_schema import InputSchema
from broker.policy import applications, catalogue
from broker.policy import fields as rule_fields
from broker.policy.package import policy_package
from broker.referral.assessment import MAX_AMOUNT_FEN
from models.policy import APPLICATION_STATUSES

blp = Blueprint("policies", __name__, description="Policies, policy packages and applications.")

READERS = ("admin", "auditor", "caseworker")
WRITERS = ("admin", "caseworker")


# --------------------------------------------------------------------------- schemas


class DocumentOut(Schema):
    code = fields.String()
    label = fields.String()
    label_en = fields.String()


class CheckedDocumentOut(DocumentOut):
    ticked = fields.Boolean()


class PolicyOut(Schema):
    code = fields.String(metadata={"example": "dibao"})
    version = fields.String(metadata={"example": "2025.1"})
    name = fields.String(metadata={"example": "最低生活保障"})
    name_en = fields.String()
    department = fields.String(metadata={"example": "区民政局"})
    category = fields.String(
        allow_none=True, metadata={"description": "The need category the benefit pays for (medical, living …)."}
    )
    description = fields.String()
    benefit = fields.Dict()
    rule = fields.String(metadata={"example": "member_count > 0 and income_per_capita_fen < dibao_line"})
    excludes_if_receiving = fields.List(fields.String())
    review_days = fields.Integer()
    documents = fields.List(fields.Nested(DocumentOut))
    counties = fields.List(
        fields.String(), metadata={"description": "The counties (grid districts) it applies to; empty: all."}
    )
    filed_with = fields.String(
        metadata={"description": "department, or street: filed with the household's street office or town government"}
    )
    expected_cover = fields.Dict(
        allow_none=True,
        metadata={
            "description": "What the policy is expected to pay of a need of its category (category, amount_fen, "
            "or share with cap_fen): routing holds that part back from charities while the application is undecided."
        },
    )


class PolicyListOut(Schema):
    items = fields.List(fields.Nested(PolicyOut), required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)
    total = fields.Integer(required=True)
    parameters = fields.Dict(
        metadata={"description": "The default parameter values (an urban household of a county that sets none; fen)."}
    )
    counties = fields.Dict(
        metadata={"description": "Each county's own figures, urban and rural, and the defaults (config/counties.yaml)."}
    )
    language = fields.Dict(metadata={"description": "The fields, parameters and functions a rule may use."})


class ClauseOut(Schema):
    text = fields.String(metadata={"example": "income_per_capita_fen < dibao_line"})
    holds = fields.Boolean()
    detail = fields.String(metadata={"example": "income_per_capita_fen 52000 < dibao_line 111000"})
    code = fields.String(metadata={"example": "policy.why.line.below"})
    params = fields.Dict(
        metadata={
            "description": "The reason's parameters: money in fen (`…_fen`), names as nested codes.",
            "example": {
                "field": {"code": "policy.field.income_per_capita_fen"},
                "value_fen": 36000,
                "limit_fen": 111000,
                "threshold": {"code": "policy.param.dibao_line"},
                "operator": "<",
            },
        }
    )
    message = fields.String(
        metadata={
            "description": "The reason in the caller's language.",
            "example": "家庭人均月收入 ¥360，低于本地低保标准 ¥1,110",
        }
    )


class PackageApplicationOut(Schema):
    id = fields.Integer()
    status = fields.String()
    policy_version = fields.String()
    deadline_at = fields.String(allow_none=True)


class PackageEntryOut(Schema):
    policy = fields.Nested(PolicyOut)
    qualifies = fields.Boolean()
    why = fields.List(fields.Nested(ClauseOut))
    state = fields.String(
        metadata={"description": "to_apply | applied | closed (rejected, no longer qualifies) | receives"}
    )
    receives = fields.Boolean()
    benefit = fields.Dict(allow_none=True)
    application = fields.Nested(PackageApplicationOut, allow_none=True)
    documents = fields.List(fields.Nested(CheckedDocumentOut))
    missing_documents = fields.List(fields.String())
    office = fields.String(
        metadata={"description": "Where this household's application is filed (a street office for dibao)."}
    )


class NearMissOut(Schema):
    policy = fields.Dict()
    failed = fields.List(fields.Nested(ClauseOut))


class PackageOut(Schema):
    household_id = fields.Integer()
    items = fields.List(fields.Nested(PackageEntryOut))
    near_misses = fields.List(fields.Nested(NearMissOut))


class ApplicationIn(InputSchema):
    policy = fields.String(required=True, validate=validate.Length(min=1, max=40), metadata={"example": "dibao"})
    note = fields.String(load_default="", validate=validate.Length(max=4000))


class ApplicationListArgs(PageArgs):
    status = fields.String(validate=validate.OneOf(APPLICATION_STATUSES))


class StepIn(InputSchema):
    status = fields.String(
        required=True,
        validate=validate.OneOf([s for s in APPLICATION_STATUSES if s != "documents-gathering"]),
        metadata={"example": "submitted"},
    )
    note = fields.String(load_default="", validate=validate.Length(max=4000))
    at = fields.DateTime(
        load_default=None,
        metadata={"description": "When it happened (default now; a time without zone is local time)."},
    )
    monthly_amount_fen = fields.Integer(
        load_default=None,
        strict=True,
        validate=validate.Range(min=0, max=MAX_AMOUNT_FEN),
        metadata={"description": "With approval: the monthly benefit, in fen."},
    )
    reference = fields.String(
        load_default=None,
        validate=validate.Length(max=80),
        metadata={"description": "The department's reference number (受理编号), kept once given."},
    )


class DocumentsIn(InputSchema):
    documents = fields.Dict(
        keys=fields.String(validate=validate.Length(min=1, max=40)),
        values=fields.Boolean(),
        required=True,
        validate=validate.Length(min=1, max=50),
        metadata={"example": {"id_and_hukou": True, "income_proof": True}},
    )
    note = fields.String(load_default="", validate=validate.Length(max=4000))


class StepOut(Schema):
    status = fields.String()
    at = fields.DateTime()
    actor_id = fields.Integer(allow_none=True)
    note = fields.String()
    data = fields.Dict()


class ApplicationOut(Schema):
    id = fields.Integer()
    household_id = fields.Integer()
    policy = fields.Dict()
    status = fields.String()
    department = fields.String()
    reference = fields.String(metadata={"description": "The department's reference number, once given."})
    documents = fields.List(fields.Nested(CheckedDocumentOut))
    missing_documents = fields.List(fields.String())
    deadline_at = fields.DateTime(allow_none=True)
    reminded_at = fields.DateTime(allow_none=True)
    overdue = fields.Boolean()
    allowed_next = fields.List(fields.String())
    created_by_id = fields.Integer(allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    steps = fields.List(fields.Nested(StepOut))


# --------------------------------------------------------------------------- views


@blp.route("/policies")
class Policies(MethodView):
    @require()
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, PolicyListOut)
    def get(self, args: dict) -> dict[str, Any]:
        """The policies the broker matches households against (current versions)."""
        cat = catalogue.current()
        items = [p.summary() for p in cat.all()]
        page, per_page = args["page"], args["per_page"]
        return {
            "items": items[(page - 1) * per_page : page * per_page],
            "page": page,
            "per_page": per_page,
            "total": len(items),
            "parameters": cat.params,
            "counties": cat.figures.as_dict() if cat.figures is not None else {},
            "language": rule_fields.reference(),
        }


@blp.route("/policies/<string:code>")
class PolicyItem(MethodView):
    @require()
    @blp.response(200, PolicyOut)
    def get(self, code: str) -> dict[str, Any]:
        """One policy: its rule, benefit, deadline and document checklist."""
        return catalogue.current().get(code).summary()


@blp.route("/households/<int:household_id>/policy-package")
class PolicyPackage(MethodView):
    @require(*READERS)
    @blp.response(200, PackageOut)
    def get(self, household_id: int) -> dict[str, Any]:
        """The policies this household qualifies for, why, what is filed or received,
        and the documents still missing; plus policies it misses by one condition."""
        return policy_package(db.session(), current_principal(), household_id).as_dict()


@blp.route("/households/<int:household_id>/applications")
class HouseholdApplications(MethodView):
    @require(*READERS)
    @blp.arguments(ApplicationListArgs, location="query")
    @blp.response(200, page_of(ApplicationOut))
    def get(self, args: dict, household_id: int) -> dict[str, Any]:
        """The household's applications, newest first."""
        page = applications.list_applications(db.session(), current_principal(), household_id, **args)
        return {**page.as_dict(), "items": [applications.describe(a) for a in page.items]}

    @require(*WRITERS)
    @blp.arguments(ApplicationIn)
    @blp.response(201, ApplicationOut)
    @blp.alt_response(409, description="An application for this policy is open, or the benefit is received.")
    def post(self, body: dict, household_id: int) -> dict[str, Any]:
        """File an application for a policy on the family's behalf (代办)."""
        app = applications.file_application(
            db.session(), current_principal(), household_id, body["policy"], body["note"]
        )
        db.commit()
        return applications.describe(app)


@blp.route("/applications/<int:application_id>")
class ApplicationItem(MethodView):
    @require(*READERS)
    @blp.response(200, ApplicationOut)
    def get(self, application_id: int) -> dict[str, Any]:
        """One application with its checklist and every step so far."""
        return applications.describe(applications.get_application(db.session(), current_principal(), application_id))


@blp.route("/applications/<int:application_id>/steps")
class ApplicationSteps(MethodView):
    @require(*WRITERS)
    @blp.arguments(StepIn)
    @blp.response(200, ApplicationOut)
    @blp.alt_response(409, description="Not a step allowed from the current status (current_status in details).")
    def post(self, body: dict, application_id: int) -> dict[str, Any]:
        """Record the next step: submitted, under-review, approved, rejected or withdrawn."""
        app = applications.advance(db.session(), current_principal(), application_id, body.pop("status"), **body)
        db.commit()
        return applications.describe(app)


@blp.route("/applications/<int:application_id>/documents")
class ApplicationDocuments(MethodView):
    @require(*WRITERS)
    @blp.arguments(DocumentsIn)
    @blp.response(200, ApplicationOut)
    def post(self, body: dict, application_id: int) -> dict[str, Any]:
        """Tick documents on the checklist: ``{"documents": {"income_proof": true}}``."""
        app = applications.tick_documents(
            db.session(), current_principal(), application_id, body["documents"], body["note"]
        )
        db.commit()
        return applications.describe(app)
