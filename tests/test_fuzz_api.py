"""Hostile and odd input against the whole API, generated from its own OpenAPI document
by schemathesis: every operation, as every kind of caller, with valid-looking and
deliberately invalid data, against real objects (the ids of a built scenario) as well as
ids that do not exist. Whatever arrives, the API never answers 5xx, and every answer
matches the document: a documented status, the documented content type, a body that
validates against the documented schema (errors included: the one envelope).

The same for the text the domain reads itself: any string given to the policy rule
language is a rule or a RuleError with its position, never a crash; and a resident ID
typed anywhere in free text never reaches a partner.

In-process against the WSGI app. ``FUZZ_EXAMPLES`` (default 8) sets the examples per
operation and role; raise it for a longer hunt."""

from __future__ import annotations

import os
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
    response_schema_conformance,
    status_code_conformance,
)

from broker import identity, privacy
from broker.policy.rules import parse
from broker.policy.syntax import RuleError
from tests.test_access_matrix import API, Scenario, build_scenario

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "8"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
FUZZ_ROLES = ("admin", "caseworker", "partner", "auditor", "anon")


def real_path_parameters(s: Scenario, path: str) -> dict[str, Any]:
    """Ids of the scenario's objects for the operation's path parameters."""
    values: dict[str, Any] = {
        "household_id": s.household,
        "request_id": s.request,
        "offer_id": s.offer,
        "application_id": s.application,
        "partner_id": s.partner,
    }
    values["code"] = "temporary_aid" if path.startswith(f"{API}/policies") else s.grid_a
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


@pytest.mark.slow
@pytest.mark.parametrize("role", FUZZ_ROLES)
def test_no_operation_fails_or_strays_from_the_document(app, make_user, login, as_role, worker, role):
    """Every operation, fuzzed as this role with valid and invalid input on real and made-up
    ids: never a 5xx, and status, content type and body as the OpenAPI document says."""
    s = build_scenario(app, make_user, login, as_role, worker)
    schema = schemathesis.openapi.from_wsgi(f"{API}/openapi.json", app)
    operations = [r.ok() for r in schema.get_all_operations()]
    assert len(operations) >= 50, "the document should describe the whole API"
    failures = fuzz(schema, s, role)
    assert not failures, "\n\n".join(failures)


def test_what_the_fuzzer_found_stays_fixed(as_role):
    """The cases fuzzing turned up, pinned: an id or page number beyond a database integer
    is a 404 or 422 (not an overflow 500); a text with a NUL character is refused or kept,
    never a 500; a request the database refused leaves nothing behind that breaks the next
    one; evidence sent as a text field instead of a file is a 422 on ``evidence``."""
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
    assert resp.status_code == 422, resp.get_json()
    assert "evidence" in resp.get_json()["error"]["details"]
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
    assert resp.status_code in (201, 422), resp.get_json()
    if resp.status_code == 422:
        assert resp.get_json()["error"]["code"] == "out_of_range"
    assert admin.get(f"{API}/audit/events?actor=a%00b").status_code in (200, 422)
    after = admin.post(f"{API}/grids", json={**grid, "code": "NUL-2", "name": "网格二"})
    assert after.status_code == 201, after.get_json()


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
