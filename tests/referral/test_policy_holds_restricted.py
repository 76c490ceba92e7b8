"""Policy before charity meets restricted funds: both rules apply at once. What charities
are offered of a medical need is the lesser of what the policy will not cover and the
money whose restriction fits the need; the offer's reasons name the hold and the part
of the fund it comes from; a need no fitting money can take is left unmatched with the
hold and the restricted money both in its reasons."""

from __future__ import annotations

import pytest

from tests.referral.test_policy_holds import HALF, NEED, family, medical_request
from tests.support.aid import YUAN, make_world

API = "/api/v1"
MEDICAL = {"categories": ["medical"], "programme": "大病救助专项基金"}
SCHOOLING = {"categories": ["schooling"], "programme": "春蕾助学"}


@pytest.fixture
def world(as_role, make_user, login):
    return make_world(as_role, make_user, login)


def _federation(world, *deposits: tuple[int, dict]) -> dict:
    """The charity federation, serving medical and schooling needs, with only restricted money."""
    p = world.partner("市慈善总会", categories=["medical", "schooling"])
    for i, (amount, restriction) in enumerate(deposits):
        body = {"amount_fen": amount, "reference": f"CS-{i}", "restriction": restriction}
        resp = world.admin.post(f"{API}/partners/{p['id']}/deposits", json=body)
        assert resp.status_code == 201, resp.get_json()
    return p


def _codes(texts: list[dict]) -> list[str]:
    return [t["code"] for t in texts]


def test_charities_are_offered_the_lesser_of_the_policy_rest_and_the_fitting_money(world, worker):
    """¥30,000 needed, ¥15,000 held for medical assistance, ¥10,000 of the federation's
    money fits a medical need (its schooling money does not): it is offered ¥10,000, and
    the offer says why — the hold and the serious-illness fund."""
    p = _federation(world, (10000 * YUAN, MEDICAL), (50000 * YUAN, SCHOOLING))
    rid = medical_request(world, family(world))
    worker()
    detail = world.request(rid)
    assert detail["policy_held_fen"] == HALF
    (offer,) = detail["offers"]
    assert (offer["partner"]["id"], offer["amount_fen"]) == (p["id"], 10000 * YUAN)
    codes = _codes(offer["reason_texts"])
    assert "routing.policy_held" in codes
    (from_parts,) = [t for t in offer["reason_texts"] if t["code"] == "routing.from_parts"]
    assert "大病救助专项基金" in from_parts["message"]
    assert NEED - HALF - offer["amount_fen"] == 5000 * YUAN  # neither held nor offered: no money fits it


def test_the_policy_rest_is_offered_in_full_when_enough_money_fits(world, worker):
    """With ¥20,000 fitting the need, the offer is the policy's rest, ¥15,000, not more."""
    p = _federation(world, (20000 * YUAN, MEDICAL))
    rid = medical_request(world, family(world))
    worker()
    (offer,) = world.request(rid)["offers"]
    assert (offer["partner"]["id"], offer["amount_fen"]) == (p["id"], HALF)


def test_a_need_no_fitting_money_can_take_names_the_hold_and_the_restriction(world, worker):
    """The federation's money is all restricted to schooling: the medical need is left
    unmatched; its reasons say what is held for the policy, and that the partner's money
    for this need (none) is short of the rest, ¥15,000, the rest being restricted."""
    p = _federation(world, (50000 * YUAN, SCHOOLING))
    rid = medical_request(world, family(world))
    worker()
    detail = world.request(rid)
    assert detail["offers"] == []
    assert detail["routing_state"] == "unmatched"
    reasons = detail["routing_reasons"]
    assert _codes(reasons["held"]) == ["routing.policy_held"]
    assert reasons["held"][0]["params"]["held_fen"] == HALF
    (excluded,) = reasons["excluded"]
    assert (excluded["partner_id"], excluded["code"]) == (p["id"], "restricted_funds")
    assert (excluded["params"]["needed_fen"], excluded["params"]["restricted_fen"]) == (HALF, 50000 * YUAN)
    assert [(h["status"], h["amount_fen"]) for h in detail["policy_holds"]] == [("held", HALF)]
