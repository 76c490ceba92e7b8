"""Hostile and odd input against the whole API, generated from its own OpenAPI document
by schemathesis: every operation, as every kind of caller, with valid-looking and
deliberately invalid data, against real objects (the ids of a built scenario) as well as
ids that do not exist. Whatever arrives, the API never answers 5xx, and every answer
matches the document: a documented status, the documented content type, a body that
validates against the documented schema (errors included: the one envelope).

Beside the schema-shaped data, every POST and PATCH gets each hostile class as every
role — lone surrogates, NUL and other control characters, nesting that exhausts the JSON
parser, numbers of 5,000 digits, huge strings, wrong types, unknown fields, a body that
is not JSON, no body — and answers a 4xx in the envelope.

The same for the text the domain reads itself: any string given to the policy rule
language is a rule or a RuleError with its position, never a crash; and a resident ID
typed anywhere in free text never reaches a partner.

In-process against the WSGI app. ``FUZZ_EXAMPLES`` (default 8) sets the examples per
operation and role; raise it for a longer hunt."""

from __future__ import annotations

import json
import os
import re
from datetime import date
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    missing_required_header,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from broker.policy.rules import parse
from broker.policy.syntax import RuleError
from broker.registry import identity, privacy
from tests.api.test_access_matrix import API, Scenario, build_scenario

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "8"))
# `--checks all` as far as it applies to single generated cases: the stateful checks
# (use_after_free, ensure_resource_availability) and the coverage-phase probes
# (unsupported_method, allow_header_conformance, ignored_auth) run in the run from
# outside (see the README); positive_data_acceptance is left to it too, as rules across
# fields and references to other records (a grid code, a policy) are not JSON Schema.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
    missing_required_header,
]
FUZZ_ROLES = ("admin", "caseworker", "partner", "auditor", "anon", "volunteer", "reporter")


def real_path_parameters(s: Scenario, path: str) -> dict[str, Any]:
    """Ids of the scenario's objects for the operation's path parameters."""
    values: dict[str, Any] = {
        "household_id": s.household,
        "request_id": s.request,
        "offer_id": s.offer,
        "application_id": s.application,
        "partner_id": s.partner,
        "member_id": s.member,
        "disbursement_id": s.disbursement,
        "reversal_id": s.reversal,
        "consent_id": s.consent,
        "reference": s.concern,
        "follow_up_id": s.follow_up,
        "plan_id": s.care_plan,
        "record_id": s.special_group_record,
        "volunteer_id": s.volunteer,
        "team_id": s.team,
        "task_id": s.task_out,
        "opening_id": s.opening,
        "course_id": s.course,
        "enrolment_id": s.enrolment,
        "placement_id": s.placement,
        "order_id": s.home_order,
        "months": 6,
        "lead_id": s.lead,
    }
    if path.endswith("/job-matches"):
        values["request_id"] = s.job_request
    values["code"] = "temporary_aid" if path.startswith(f"{API}/policies") else s.grid_a
    if path.startswith(f"{API}/regions"):
        values["code"] = s.region
    return values


def _strategy(op: Any, s: Scenario, headers: dict[str, str]) -> st.SearchStrategy:
    """Valid and invalid cases, on the scenario's objects and on generated ids."""
    names = {p.name for p in op.path_parameters} if op.path_parameters else set()
    real = {k: v for k, v in real_path_parameters(s, op.path).items() if k in names}
    strategies = []
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        if real:
            strategies.append(op.as_strategy(generation_mode=mode, headers=headers, path_parameters=real))
        strategies.append(op.as_strategy(generation_mode=mode, headers=headers))
    return st.one_of(strategies)


def fuzz(schema: Any, s: Scenario, role: str) -> list[str]:
    """Run every operation as ``role``; return one line per operation that failed a check."""
    token = s.api[role].token if role != "anon" else None
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    failures: list[str] = []
    for result in schema.get_all_operations():
        op = result.ok()

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=_strategy(op, s, headers))
        def run(case: Any) -> None:
            response = case.call()
            case.validate_response(response, checks=CHECKS)

        try:
            run()
        except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - report every failure, go on
            failures.append(f"{op.method.upper()} {op.path} as {role}: {type(exc).__name__}: {str(exc)[:1500]}")
    return failures


@pytest.fixture(scope="module")
def api_schema(app) -> Any:
    """The API's OpenAPI document as schemathesis reads it, loaded once for the roles: the
    document does not depend on the data, and loading it (with the strategies schemathesis
    derives and caches per operation) is a good part of each role's run."""
    return schemathesis.openapi.from_wsgi(f"{API}/openapi.json", app)


@pytest.mark.slow
@pytest.mark.parametrize("role", FUZZ_ROLES)
def test_no_operation_fails_or_strays_from_the_document(app, make_user, login, as_role, worker, api_schema, role):
    """Every operation, fuzzed as this role with valid and invalid input on real and made-up
    ids: never a 5xx, and status, content type and body as the OpenAPI document says."""
    s = build_scenario(app, make_user, login, as_role, worker)
    schema = api_schema
    operations = [r.ok() for r in schema.get_all_operations()]
    assert len(operations) >= 50, "the document should describe the whole API"
    failures = fuzz(schema, s, role)
    assert not failures, "\n\n".join(failures)


def test_what_the_fuzzer_found_stays_fixed(as_role):
    """The cases fuzzing turned up, pinned: an id or page number beyond a database integer
    is a 404 or 422 (not an overflow 500); a text with a NUL character is refused naming the
    field, on every database; a request the database refused leaves nothing behind that breaks the next
    one; a disbursement for an offer that is not the partner's is a 404 before its body is
    read (the body's shape depends on the offer; evidence sent as text is pinned in
    tests/test_disbursement_kinds.py)."""
    admin = as_role("admin")
    partner = admin.post(
        f"{API}/partners",
        json={"name": "证据测试", "kind": "charity", "adapter": "portal", "categories": ["living"], "regions": ["*"]},
    ).get_json()
    resp = as_role("partner", partner_id=partner["id"]).post(
        f"{API}/offers/1/disbursements",
        data={"amount_fen": "100", "kind": "cash", "evidence": "not a file"},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 404, resp.get_json()
    assert resp.get_json()["error"]["code"] == "not_found"
    huge = 10**30
    for path, status in (
        (f"{API}/households/{huge}", 404),
        (f"{API}/offers/{huge}/disbursements", 404),
        (f"{API}/grids?page={huge}", 422),
        (f"{API}/offers?partner=1&page={huge}", 422),
    ):
        resp = admin.get(path)
        assert resp.status_code == status, (path, resp.status_code)
        assert set(resp.get_json()["error"]) == {"code", "message", "details"}
    grid = {
        "code": "NUL-1",
        "name": "网格\x00一",
        "district": "海淀区",
        "street": "中关村街道",
        "community": "科源社区",
    }
    resp = admin.post(f"{API}/grids", json=grid)
    assert resp.status_code == 422, resp.get_json()
    assert resp.get_json()["error"]["code"] == "validation_error"
    assert "U+0000" in resp.get_json()["error"]["details"]["name"][0]
    resp = admin.get(f"{API}/audit/events?actor=a%00b")
    assert resp.status_code == 422
    assert "actor" in resp.get_json()["error"]["details"]
    after = admin.post(f"{API}/grids", json={**grid, "code": "NUL-2", "name": "网格二"})
    assert after.status_code == 201, after.get_json()


# --- hostile classes, not only schema-shaped data --------------------------------------------

HOSTILE = (
    "lone_surrogate",
    "nul",
    "control_character",
    "deep_nesting",
    "huge_integer",
    "huge_string",
    "wrong_types",
    "unknown_field",
    "not_json",
    "no_body",
)
REFUSED = (400, 413, 415, 422)  # what a caller allowed to call the operation must get


def _body_properties(spec: dict, op: dict) -> dict[str, dict]:
    """The top-level properties of an operation's JSON body (its schema resolved)."""
    content = (op.get("requestBody") or {}).get("content", {})
    schema = content.get("application/json", {}).get("schema", {})
    if "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema.get("properties", {})


def hostile_body(kind: str, properties: dict[str, dict]) -> tuple[str, str] | None:
    """(content type, raw body) of one hostile class for a body with these properties."""
    strings = [name for name, p in properties.items() if p.get("type") == "string"] or ["note"]
    every = list(properties) or ["note"]
    if kind == "lone_surrogate":
        return "application/json", json.dumps(dict.fromkeys(strings, "ok \ud800 ok"))
    if kind == "nul":
        return "application/json", json.dumps(dict.fromkeys(strings, "a\x00b"))
    if kind == "control_character":
        return "application/json", json.dumps(dict.fromkeys(strings, "a\x1b[31mb"))
    if kind == "deep_nesting":
        return "application/json", "[" * 2000 + "]" * 2000
    if kind == "huge_integer":
        return "application/json", "{" + ",".join(f'"{name}":{"9" * 5000}' for name in every) + "}"
    if kind == "huge_string":
        return "application/json", json.dumps(dict.fromkeys(strings, "长" * 100_000))
    if kind == "wrong_types":
        return "application/json", json.dumps({key: {"not": ["this", 1]} for key in every})
    if kind == "unknown_field":
        return "application/json", json.dumps({"zz_no_such_field": 1})
    if kind == "not_json":
        return "text/plain", "amount_fen=100&kind=cash"
    return "application/json", ""


def _views_by_path(app: Any) -> dict[str, Any]:
    return {re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule): rule for rule in app.url_map.iter_rules()}


def _roles_of(app: Any, rule: Any, method: str) -> tuple[str, ...] | None:
    view = app.view_functions[rule.endpoint]
    return getattr(getattr(view.view_class, method), "_required_roles", None)


@pytest.mark.parametrize("kind", HOSTILE)
def test_hostile_input_to_every_write_is_a_4xx_envelope_for_every_role(app, make_user, login, as_role, worker, kind):
    """Each hostile class — lone surrogates, NUL and other control characters, nesting that
    exhausts the parser, 5,000-digit numbers, 100,000-character strings, wrong types,
    unknown fields, a body that is not JSON, no body — sent to every POST and PATCH, on
    the scenario's real objects, as every role: always a 4xx in the envelope, never a 5xx;
    and to a caller the operation admits, a refusal of the input itself (400/413/415/422)."""
    s = build_scenario(app, make_user, login, as_role, worker)
    spec = app.test_client().get(f"{API}/openapi.json").get_json()
    rules = _views_by_path(app)
    problems: list[str] = []
    tried = 0
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method not in ("post", "patch") or "requestBody" not in op:
                continue  # an action without a body (resume) reads none
            body_required = (op.get("requestBody") or {}).get("required", False)
            if kind == "no_body" and not body_required:
                continue
            ctype, raw = hostile_body(kind, _body_properties(spec, op))
            concrete = path.format(**real_path_parameters(s, path))
            roles = _roles_of(app, rules[path], method)
            for role in FUZZ_ROLES:
                token = s.api[role].token if role != "anon" else None
                headers = {"Authorization": f"Bearer {token}"} if token else {}
                resp = getattr(app.test_client(), method)(concrete, data=raw, content_type=ctype, headers=headers)
                tried += 1
                where = f"{method.upper()} {path} as {role}: {resp.status_code} {resp.get_data(as_text=True)[:300]}"
                if not 400 <= resp.status_code < 500 or resp.mimetype != "application/json":
                    problems.append(where)
                    continue
                if set(resp.get_json().get("error", {})) != {"code", "message", "details"}:
                    problems.append(f"not the envelope: {where}")
                admitted = roles is None or not roles or role in roles
                if ((admitted and role != "anon") or roles is None) and resp.status_code not in REFUSED:
                    problems.append(f"the input was not what was refused: {where}")
    assert tried > 50, tried
    assert not problems, "\n".join(problems)


# --- hostile text in the domain's own readers ------------------------------------------------

RULE_ALPHABET = st.sampled_from([*"()<>=!+-*/%,.'\" _09aAzZ", "and", "or", "not", "in", "member_count", "yuan"])


@settings(max_examples=max(100, EXAMPLES * 25), deadline=None, database=None)
@given(source=st.one_of(st.text(max_size=120), st.lists(RULE_ALPHABET, max_size=40).map(" ".join)))
def test_any_text_is_a_rule_or_a_positioned_rule_error(source):
    """Whatever an author types, the rule language answers with a rule or a RuleError
    pointing into the text — never another exception."""
    error = _rule_error(source)
    if error is not None:
        assert error.line >= 1
        assert error.column >= 1
        assert error.message


def _rule_error(source: str) -> RuleError | None:
    try:
        parse(source)
    except RuleError as exc:
        return exc
    return None


NOT_DIGIT = st.text(max_size=12).filter(lambda t: not t or not t[-1].isdigit())
NOT_LEADING_DIGIT = st.text(max_size=12).filter(lambda t: not t or not t[0].isdigit())


@settings(max_examples=max(100, EXAMPLES * 25), deadline=None, database=None)
@given(
    born=st.dates(min_value=date(1920, 1, 1), max_value=date(2020, 12, 31)),
    seq=st.integers(min_value=0, max_value=999),
    before=NOT_DIGIT,
    after=NOT_LEADING_DIGIT,
    lower=st.booleans(),
)
def test_an_id_number_typed_into_free_text_is_always_removed(born, seq, before, after, lower):
    """A valid resident ID anywhere in free text — next to Chinese, letters ("ID110…"),
    punctuation or nothing, its X in either case — is removed before a partner sees it."""
    number = identity.make("110108", born, f"{seq:03d}")
    typed = number.lower() if lower else number
    redacted = privacy.redact(f"{before}{typed}{after}")
    assert number not in redacted.upper()
    assert privacy.ID_PLACEHOLDER in redacted
