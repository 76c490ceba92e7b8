"""Hostile and mistaken input, one case each: every one is a 4xx in the error envelope
with a message a person can act on and the field named — never a 500, never silently
kept or dropped. Lone surrogates, control characters, JSON nested past any real request,
numbers with thousands of digits, integers beyond anything plausible, and fields nobody
defined (a typo names the field meant)."""

from __future__ import annotations

import pytest
from marshmallow import RAISE, fields

from broker.api.schemas.offers import DisbursementForm
from broker.platform.input_schema import MAX_INCOME_FEN, InputSchema
from tests.api.test_access_matrix import API, build_scenario

HOUSEHOLD = {
    "grid": "IN-1",
    "address": "海淀区中关村南大街5号",
    "head_name": "赵大勇",
    "monthly_income_fen": 150000,
    "members": [{"name": "赵大勇", "relation": "head", "birth_date": "1972-03-04", "sex": "M"}],
}
GRID = {"code": "IN-1", "name": "输入网格", "district": "海淀区", "street": "中关村街道", "community": "科源社区"}


def error_of(resp, status: int, code: str | None = None) -> dict:
    assert resp.status_code == status, resp.get_data(as_text=True)[:500]
    assert resp.mimetype == "application/json"
    error = resp.get_json()["error"]
    assert set(error) == {"code", "message", "details"}
    assert error["message"]
    if code:
        assert error["code"] == code, error
    return error


@pytest.fixture
def world(as_role, make_user, login):
    """A grid with its caseworker and one household on it."""
    admin = as_role("admin")
    assert admin.post(f"{API}/grids", json=GRID).status_code == 201
    caseworker = login(make_user("caseworker", grids=("IN-1",)))
    household = caseworker.post(f"{API}/households", json=HOUSEHOLD)
    assert household.status_code == 201, household.get_json()
    return {"admin": admin, "caseworker": caseworker, "household": household.get_json()["id"]}


def _raw(client, method: str, path: str, body: str):
    return getattr(client.client, method)(
        path, data=body, content_type="application/json", headers=client._headers(None)
    )


def test_a_lone_surrogate_is_a_422_naming_the_field_even_before_signing_in(client, world):
    """``\\ud800`` is valid JSON but no text a database can keep: in the sign-in form, a
    visit's findings, a grid name, an assessment summary, a field name — a 422 naming it."""
    resp = client.post(
        f"{API}/auth/token", data='{"username":"\\ud800","password":"xxxxxxxx"}', content_type="application/json"
    )
    error = error_of(resp, 422, "validation_error")
    assert "lone surrogate" in error["details"]["username"][0]
    cw, admin, hh = world["caseworker"], world["admin"], world["household"]
    cases = [
        (cw, f"{API}/households/{hh}/visits", '{"channel":"routine","findings":"ok \\ud800"}', "findings"),
        (admin, f"{API}/grids", '{"code":"S-1","name":"\\udfff","district":"d","street":"s","community":"c"}', "name"),
        (
            cw,
            f"{API}/households/{hh}/assessments",
            '{"summary":"\\ud83d","needs":[{"category":"counselling","urgency":"normal"}]}',
            "summary",
        ),
        (cw, f"{API}/households/{hh}/visits", '{"channel":"routine","\\ud800":1}', "\\ud800"),
    ]
    for who, path, body, field in cases:
        error = error_of(_raw(who, "post", path, body), 422, "validation_error")
        assert field in error["details"], (path, error)
    assert cw.get(f"{API}/households/{hh}/visits").get_json()["total"] == 0
    assert cw.get(f"{API}/households/{hh}/assessments").get_json()["items"] == []


def test_nesting_past_any_real_request_is_a_400(client, world):
    """A body of 2,000 nested arrays (which exhausts the JSON parser's recursion) and one
    of 100 nested objects inside a field are both a 400 saying so."""
    error = error_of(
        client.post(f"{API}/auth/token", data="[" * 2000 + "]" * 2000, content_type="application/json"),
        400,
        "too_deeply_nested",
    )
    assert "nested" in error["message"]
    deep = '{"channel":"routine","findings":' + '{"a":' * 100 + "1" + "}" * 100 + "}"
    error_of(_raw(world["caseworker"], "post", f"{API}/households/{world['household']}/visits", deep), 400)


def test_a_number_of_5000_digits_is_a_422_naming_the_field(world):
    """Beyond Python's integer-string limit (a ValueError deep in the parser): a 422 that
    names the field, nested ones by their path."""
    admin = world["admin"]
    partner = admin.post(
        f"{API}/partners",
        json={"name": "大数", "kind": "charity", "adapter": "portal", "categories": ["living"], "regions": ["*"]},
    ).get_json()["id"]
    error = error_of(
        _raw(admin, "post", f"{API}/partners/{partner}/deposits", '{"amount_fen":' + "9" * 5000 + "}"),
        422,
        "validation_error",
    )
    assert "5000 digits" in error["details"]["amount_fen"][0]
    assert "amount_fen" in error["message"]
    body = '{"needs":[{"category":"medical","urgency":"high","amount_fen":-' + "1" * 5000 + "}]}"
    error = error_of(_raw(world["caseworker"], "post", f"{API}/households/{world['household']}/assessments", body), 422)
    assert "amount_fen" in error["details"]["needs"]["0"]


def test_control_characters_are_refused_at_validation_on_every_database(world):
    """A NUL (or another C0 control character) is a 422 naming the field on SQLite too,
    not kept there and refused only by PostgreSQL; tab and line breaks stay in free text."""
    cw, admin, hh = world["caseworker"], world["admin"], world["household"]
    error = error_of(admin.post(f"{API}/grids", json={**GRID, "code": "N-1", "name": "网格\x00一"}), 422)
    assert "U+0000" in error["details"]["name"][0]
    error = error_of(cw.post(f"{API}/households/{hh}/visits", json={"channel": "routine", "findings": "a\x07b"}), 422)
    assert "U+0007" in error["details"]["findings"][0]
    error = error_of(cw.patch(f"{API}/households/{hh}", json={"members": [{"name": "x\x1by"}]}), 422)
    assert "name" in error["details"]["members"]["0"]
    error_of(cw.get(f"{API}/households?q=a%00b"), 422)
    kept = cw.post(f"{API}/households/{hh}/visits", json={"channel": "routine", "findings": "第一行\n第二行\t完"})
    assert kept.status_code == 201
    assert kept.get_json()["findings"] == "第一行\n第二行\t完"
    assert admin.get(f"{API}/grids/N-1").status_code == 404


def test_integers_are_bounded_by_what_is_plausible(world):
    """2^63−1 as an income, an id beyond any database integer, a page size of a million:
    each a 422 naming the field, with the bound in the message."""
    cw, hh = world["caseworker"], world["household"]
    error = error_of(cw.patch(f"{API}/households/{hh}", json={"monthly_income_fen": 2**63 - 1}), 422)
    assert str(MAX_INCOME_FEN) in error["details"]["monthly_income_fen"][0]
    error_of(cw.post(f"{API}/households", json={**HOUSEHOLD, "monthly_income_fen": 2**63 - 1}), 422)
    error = error_of(cw.patch(f"{API}/households/{hh}", json={"remove_member_ids": [2**40]}), 422)
    assert "remove_member_ids" in error["details"]
    error_of(world["admin"].get(f"{API}/audit/events?object_id={2**40}"), 422)
    error_of(cw.get(f"{API}/households?per_page=1000000"), 422)
    assert cw.get(f"{API}/households/{hh}").get_json()["monthly_income_fen"] == 150000


def test_every_integer_input_has_a_documented_bound(client):
    """Every integer a client may send — in a body or a query string — carries its minimum
    and maximum in the OpenAPI document (validate.Range in the schema)."""
    spec = client.get(f"{API}/openapi.json").get_json()
    schemas = spec["components"]["schemas"]
    unbounded: list[str] = []

    def walk(schema: dict, where: str, seen: frozenset = frozenset()) -> None:
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            if name not in seen:
                walk(schemas[name], name, seen | {name})
            return
        if schema.get("type") == "integer" and ("minimum" not in schema or "maximum" not in schema):
            unbounded.append(where)
        for key, sub in (schema.get("properties") or {}).items():
            walk(sub, f"{where}.{key}", seen)
        if isinstance(schema.get("items"), dict):
            walk(schema["items"], f"{where}[]", seen)

    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method == "parameters":
                continue
            for param in op.get("parameters", []):
                if param.get("in") == "query":
                    walk(param["schema"], f"{method.upper()} {path} ?{param['name']}")
            for content in (op.get("requestBody") or {}).get("content", {}).values():
                walk(content["schema"], f"{method.upper()} {path} body")
    assert not unbounded, unbounded


def test_an_unknown_field_is_a_422_naming_it_and_the_field_meant(world):
    """The typo ``consent`` for ``consent_to_share`` is refused (and nothing is saved),
    naming the field meant — at the top, inside a member, in a query string."""
    cw, hh = world["caseworker"], world["household"]
    error = error_of(cw.patch(f"{API}/households/{hh}", json={"consent": True}), 422, "validation_error")
    assert "consent_to_share" in error["details"]["consent"][0]
    assert "consent" in error["message"]
    assert cw.get(f"{API}/households/{hh}").get_json()["consent_to_share"] is False
    body = {**HOUSEHOLD, "address": "海淀区中关村南大街6号", "consent": True}
    body["members"] = [{**HOUSEHOLD["members"][0], "birthdate": "1972-03-04"}]
    error = error_of(cw.post(f"{API}/households", json=body), 422)
    assert "consent_to_share" in error["details"]["consent"][0]
    assert "birth_date" in error["details"]["members"]["0"]["birthdate"][0]
    assert cw.get(f"{API}/households").get_json()["total"] == 1
    error = error_of(cw.get(f"{API}/households?per_pag=5"), 422)
    assert "per_page" in error["details"]["per_pag"][0]
    error = error_of(cw.post(f"{API}/households/{hh}/visits", json={"channel": "routine", "colour": "red"}), 422)
    assert error["details"]["colour"] == ["Unknown field; it is not one this accepts."]


def test_every_api_input_schema_refuses_unknown_fields(app):
    """Every schema a view reads arguments with — and every schema nested in one — is an
    InputSchema that raises on unknown fields (a new endpoint cannot quietly drop them)."""
    seen: dict[str, type] = {}

    def collect(schema: object) -> None:
        cls = schema if isinstance(schema, type) else type(schema)
        if cls.__name__ in seen:
            return
        seen[cls.__name__] = cls
        for field in cls._declared_fields.values():
            inner = field.inner if isinstance(field, fields.List) else field
            if isinstance(inner, fields.Nested):
                collect(inner.nested)

    for view in app.view_functions.values():
        view_class = getattr(view, "view_class", None)
        for method in ("get", "post", "patch", "put", "delete") if view_class else ():
            func = getattr(view_class, method, None)
            for param in getattr(func, "_apidoc", {}).get("arguments", {}).get("parameters", []):
                if not isinstance(param["schema"], dict):  # a header's plain JSON schema
                    collect(param["schema"])
    collect(DisbursementForm)  # read by the view itself (JSON or multipart)
    assert len(seen) >= 25, sorted(seen)
    wrong = [n for n, cls in seen.items() if not issubclass(cls, InputSchema) or cls.Meta.unknown != RAISE]
    assert not wrong, wrong


def test_the_disbursement_form_refuses_unknown_fields_and_control_characters(app, make_user, login, as_role, worker):
    """The disbursement endpoint reads its body itself (JSON or multipart): the same rules."""
    s = build_scenario(app, make_user, login, as_role, worker)
    partner = s.api["partner"]
    path = f"{API}/offers/{s.offer}/disbursements"
    error = error_of(partner.post(path, json={"amount_fen": 100, "kind": "cash", "referenc": "x"}), 422)
    assert "reference" in error["details"]["referenc"][0]
    error = error_of(
        partner.post(
            path,
            data={"amount_fen": "100", "kind": "cash", "reference": "a\x00b"},
            content_type="multipart/form-data",
        ),
        422,
    )
    assert "reference" in error["details"]
