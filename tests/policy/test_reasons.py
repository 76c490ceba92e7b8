"""The "why" of a policy verdict as a person would say it: every clause of every shipped
policy, holding or not, renders in Chinese and in English from a code with parameters
(money in yuan, names of fields, lines, conditions and policies translated)."""

from __future__ import annotations

import itertools
import re
from typing import Any

import pytest

from broker.platform import texts
from broker.policy import catalogue, fields, wording
from broker.policy.evaluation import Facts
from broker.policy.rules import parse
from broker.registry.household_facts import SERIOUS_CONDITIONS
from tests.support.registry_data import make_grids, vendor_family

LATIN = re.compile(r"[A-Za-z]")
CJK = re.compile(r"[\u4e00-\u9fff]")
PARAMS = {"dibao_line": 111000, "low_income_line": 166500}


def facts(benefits: tuple[str, ...] = (), conditions: tuple[str, ...] = (), **values: Any) -> Facts:
    base = {name: {fields.BOOL: False, fields.STR: "urban"}.get(f.type, 0) for name, f in fields.FIELDS.items()}
    base.update(values)
    return Facts(base, frozenset(benefits), frozenset(conditions))


def households() -> list[Facts]:
    """Enough households that every clause of every shipped policy both holds and fails."""
    out = []
    for count, income, flag, benefits in itertools.product(
        (0, 1, 3), (0, 36000, 150000, 900000), (False, True), ((), ("dibao",), ("tekun",))
    ):
        values = {name: count for name, f in fields.FIELDS.items() if f.type == fields.INT}
        values.update({name: flag for name, f in fields.FIELDS.items() if f.type == fields.BOOL})
        values["income_per_capita_fen"] = values["monthly_income_fen"] = income
        values["income_after_medical_per_capita_fen"] = income
        values["financial_assets_per_capita_fen"] = income * 4  # over the asset limit at 900000
        out.append(facts(benefits, ("leukaemia",) if flag else (), **values))
    return out


def codes_in(reason: Any) -> list[str]:
    """Every code a reason uses, nested ones included."""
    if isinstance(reason, dict) and "code" in reason:
        return [reason["code"], *codes_in(reason.get("params") or {})]
    if isinstance(reason, dict):
        return [c for v in reason.values() for c in codes_in(v)]
    if isinstance(reason, list):
        return [c for v in reason for c in codes_in(v)]
    return []


def test_the_example_reads_as_a_person_would_say_it():
    """income_per_capita_fen < dibao_line, for ¥360 a head: the field, the relation, the line, in yuan."""
    rule = parse("income_per_capita_fen < dibao_line")
    [clause] = rule.explain(facts(income_per_capita_fen=36000), PARAMS)
    assert clause.reason["code"] == "policy.why.line.below"
    assert clause.reason["params"]["value_fen"] == 36000
    assert clause.reason["params"]["limit_fen"] == 111000
    assert clause.reason["params"]["operator"] == "<"
    assert clause.reason["params"]["threshold"] == {"code": "policy.param.dibao_line"}
    assert wording.render(clause.reason["code"], clause.reason["params"], "zh_CN") == (
        "家庭人均月收入 ¥360，低于本地低保标准 ¥1,110"
    )
    assert wording.render(clause.reason["code"], clause.reason["params"], "en") == (
        "Monthly income per person ¥360, below the local minimum-living line ¥1,110"
    )


def test_a_failed_clause_says_what_is_true_instead():
    """¥1,500.50 a head is not below the line: the sentence says so (with the fen), never a bare ✗."""
    [clause] = parse("income_per_capita_fen < dibao_line").explain(facts(income_per_capita_fen=150050), PARAMS)
    assert not clause.holds
    assert clause.reason["code"] == "policy.why.line.at_least"
    assert wording.render(clause.reason["code"], clause.reason["params"], "zh_CN") == (
        "家庭人均月收入 ¥1,500.50，不低于本地低保标准 ¥1,110"
    )


@pytest.mark.parametrize(
    ("rule", "values", "zh", "en"),
    [
        (
            "disabled_count > 0",
            {"disabled_count": 2},
            "有 2 名持证残疾成员",
            "2 member(s) with a registered disability",
        ),
        ("disabled_count > 0", {}, "没有持证残疾成员", "No member with a registered disability"),
        ("member_count == 1", {"member_count": 3}, "家庭人口 3 人，不是 1 人", "Household size: 3, not 1"),
        ('receives("dibao")', {}, "未享受最低生活保障", "Does not receive Minimum-living allowance (dibao)"),
        (
            "income_per_capita_fen < low_income_line * 2",
            {"income_per_capita_fen": 36000},
            "家庭人均月收入 ¥360，低于低收入标准的 2 倍 ¥3,330",
            "Monthly income per person ¥360, below 2 × the low-income line ¥3,330",
        ),
        (
            'receives("dibao") or receives("tekun") or income_per_capita_fen < low_income_line',
            {"income_per_capita_fen": 200000},
            "未享受最低生活保障；未享受特困人员救助供养；家庭人均月收入 ¥2,000，不低于低收入标准 ¥1,665",
            "Does not receive Minimum-living allowance (dibao); Does not receive Support for people in "
            "extreme poverty; Monthly income per person ¥2,000, not below the low-income line ¥1,665",
        ),
    ],
)
def test_counts_benefits_multiples_and_alternatives_read_plainly(rule, values, zh, en):
    [clause] = parse(rule).explain(facts(**values), PARAMS)
    assert wording.render(clause.reason["code"], clause.reason["params"], "zh_CN") == zh
    assert wording.render(clause.reason["code"], clause.reason["params"], "en") == en


def test_a_serious_illness_names_the_conditions_in_the_readers_language():
    """Recorded conditions ("leukaemia") are labels, not codes; a Chinese term stays as typed."""
    [clause] = parse("serious_illness").explain(facts(conditions=("leukaemia", "尿毒症"), serious_illness=True), PARAMS)
    zh = wording.render(clause.reason["code"], clause.reason["params"], "zh_CN")
    assert zh == "家中有成员患重大疾病（白血病、尿毒症）"
    assert wording.render(clause.reason["code"], clause.reason["params"], "en") == (
        "A member has a serious illness (leukaemia, 尿毒症)"
    )


def test_every_clause_of_every_shipped_policy_reads_in_chinese_and_english(app):
    """Walks every shipped policy over households on both sides of every clause: each
    clause has its own code (no fallback to the raw rule), every code it uses is defined
    and translated, the Chinese has no Latin letters and the English no Chinese."""
    seen: set[tuple[str, int, bool]] = set()
    for policy in catalogue.current().all():
        for f in households():
            for i, clause in enumerate(policy.explain(f)):
                seen.add((policy.code, i, clause.holds))
                used = codes_in(clause.reason)
                assert "policy.why.rule" not in used, (policy.code, clause.text)
                for code in used:
                    assert code in wording.TEXTS, code
                    msgid = wording.TEXTS[code]
                    assert texts.catalogue("zh_CN").gettext(msgid) != msgid, f"no zh_CN for {code}"
                zh = wording.render(clause.reason["code"], clause.reason.get("params"), "zh_CN")
                en = wording.render(clause.reason["code"], clause.reason.get("params"), "en")
                assert not LATIN.search(zh), (policy.code, clause.text, zh)
                assert not CJK.search(en), (policy.code, clause.text, en)
                assert "%(" not in zh + en
    for policy in catalogue.current().all():
        for i in range(len(policy.rule.terms())):
            assert (policy.code, i, True) in seen, (policy.code, i)
            assert (policy.code, i, False) in seen, (policy.code, i)


def test_every_shipped_policy_and_listed_condition_has_its_name_in_both_languages(app):
    """A rule naming a policy (receives) reads its name as the policy file gives it."""
    for policy in catalogue.current().all():
        code = f"policy.name.{policy.code}"
        assert wording.render(code, None, "en") == policy.name_en
        assert wording.render(code, None, "zh_CN") == policy.name
    for condition in SERIOUS_CONDITIONS:
        if not CJK.search(condition):
            label = wording.condition(condition)
            assert isinstance(label, dict), condition
            assert not LATIN.search(wording.render(label["code"], None, "zh_CN")), condition


def test_the_api_package_gives_code_params_and_message(as_role):
    """GET …/policy-package: each clause keeps its rule text and gains the code, the
    parameters (money in fen) and the message, in Chinese by default."""
    make_grids(as_role("admin"))
    caseworker = as_role("caseworker", grids=("HD-ZGC-01",))
    hid = caseworker.post("/api/v1/households", json=vendor_family()).get_json()["id"]
    package = caseworker.get(f"/api/v1/households/{hid}/policy-package").get_json()
    dibao = next(e for e in package["items"] if e["policy"]["code"] == "dibao")
    income = next(c for c in dibao["why"] if c["text"].startswith("(income_per_capita_fen < dibao_line"))
    assert income["code"] == "policy.why.line.below"
    assert income["params"]["limit_fen"] == 111000
    assert income["params"]["field"] == {"code": "policy.field.income_per_capita_fen"}
    per_head = wording.yuan(income["params"]["value_fen"])
    assert income["message"] == f"家庭人均月收入 {per_head}，低于本地低保标准 ¥1,110"
    for entry in package["items"]:
        for clause in entry["why"]:
            assert clause["message"], clause
            assert not LATIN.search(clause["message"]), clause
