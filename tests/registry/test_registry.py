"""The registry over HTTP and in the domain: grids, households and members, scope by
grid and role, identity numbers (checked, encrypted, de-duplicated, masked), derived
facts, moves, visits, coverage, and the re-importable survey upsert."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from broker import audit
from broker.people import users
from broker.platform import db, security
from broker.platform.errors import Invalid
from broker.registry import grids, household_facts, households, identity
from models import AuditEvent, Household, Member, User
from tests.support.registry_data import elderly_couple, grid_body, id_number, make_grids, vendor_family

API = "/api/v1"


@pytest.fixture
def admin(as_role):
    client = as_role("admin")
    make_grids(client)
    return client


@pytest.fixture
def caseworker(admin, make_user, login):
    """A caseworker holding 中关村东路第一网格 only."""
    return login(make_user("caseworker", grids=("HD-ZGC-01",), username="sg_liu"))


def create(client, body: dict) -> dict:
    resp = client.post(f"{API}/households", json=body)
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def audit_actions() -> list[str]:
    return [row.action for row in db.session().execute(select(AuditEvent).order_by(AuditEvent.id)).scalars()]


# --- grids ----------------------------------------------------------------------------


def test_admin_creates_grids_and_caseworkers_see_only_their_own(admin, caseworker, as_role):
    """Grids are an admin's to create (codes unique); a caseworker lists and reads only its own."""
    assert admin.post(f"{API}/grids", json=grid_body("HD-ZGC-01")).get_json()["error"]["code"] == "grid_exists"
    assert caseworker.post(f"{API}/grids", json={**grid_body("HD-ZGC-01"), "code": "X-1"}).status_code == 403
    assert [g["code"] for g in admin.get(f"{API}/grids").get_json()["items"]] == ["CY-JSC-01", "HD-ZGC-01", "HD-ZGC-02"]
    listed = caseworker.get(f"{API}/grids").get_json()
    assert (listed["total"], [g["code"] for g in listed["items"]]) == (1, ["HD-ZGC-01"])
    assert caseworker.get(f"{API}/grids/HD-ZGC-01").get_json()["community"] == "科源社区"
    assert caseworker.get(f"{API}/grids/HD-ZGC-02").status_code == 404
    assert as_role("auditor").get(f"{API}/grids/HD-ZGC-02").status_code == 200
    assert admin.post(f"{API}/grids", json={"code": "bad code!", "name": "x"}).status_code == 422


# --- households -----------------------------------------------------------------------


def test_the_model_family_is_recorded_with_its_facts(caseworker):
    """The vendor's family is stored with the derived facts the policy rules read."""
    body = create(caseworker, vendor_family())
    assert body["grid"] == "HD-ZGC-01"
    assert body["member_count"] == 5
    assert body["income_per_capita_fen"] == 240000 // 5
    assert body["school_age_children"] == 3
    assert body["serious_illness"] is True
    assert body["unemployed_count"] == 1
    assert body["elderly_count"] == 0
    assert body["disabled_count"] == 0
    head = body["members"][0]
    assert head["name"] == "张建国"
    assert head["sex"] == "M"  # read from the ID number
    assert body["members"][1]["birth_date"] == "1981-09-03"  # read from the ID number
    assert body["members"][2]["conditions"] == ["leukaemia"]
    assert "household.created" in audit_actions()


def test_id_numbers_are_encrypted_hashed_masked_and_never_audited(caseworker):
    """The database holds ciphertext and a keyed hash; staff see a masked number; the audit log never the full one."""
    raw = vendor_family()["members"][0]["id_number"]
    body = create(caseworker, vendor_family())
    assert body["members"][0]["id_number"] == identity.masked(raw) == raw[:6] + "********" + raw[14:]
    assert body["members"][2]["id_number"] is None
    member = db.session().get(Member, body["members"][0]["id"])
    assert raw.encode() not in member.id_number_enc
    assert security.decrypt(member.id_number_enc) == raw
    assert member.id_hash == security.keyed_hash(raw) != raw
    for row in db.session().execute(select(AuditEvent)).scalars():
        assert raw not in (row.before or "") + (row.after or "") + (row.details or "")
    assert raw not in caseworker.get(f"{API}/households/{body['id']}").get_data(as_text=True)


@pytest.mark.parametrize(
    ("id_value", "birth_date", "field", "fragment"),
    [
        ("11010819790412131", "1979-04-12", "id_number", "18 characters"),
        ("110108197904121310", "1979-04-12", "id_number", "check character"),
        ("110108197902301234", None, "id_number", "birth date"),
        ("11010819790412131X", "1980-04-12", "birth_date", "does not match"),
    ],
)
def test_bad_id_numbers_are_422_on_the_member_field(caseworker, id_value, birth_date, field, fragment):
    """A wrong length, check character or embedded date, or a birth date that disagrees, is a 422 naming the field."""
    family = vendor_family()
    member = {"name": "张建国", "id_number": id_value, "relation": "head"}
    if birth_date:
        member["birth_date"] = birth_date
    family["members"][0] = member
    resp = caseworker.post(f"{API}/households", json=family)
    assert resp.status_code == 422, resp.get_json()
    errors = resp.get_json()["error"]["details"]["members"]["0"][field]
    assert fragment in " ".join(errors)


def test_same_person_twice_in_one_submission_is_422(caseworker):
    """One ID number on two members of one submission is refused before anything is stored."""
    family = vendor_family()
    family["members"][1]["id_number"] = family["members"][0]["id_number"]
    family["members"][1]["birth_date"] = "1979-04-12"
    resp = caseworker.post(f"{API}/households", json=family)
    assert resp.status_code == 422
    assert "same person as member 0" in resp.get_json()["error"]["details"]["members"]["1"]["id_number"][0]
    assert db.session().execute(select(Household)).first() is None


def test_same_person_in_another_household_is_409_named_only_if_visible(admin, caseworker, make_user, login):
    """A duplicate person is a 409 naming the other household to those who may see it, and only to them."""
    first = create(caseworker, vendor_family())
    again = vendor_family()
    again["address"] = "海淀区中关村东路20号院1号楼101"
    resp = caseworker.post(f"{API}/households", json=again)
    assert resp.status_code == 409
    err = resp.get_json()["error"]
    assert err["code"] == "duplicate_person"
    assert err["details"]["household_id"] == first["id"]
    assert err["details"]["address"] == "海淀区中关村东路18号院3号楼2单元501"
    assert err["details"]["grid"] == "HD-ZGC-01"

    other = login(make_user("caseworker", grids=("HD-ZGC-02",)))
    elsewhere = vendor_family("HD-ZGC-02")
    resp = other.post(f"{API}/households", json=elsewhere)
    assert resp.status_code == 409
    err = resp.get_json()["error"]
    assert err["code"] == "duplicate_person"
    assert err["details"] == {"member_index": 0, "visible": False}
    assert "中关村东路" not in err["message"]
    assert str(first["id"]) not in err["message"]


def test_scope_caseworkers_auditors_partners(admin, caseworker, as_role, make_user, login):
    """Out-of-grid households read as 404 for caseworkers; auditors read but get 403 on writes; partners get 403."""
    mine = create(caseworker, vendor_family())
    theirs = create(admin, elderly_couple())
    assert caseworker.get(f"{API}/households/{theirs['id']}").status_code == 404
    assert caseworker.patch(f"{API}/households/{theirs['id']}", json={"monthly_income_fen": 1}).status_code == 404
    assert caseworker.post(f"{API}/households/{theirs['id']}/visits", json={"channel": "routine"}).status_code == 404
    assert [h["id"] for h in caseworker.get(f"{API}/households").get_json()["items"]] == [mine["id"]]
    resp = caseworker.post(f"{API}/households", json=elderly_couple())
    assert resp.status_code == 403
    assert "HD-ZGC-02" in resp.get_json()["error"]["message"]

    auditor = as_role("auditor")
    assert auditor.get(f"{API}/households/{theirs['id']}").status_code == 200
    assert auditor.get(f"{API}/households").get_json()["total"] == 2
    assert auditor.post(f"{API}/households", json=vendor_family("HD-ZGC-02", seq="7")).status_code == 403
    assert auditor.patch(f"{API}/households/{mine['id']}", json={"notes": "x"}).status_code == 403

    from broker.referral import partners

    principal = users.principal_of(db.session().execute(select(User).where(User.role == "admin")).scalar_one())
    fund = partners.create_partner(
        db.session(),
        principal,
        {"name": "科源社区互助基金", "kind": "mutual_aid_fund", "adapter": "portal", "categories": ["emergency"]},
    )
    db.commit()
    partner = login(make_user("partner", partner_id=fund.id))
    for path in (f"/households/{mine['id']}", "/households", "/grids", "/coverage", f"/households/{mine['id']}/visits"):
        assert partner.get(API + path).status_code == 403, path
    assert partner.post(f"{API}/households", json=vendor_family(seq="8")).status_code == 403


def test_unknown_grid_and_missing_fields_are_422(admin):
    """Bad input is a 422 with the fields named, never a 500."""
    resp = admin.post(f"{API}/households", json={**vendor_family(), "grid": "NO-SUCH"})
    assert (resp.status_code, resp.get_json()["error"]["code"]) == (422, "unknown_grid")
    resp = admin.post(f"{API}/households", json={"grid": "HD-ZGC-01", "members": []})
    assert resp.status_code == 422
    details = resp.get_json()["error"]["details"]
    assert {"address", "monthly_income_fen", "members"} <= set(details)
    family = vendor_family()
    family["monthly_income_fen"] = -5
    family["members"][3].pop("birth_date")
    family["members"][4]["disability_grade"] = 7
    details = admin.post(f"{API}/households", json=family).get_json()["error"]["details"]
    assert "monthly_income_fen" in details
    assert "birth_date" in details["members"]["3"]
    assert "disability_grade" in details["members"]["4"]


def test_patch_changes_members_and_recomputes_facts(caseworker):
    """Adding, updating and removing members and changing income recompute the facts, audited with before/after."""
    body = create(caseworker, vendor_family())
    hid = body["id"]
    ids = [m["id"] for m in body["members"]]
    grandma = {
        "name": "赵玉珍",
        "id_number": id_number(date(1948, 3, 5), "282"),
        "relation": "grandparent",
        "conditions": ["Disability"],
    }
    resp = caseworker.patch(
        f"{API}/households/{hid}",
        json={
            "monthly_income_fen": 180000,
            "consent_to_share": False,
            "members": [grandma, {"id": ids[1], "employment": "employed"}],
            "remove_member_ids": [ids[4]],
        },
    )
    assert resp.status_code == 200, resp.get_json()
    after = resp.get_json()
    assert after["member_count"] == 5
    assert after["income_per_capita_fen"] == 180000 // 5
    assert after["elderly_count"] == 1
    assert after["disabled_count"] == 1
    assert after["unemployed_count"] == 0
    assert after["school_age_children"] == 2
    assert after["consent_to_share"] is False
    assert [m["name"] for m in after["members"]] == ["张建国", "李秀兰", "张浩", "张婷", "赵玉珍"]
    row = db.session().execute(select(AuditEvent).where(AuditEvent.action == "household.updated")).scalar_one()
    before_doc, after_doc = audit.loads(row.before), audit.loads(row.after)
    assert (before_doc["monthly_income_fen"], after_doc["monthly_income_fen"]) == (240000, 180000)
    assert after_doc["facts"]["elderly_count"] == 1
    assert grandma["id_number"] not in row.after

    resp = caseworker.patch(f"{API}/households/{hid}", json={"members": [{"id": 999999, "name": "某人"}]})
    assert resp.status_code == 422
    resp = caseworker.patch(f"{API}/households/{hid}", json={"members": [{"name": "无名"}]})
    assert resp.status_code == 422
    assert "relation" in resp.get_json()["error"]["details"]["members"]["0"]
    resp = caseworker.patch(f"{API}/households/{hid}", json={"members": [{"id": ids[0], "birth_date": "1990-01-01"}]})
    assert resp.status_code == 422
    assert resp.get_json()["error"]["details"] == {"members.0.birth_date": ["does not match the ID number"]}


def test_adding_a_person_registered_elsewhere_by_patch_is_409(admin, caseworker):
    """The same de-duplication holds when a member is added later."""
    create(admin, elderly_couple())
    mine = create(caseworker, vendor_family())
    granny = elderly_couple()["members"][0]
    resp = caseworker.patch(f"{API}/households/{mine['id']}", json={"members": [granny]})
    assert resp.status_code == 409
    assert resp.get_json()["error"]["details"]["visible"] is False


def test_move_needs_both_grids_and_is_audited(admin, caseworker, make_user, login):
    """Admins, or a caseworker holding both grids, move a household; the move is audited with both grids."""
    hid = create(caseworker, vendor_family())["id"]
    resp = caseworker.post(f"{API}/households/{hid}/move", json={"grid": "HD-ZGC-02"})
    assert resp.status_code == 403
    both = login(make_user("caseworker", grids=("HD-ZGC-01", "HD-ZGC-02")))
    resp = both.post(f"{API}/households/{hid}/move", json={"grid": "HD-ZGC-02"})
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["grid"] == "HD-ZGC-02"
    assert caseworker.get(f"{API}/households/{hid}").status_code == 404
    row = db.session().execute(select(AuditEvent).where(AuditEvent.action == "household.moved")).scalar_one()
    assert (audit.loads(row.before), audit.loads(row.after)) == ({"grid": "HD-ZGC-01"}, {"grid": "HD-ZGC-02"})
    assert admin.post(f"{API}/households/{hid}/move", json={"grid": "CY-JSC-01"}).status_code == 200
    assert admin.post(f"{API}/households/{hid}/move", json={"grid": "NOPE"}).status_code == 422


def test_list_filters_by_grid_and_searches(admin, caseworker):
    """The list filters by grid and finds by address, member name, or an exact resident ID."""
    vendor = create(caseworker, vendor_family())
    granny = create(admin, elderly_couple())
    assert [h["id"] for h in admin.get(f"{API}/households?grid=HD-ZGC-02").get_json()["items"]] == [granny["id"]]
    assert [h["id"] for h in admin.get(f"{API}/households?q=中关村东路").get_json()["items"]] == [vendor["id"]]
    assert [h["id"] for h in admin.get(f"{API}/households?q=王子涵").get_json()["items"]] == [granny["id"]]
    raw = elderly_couple()["members"][0]["id_number"]
    assert [h["id"] for h in admin.get(f"{API}/households?q={raw}").get_json()["items"]] == [granny["id"]]
    assert caseworker.get(f"{API}/households?q={raw}").get_json()["total"] == 0
    page = admin.get(f"{API}/households?per_page=1&page=2").get_json()
    assert (page["total"], page["page"], page["per_page"], len(page["items"])) == (2, 2, 1, 1)
    assert admin.get(f"{API}/households?per_page=0").status_code == 422


# --- visits and coverage --------------------------------------------------------------


def test_visits_update_last_visited_and_refuse_the_future(caseworker):
    """A visit moves last_visited_at forward (never back); a visit in the future is refused."""
    hid = create(caseworker, vendor_family())["id"]
    resp = caseworker.post(
        f"{API}/households/{hid}/visits",
        json={"channel": "routine", "findings": "孩子住院，母亲陪护，家中两个孩子上学。"},
    )
    assert resp.status_code == 201, resp.get_json()
    first = resp.get_json()
    earlier = (datetime.now(UTC) - timedelta(days=30)).isoformat()
    resp = caseworker.post(f"{API}/households/{hid}/visits", json={"channel": "holiday", "visited_at": earlier})
    assert resp.status_code == 201
    household = caseworker.get(f"{API}/households/{hid}").get_json()
    assert household["last_visited_at"] == first["visited_at"]
    visits = caseworker.get(f"{API}/households/{hid}/visits").get_json()
    assert [v["channel"] for v in visits["items"]] == ["routine", "holiday"]
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    resp = caseworker.post(f"{API}/households/{hid}/visits", json={"channel": "hotline", "visited_at": future})
    assert resp.status_code == 422
    assert caseworker.post(f"{API}/households/{hid}/visits", json={"channel": "email"}).status_code == 422
    assert audit_actions().count("visit.recorded") == 2


def test_an_id_number_typed_into_findings_stays_out_of_the_audit_log(caseworker):
    """Free text is redacted before it reaches the audit log; the visit itself keeps what the caseworker wrote."""
    hid = create(caseworker, vendor_family())["id"]
    typed = id_number(date(2010, 6, 20), "458")
    resp = caseworker.post(
        f"{API}/households/{hid}/visits", json={"channel": "self_report", "findings": f"张浩身份证{typed}，已入院。"}
    )
    assert typed in resp.get_json()["findings"]
    row = db.session().execute(select(AuditEvent).where(AuditEvent.action == "visit.recorded")).scalar_one()
    assert typed not in row.after
    assert "已入院" in audit.loads(row.after)["findings"]


def test_a_naive_visit_time_is_beijing_time(caseworker):
    """A visit time without a zone is read in the broker's time zone (Asia/Shanghai)."""
    hid = create(caseworker, vendor_family())["id"]
    resp = caseworker.post(
        f"{API}/households/{hid}/visits", json={"channel": "routine", "visited_at": "2025-02-01T10:00:00"}
    )
    assert resp.get_json()["visited_at"].startswith("2025-02-01T02:00:00")


def test_coverage_lists_households_not_visited_per_grid_and_caseworker(admin, caseworker):
    """Coverage lists never-visited and long-unvisited households, with the caseworkers who hold each grid."""
    fresh = create(caseworker, vendor_family())["id"]
    stale = create(caseworker, {**vendor_family(seq="2"), "address": "海淀区中关村东路66号院2号楼303"})["id"]
    never = create(admin, elderly_couple())["id"]
    caseworker.post(f"{API}/households/{fresh}/visits", json={"channel": "routine"})
    long_ago = (datetime.now(UTC) - timedelta(days=120)).isoformat()
    caseworker.post(f"{API}/households/{stale}/visits", json={"channel": "neighbour_report", "visited_at": long_ago})

    report = admin.get(f"{API}/coverage?not_visited_days=90").get_json()
    assert [i["household_id"] for i in report["items"]] == [never, stale]
    assert report["items"][1]["days_since_visit"] >= 119
    assert report["items"][0]["days_since_visit"] is None
    by_grid = {g["grid"]: g for g in report["by_grid"]}
    assert (by_grid["HD-ZGC-01"]["households"], by_grid["HD-ZGC-01"]["not_visited"]) == (2, 1)
    assert [c["username"] for c in by_grid["HD-ZGC-01"]["caseworkers"]] == ["sg_liu"]
    assert by_grid["HD-ZGC-02"]["caseworkers"] == []

    mine = caseworker.get(f"{API}/coverage").get_json()
    assert [i["household_id"] for i in mine["items"]] == [stale]
    assert [g["grid"] for g in mine["by_grid"]] == ["HD-ZGC-01"]
    assert caseworker.get(f"{API}/coverage?grid=HD-ZGC-02").status_code == 404
    assert admin.get(f"{API}/coverage?not_visited_days=200").get_json()["total"] == 1


# --- the domain: facts and survey upsert ----------------------------------------------


def _m(**kw):
    base = {"birth_date": None, "conditions": [], "disability_grade": None, "schooling": None, "employment": None}
    return SimpleNamespace(**{**base, **kw})


def test_fact_definitions_at_their_boundaries():
    """School age is 6 to 18 inclusive or in school; in education adds preschool age; elderly
    from the 60th birthday; illness by the documented list."""
    today = date(2026, 6, 1)
    members = [
        _m(birth_date=date(2020, 6, 1)),  # turns 6 today
        _m(birth_date=date(2020, 6, 2)),  # still 5
        _m(birth_date=date(2007, 6, 2), schooling="college"),  # 18
        _m(birth_date=date(2007, 6, 1)),  # 19 today
        _m(birth_date=date(2006, 1, 1), schooling="vocational", employment="student"),  # 20, still in school
        _m(birth_date=date(1980, 1, 1), schooling="senior", employment="employed"),  # senior school attained, long ago
        _m(schooling="primary"),  # age unknown, at primary school
        _m(birth_date=date(1966, 6, 1), conditions=["尿毒症"]),  # turns 60 today
        _m(birth_date=date(1966, 6, 2), employment="unemployed", conditions=["disability"]),
        _m(birth_date=None, disability_grade=3, conditions=["diabetes"]),
    ]
    facts = household_facts.compute(members, 400009, today)
    assert facts == {
        "member_count": 10,
        "income_per_capita_fen": 40000,
        "school_age_children": 4,
        "elderly_count": 1,
        "disabled_count": 2,
        "severe_disabled_count": 0,
        "students_count": 5,  # the school-age four and the 5-year-old (preschool age)
        "serious_illness": True,
        "unemployed_count": 1,
        "minors_count": 2,  # the 6- and 5-year-olds; the 18-year-old is of age
        "unsupported_count": 0,  # no supporter recorded as unable
        "financial_assets_per_capita_fen": 0,
        "medical_spending_monthly_fen": 0,
        "income_after_medical_per_capita_fen": 40000,
    }
    assert household_facts.compute([], 1000, today)["income_per_capita_fen"] == 1000
    assert household_facts.normalise_condition(" Serious-illness ") == "serious_illness"
    assert "leukaemia" in household_facts.SERIOUS_CONDITIONS


def _admin_principal():
    users.create_user(db.session(), username="root", password="long-enough-1", role="admin")
    db.commit()
    return users.principal_of(db.session().execute(select(User).where(User.username == "root")).scalar_one())


def test_survey_upsert_updates_instead_of_duplicating():
    """Re-importing a survey row keyed by (grid, survey_ref) updates the household and its members in place."""
    principal = _admin_principal()
    session = db.session()
    grids.create_grid(session, principal, grid_body("HD-ZGC-01"))
    row = vendor_family(survey_ref="2026-ZGC-0007")
    row.pop("grid")
    row["members"][3]["birth_date"] = date(2014, 2, 8)  # spreadsheets hand over dates
    household, created = households.upsert_household_from_survey(session, "cli:import", "HD-ZGC-01", row)
    db.commit()
    assert created is True
    member_ids = {m.name: m.id for m in household.members}

    row["monthly_income_fen"] = 90000
    row["members"] = row["members"][:4]  # 张磊 no longer listed
    row["members"][2]["conditions"] = ["leukaemia", "serious_illness"]
    again, created = households.upsert_household_from_survey(db.session(), "cli:import", "HD-ZGC-01", row)
    db.commit()
    assert created is False
    assert again.id == household.id
    assert db.session().execute(select(Household)).scalars().all() == [again]
    assert {m.name: m.id for m in again.members} == {k: v for k, v in member_ids.items() if k != "张磊"}
    assert (again.member_count, again.income_per_capita_fen, again.school_age_children) == (4, 22500, 2)
    events = db.session().execute(select(AuditEvent).order_by(AuditEvent.id)).scalars().all()
    assert [(e.action, e.actor) for e in events if e.action.startswith("household.")] == [
        ("household.created", "cli:import"),
        ("household.reimported", "cli:import"),
    ]
    with pytest.raises(Invalid) as bad:
        households.upsert_household_from_survey(db.session(), "cli:import", "HD-ZGC-01", {**row, "survey_ref": None})
    assert "survey_ref" in bad.value.details
    row["members"][0]["id_number"] = "110108197904121311"
    with pytest.raises(Invalid) as bad:
        households.upsert_household_from_survey(db.session(), "cli:import", "HD-ZGC-01", row)
    assert "members.0.id_number" in bad.value.details
