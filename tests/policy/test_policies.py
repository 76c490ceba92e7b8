"""Policies as data: the YAML catalogue (and its loud failures at start-up), the policy
list, and a household's policy package with the why, the state and the missing
documents."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from broker import boot
from broker.platform import db, runtime
from broker.policy import catalogue
from broker.policy.catalogue import PolicyError
from models import HouseholdBenefit, Partner
from tests.support.registry_data import make_grids, vendor_family

PARAMS = {"dibao_line": 111000, "low_income_line": 166500}
SHIPPED = {"dibao", "tekun", "medical_aid", "education_aid", "temporary_aid", "disability_subsidies"}

GOOD = """\
code: {code}
version: "{version}"
name: 测试政策
name_en: Test policy
department: 区民政局
benefit:
  description: 测试
rule: {rule}
review_days: 10
documents:
  - code: form
    label: 申请书
    label_en: Application form
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems_of(folder: Path) -> str:
    with pytest.raises(PolicyError) as info:
        catalogue.load(folder, PARAMS)
    return str(info.value)


# --------------------------------------------------------------------------- catalogue


def test_shipped_policies_load_with_checklists():
    """Every shipped policy file loads, names its department, deadline and a non-empty document checklist."""
    cat = catalogue.load(Path(runtime.settings()["POLICY_DIR"]), PARAMS)
    assert set(cat.codes()) == SHIPPED
    for policy in cat.all():
        assert policy.department
        assert policy.review_days > 0
        assert policy.documents
        assert policy.name
        assert policy.name_en


def test_a_yaml_syntax_error_names_the_file_and_line(tmp_path):
    """A file that is not valid YAML fails with its name, the line and the parser's reason."""
    write(tmp_path, "ok.yaml", GOOD.format(code="ok", version="1", rule="true"))
    write(tmp_path, "broken.yaml", 'code: broken\nversion: "1"\nname: [unclosed\nname_en: x\n')
    message = problems_of(tmp_path)
    assert "broken.yaml:4:" in message
    assert "not valid YAML" in message


def test_a_bad_rule_names_the_yaml_line_and_the_column_in_the_rule(tmp_path):
    """A rule that does not parse fails with the file, the rule's YAML line and the column inside the rule."""
    write(tmp_path, "bad.yaml", GOOD.format(code="bad", version="1", rule="member_count > 0 and incme < 3"))
    message = problems_of(tmp_path)
    assert "bad.yaml:8: rule, column 22: unknown name 'incme'" in message
    assert "Known fields:" in message


def test_a_bad_rule_in_a_literal_block_names_its_own_line(tmp_path):
    """In a rule written as a literal block, the error's YAML line is the line of the bad term."""
    text = GOOD.format(code="block", version="1", rule="|\n  member_count > 0\n  and serious_illness < 1")
    write(tmp_path, "block.yaml", text)
    assert "block.yaml:10: rule, line 2 column 5: '<' needs a number" in problems_of(tmp_path)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            GOOD.format(code="x1", version="1", rule="true").replace("review_days: 10", "review_days: 0"),
            ":9: review_days",
        ),
        (GOOD.format(code="x1", version="1", rule="true") + "colour: red\n", ":14: the file: unknown key 'colour'"),
        (
            GOOD.format(code="x1", version="1", rule="true").replace("department: 区民政局\n", ""),
            "missing required key",
        ),
        (GOOD.format(code="X-1", version="1", rule="true"), ":1: code 'X-1' must match"),
        (GOOD.format(code="x1", version="one", rule="true"), ":2: version 'one' must match"),
        (GOOD.format(code="x1", version="1", rule="member_count"), "a rule needs a true/false condition"),
        (GOOD.format(code="x1", version="1", rule='receives("nope")'), 'receives("nope") names no known policy'),
        (
            GOOD.format(code="x1", version="1", rule="true") + "excludes_if_receiving: [ghost]\n",
            ":14: excludes_if_receiving names no known policy 'ghost'",
        ),
        (
            GOOD.format(code="x1", version="1", rule="true").replace(
                "  - code: form", "  - code: form\n  - code: form"
            ),
            ":12: document code 'form' appears twice",
        ),
    ],
)
def test_malformed_policy_files_fail_loudly_with_line_and_reason(tmp_path, text, expected):
    """Each kind of mistake in a policy file is reported as file:line: reason."""
    write(tmp_path, "x1.yaml", text)
    message = problems_of(tmp_path)
    assert "x1.yaml:" in message
    assert expected in message, message


def test_start_up_refuses_a_bad_policy_folder(tmp_path):
    """Initialising the runtime (what every web, worker and CLI process does) raises on a bad policy file."""
    folder = tmp_path / "policies"
    folder.mkdir()
    write(folder, "bad.yaml", GOOD.format(code="bad", version="1", rule="income < 3"))
    settings = runtime.settings()
    with pytest.raises(PolicyError, match=r"bad\.yaml:8: rule, column 1: unknown name 'income'"):
        boot.init({"INSTANCE_PATH": str(tmp_path / "inst"), "POLICY_DIR": str(folder)})
    assert runtime.settings() is settings  # the running process keeps its good state


def test_the_highest_version_is_current_and_old_versions_stay_readable(tmp_path):
    """Of two versions, households are matched against the highest; the old one is still found by number."""
    write(tmp_path, "v1.yaml", GOOD.format(code="grant", version="2024.9", rule="member_count > 1"))
    write(tmp_path, "v2.yaml", GOOD.format(code="grant", version="2024.10", rule="member_count > 2"))
    cat = catalogue.load(tmp_path, PARAMS)
    assert cat.get("grant").version == "2024.10"
    assert cat.get("grant", "2024.9").rule.source == "member_count > 1"


def test_the_same_version_twice_is_an_error(tmp_path):
    """Two files claiming the same policy version fail, naming both files."""
    write(tmp_path, "a.yaml", GOOD.format(code="grant", version="1", rule="true"))
    write(tmp_path, "b.yaml", GOOD.format(code="grant", version="1", rule="false"))
    assert "b.yaml:1: policy grant version 1 is also defined in a.yaml" in problems_of(tmp_path)


# --------------------------------------------------------------------------- API


@pytest.fixture
def world(as_role):
    """An admin, the grids, a caseworker of HD-ZGC-01 and the model-case family recorded by them."""
    admin = as_role("admin")
    make_grids(admin)
    caseworker = as_role("caseworker", grids=("HD-ZGC-01",))
    resp = caseworker.post("/api/v1/households", json=vendor_family())
    assert resp.status_code == 201, resp.get_json()
    return {"admin": admin, "caseworker": caseworker, "household_id": resp.get_json()["id"]}


def test_policy_list_shows_rules_parameters_and_the_language(world):
    """GET /policies lists each policy with its rule and checklist, the parameter values and the documented fields."""
    body = world["caseworker"].get("/api/v1/policies").get_json()
    assert {p["code"] for p in body["items"]} == SHIPPED
    assert body["total"] == len(SHIPPED)
    assert body["parameters"]["dibao_line"] == runtime.settings()["LOCAL_DIBAO_LINE_FEN"]
    assert "income_per_capita_fen" in {f["name"] for f in body["language"]["fields"]}
    one = world["caseworker"].get("/api/v1/policies/medical_aid").get_json()
    assert one["name"] == "医疗救助"
    assert one["documents"][0]["code"] == "application_form"
    missing = world["caseworker"].get("/api/v1/policies/nothing")
    assert missing.status_code == 404
    assert "dibao" in missing.get_json()["error"]["message"]


def test_model_case_package_has_dibao_medical_and_education_with_why(world):
    """The model-case family qualifies for 低保, 医疗救助 and 教育救助, with clauses matched and documents missing."""
    body = world["caseworker"].get(f"/api/v1/households/{world['household_id']}/policy-package").get_json()
    items = {e["policy"]["code"]: e for e in body["items"]}
    assert {"dibao", "medical_aid", "education_aid"} <= set(items)
    dibao = items["dibao"]
    assert dibao["qualifies"]
    assert dibao["state"] == "to_apply"
    assert not dibao["receives"]
    assert "income_per_capita_fen 48000 < dibao_line 111000" in [c["detail"] for c in dibao["why"]]
    assert dibao["missing_documents"] == [d["code"] for d in dibao["documents"]]
    assert items["medical_aid"]["why"][0]["detail"] == "serious_illness: true"
    assert items["education_aid"]["why"][0]["holds"]
    assert items["education_aid"]["application"] is None


def test_package_follows_applications_and_benefits(world):
    """Filing and ticking make a policy 'applied' with fewer documents missing; a benefit reads 'receives'."""
    cw, hid = world["caseworker"], world["household_id"]
    app = cw.post(f"/api/v1/households/{hid}/applications", json={"policy": "dibao"}).get_json()
    cw.post(f"/api/v1/applications/{app['id']}/documents", json={"documents": {"id_and_hukou": True}})
    db.session().add(HouseholdBenefit(household_id=hid, policy_code="medical_aid", source="declared"))
    db.commit()
    items = {e["policy"]["code"]: e for e in cw.get(f"/api/v1/households/{hid}/policy-package").get_json()["items"]}
    assert items["dibao"]["state"] == "applied"
    assert items["dibao"]["application"]["status"] == "documents-gathering"
    assert "id_and_hukou" not in items["dibao"]["missing_documents"]
    assert len(items["dibao"]["missing_documents"]) == len(items["dibao"]["documents"]) - 1
    assert items["medical_aid"]["missing_documents"] == []
    assert items["medical_aid"]["state"] == "receives"
    assert items["medical_aid"]["receives"]


def test_near_misses_name_the_one_condition_that_failed(world):
    """A policy missed by a single condition is listed as a near miss with that condition."""
    body = world["caseworker"].get(f"/api/v1/households/{world['household_id']}/policy-package").get_json()
    near = {n["policy"]["code"]: n for n in body["near_misses"]}
    assert near["disability_subsidies"]["failed"][0]["detail"] == "disabled_count 0 > 0"


def test_package_is_scoped(world, as_role, make_user, login):
    """Auditors and admins read a package; a caseworker of another grid gets 404; partners get 403."""
    hid = world["household_id"]
    assert as_role("auditor").get(f"/api/v1/households/{hid}/policy-package").status_code == 200
    assert world["admin"].get(f"/api/v1/households/{hid}/policy-package").status_code == 200
    other = as_role("caseworker", grids=("HD-ZGC-02",))
    resp = other.get(f"/api/v1/households/{hid}/policy-package")
    assert resp.status_code == 404
    assert resp.get_json()["error"]["code"] == "not_found"
    fund = Partner(name="社区互助基金", kind="mutual_aid_fund", adapter="portal")
    db.session().add(fund)
    db.commit()
    partner = login(make_user("partner", partner_id=fund.id))
    resp = partner.get(f"/api/v1/households/{hid}/policy-package")
    assert resp.status_code == 403
    assert resp.get_json()["error"]["code"] == "forbidden"
    assert world["caseworker"].get("/api/v1/households/999999/policy-package").status_code == 404
