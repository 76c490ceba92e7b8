"""The sentences the policy domain says to people, as codes → English msgids (each
translated in the one gettext catalogue): why a household qualifies or not, clause by
clause, the names of the facts, lines and conditions those sentences use, and the names
of the shipped policies when a rule names one (``receives("dibao")``).

The domain keeps a code with its parameters (:mod:`broker.policy.reasons`); a page or an
API answer renders it in the reader's language with :func:`broker.platform.texts.render`
(``value_fen`` reads as yuan, also as ``%(value)s``; a nested ``{"code", "params"}`` is
rendered first; a list reads as a list)."""

from __future__ import annotations

from typing import Any

from broker.platform import texts
from broker.platform.texts import N_

# How a comparison reads, by what actually holds for the household (a failed
# ``income < line`` reads "not below"): against a named line (money), against a plain
# amount, and between counts of people.
OPERATOR_NAMES = {"<": "below", "<=": "at_most", ">": "above", ">=": "at_least", "==": "equal", "!=": "not_equal"}

TEXTS: dict[str, str] = {
    # against a named line: "Monthly income per person ¥360, below the local minimum-living line ¥1,110"
    "policy.why.line.below": N_("%(field)s %(value)s, below %(threshold)s %(limit)s"),
    "policy.why.line.at_most": N_("%(field)s %(value)s, not above %(threshold)s %(limit)s"),
    "policy.why.line.above": N_("%(field)s %(value)s, above %(threshold)s %(limit)s"),
    "policy.why.line.at_least": N_("%(field)s %(value)s, not below %(threshold)s %(limit)s"),
    "policy.why.line.equal": N_("%(field)s %(value)s, equal to %(threshold)s %(limit)s"),
    "policy.why.line.not_equal": N_("%(field)s %(value)s, not equal to %(threshold)s %(limit)s"),
    # against an amount written in the rule
    "policy.why.amount.below": N_("%(field)s %(value)s, below %(limit)s"),
    "policy.why.amount.at_most": N_("%(field)s %(value)s, not above %(limit)s"),
    "policy.why.amount.above": N_("%(field)s %(value)s, above %(limit)s"),
    "policy.why.amount.at_least": N_("%(field)s %(value)s, not below %(limit)s"),
    "policy.why.amount.equal": N_("%(field)s %(value)s, exactly %(limit)s"),
    "policy.why.amount.not_equal": N_("%(field)s %(value)s, not %(limit)s"),
    # counts of people
    "policy.why.count.below": N_("%(field)s: %(value)s, fewer than %(limit)s"),
    "policy.why.count.at_most": N_("%(field)s: %(value)s, no more than %(limit)s"),
    "policy.why.count.above": N_("%(field)s: %(value)s, more than %(limit)s"),
    "policy.why.count.at_least": N_("%(field)s: %(value)s, at least %(limit)s"),
    "policy.why.count.equal": N_("%(field)s: %(value)s, as required"),
    "policy.why.count.not_equal": N_("%(field)s: %(value)s, not %(limit)s"),
    # "has any" tests (count > 0), both ways
    "policy.why.some.member_count": N_("%(count)s member(s) recorded"),
    "policy.why.none.member_count": N_("No member recorded yet"),
    "policy.why.some.school_age_children": N_("%(count)s child(ren) of school age or in school"),
    "policy.why.none.school_age_children": N_("No child of school age or in school"),
    "policy.why.some.elderly_count": N_("%(count)s member(s) aged 60 or over"),
    "policy.why.none.elderly_count": N_("No member aged 60 or over"),
    "policy.why.some.disabled_count": N_("%(count)s member(s) with a registered disability"),
    "policy.why.none.disabled_count": N_("No member with a registered disability"),
    "policy.why.some.severe_disabled_count": N_("%(count)s member(s) with a severe disability (grade 1 or 2)"),
    "policy.why.none.severe_disabled_count": N_("No member with a severe disability (grade 1 or 2)"),
    "policy.why.some.students_count": N_("%(count)s member(s) in education, preschool to university"),
    "policy.why.none.students_count": N_("No member in education"),
    "policy.why.some.unemployed_count": N_("%(count)s member(s) of working age out of work"),
    "policy.why.none.unemployed_count": N_("No member out of work"),
    "policy.why.some.minors_count": N_("%(count)s member(s) under 18"),
    "policy.why.none.minors_count": N_("No member under 18"),
    "policy.why.some.unsupported_count": N_(
        "%(count)s elderly, under-age or severely disabled member(s) with no legal supporter able to support them"
    ),
    "policy.why.none.unsupported_count": N_(
        "No elderly, under-age or severely disabled member is recorded without a legal supporter able to support them"
    ),
    # yes/no facts
    "policy.why.yes.serious_illness": N_("A member has a serious illness"),
    "policy.why.yes_with.serious_illness": N_("A member has a serious illness (%(conditions)s)"),
    "policy.why.no.serious_illness": N_("No member has a serious illness on record"),
    "policy.why.yes.sudden_hardship": N_("A sudden hardship is recorded (accident, fire, sudden illness)"),
    "policy.why.no.sudden_hardship": N_("No sudden hardship recorded"),
    "policy.why.yes.consent_to_share": N_("The family agreed to share its details with partners"),
    "policy.why.no.consent_to_share": N_("The family has not agreed to share its details"),
    "policy.why.yes.surplus_housing": N_("The household owns housing beyond its need"),
    "policy.why.no.surplus_housing": N_("No housing beyond the household's need"),
    "policy.why.yes.medical_deducted": N_("The county deducts rigid medical spending from income"),
    "policy.why.no.medical_deducted": N_("The county does not deduct medical spending from income"),
    # benefits already received
    "policy.why.receives": N_("Already receives %(policy)s"),
    "policy.why.not_receives": N_("Does not receive %(policy)s"),
    # several reasons at once, and a clause this vocabulary cannot say better
    "policy.why.both": N_("%(first)s; %(rest)s"),
    "policy.why.rule": N_("Rule: %(rule)s"),
    # the facts a rule reads
    "policy.field.member_count": N_("Household size"),
    "policy.field.monthly_income_fen": N_("Monthly household income"),
    "policy.field.income_per_capita_fen": N_("Monthly income per person"),
    "policy.field.school_age_children": N_("Children of school age"),
    "policy.field.elderly_count": N_("Members aged 60 or over"),
    "policy.field.disabled_count": N_("Members with a disability"),
    "policy.field.severe_disabled_count": N_("Members with a severe disability"),
    "policy.field.students_count": N_("Members in education"),
    "policy.field.unemployed_count": N_("Members out of work"),
    "policy.field.serious_illness": N_("Serious illness in the family"),
    "policy.field.sudden_hardship": N_("Sudden hardship"),
    "policy.field.consent_to_share": N_("Consent to share details"),
    "policy.field.residence": N_("Residence (urban or rural)"),
    "policy.field.minors_count": N_("Members under 18"),
    "policy.field.unsupported_count": N_("Members with no able legal supporter"),
    "policy.field.financial_assets_per_capita_fen": N_("Financial assets per person"),
    "policy.field.motor_vehicles": N_("Motor vehicles"),
    "policy.field.surplus_housing": N_("Housing beyond need"),
    "policy.field.medical_spending_monthly_fen": N_("Rigid medical spending per month"),
    "policy.field.income_after_medical_per_capita_fen": N_("Monthly income per person after medical spending"),
    # the lines a rule compares with
    "policy.param.dibao_line": N_("the local minimum-living line"),
    "policy.param.low_income_line": N_("the low-income line"),
    "policy.param.financial_assets_limit": N_("the county's limit of financial assets per person"),
    "policy.param.motor_vehicle_limit": N_("the vehicles the county allows"),
    "policy.param.medical_deducted": N_("medical spending deducted from income"),
    "policy.param.times": N_("%(factor)s × %(line)s"),
    # the shipped policies, when a rule names one
    "policy.name.dibao": N_("Minimum-living allowance (dibao)"),
    "policy.name.tekun": N_("Support for people in extreme poverty"),
    "policy.name.medical_aid": N_("Medical assistance"),
    "policy.name.education_aid": N_("Education assistance"),
    "policy.name.disability_subsidies": N_("Disability subsidies (living and nursing)"),
    "policy.name.temporary_aid": N_("Temporary assistance"),
    # members' health conditions, as recorded in the registry
    "policy.condition.serious_illness": N_("serious illness"),
    "policy.condition.leukaemia": N_("leukaemia"),
    "policy.condition.leukemia": N_("leukaemia"),
    "policy.condition.cancer": N_("cancer"),
    "policy.condition.malignant_tumour": N_("malignant tumour"),
    "policy.condition.malignant_tumor": N_("malignant tumour"),
    "policy.condition.uraemia": N_("uraemia"),
    "policy.condition.uremia": N_("uraemia"),
    "policy.condition.renal_failure": N_("renal failure"),
    "policy.condition.organ_transplant": N_("organ transplant"),
    "policy.condition.aplastic_anaemia": N_("aplastic anaemia"),
    "policy.condition.aplastic_anemia": N_("aplastic anaemia"),
    "policy.condition.haemophilia": N_("haemophilia"),
    "policy.condition.hemophilia": N_("haemophilia"),
    "policy.condition.severe_mental_illness": N_("severe mental illness"),
    "policy.condition.congenital_heart_disease": N_("congenital heart disease"),
    "policy.condition.disability": N_("disability"),
    # a member's place in the household, on the printed form
    "policy.relation.head": N_("Head of household"),
    "policy.relation.spouse": N_("Spouse"),
    "policy.relation.child": N_("Child"),
    "policy.relation.parent": N_("Parent"),
    "policy.relation.grandchild": N_("Grandchild"),
    "policy.relation.grandparent": N_("Grandparent"),
    "policy.relation.sibling": N_("Sibling"),
    "policy.relation.in_law": N_("In-law"),
    "policy.relation.other": N_("Other"),
}


def condition(value: str) -> dict[str, Any] | str:
    """A member's recorded condition as a parameter: a known code renders in the
    reader's language, anything else (a Chinese term as typed) is shown as written."""
    code = f"policy.condition.{value}"
    return {"code": code} if code in TEXTS else value


texts.define(TEXTS)

# Rendered by the shared text module, in the reader's language (see its docstring).
render = texts.render
rendered = texts.rendered
yuan = texts.yuan
