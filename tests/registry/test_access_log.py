"""Who looked: a caseworker's view of a family's full ID number (the printed application
form), of members' health and of a child's details (the household page, the API, the
member form) is logged with who, when, which fields and where; auditors and admins list
the reads per household and per user, over the API and in the portal; nobody else can."""

from __future__ import annotations

from sqlalchemy import select

from broker.platform import db
from models import AccessLog, User
from tests.portal.conftest import Portal
from tests.portal.test_applications_portal import start
from tests.support.registry_data import make_grids, vendor_family

API = "/api/v1"


def _family(as_role, make_user, login) -> tuple[int, str, object]:
    """The model-case family (a son with leukaemia, two school-age children) and its caseworker."""
    make_grids(as_role("admin"))
    caseworker = make_user("caseworker", grids=("HD-ZGC-01",))
    api = login(caseworker)
    resp = api.post(f"{API}/households", json=vendor_family())
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()["id"], caseworker, api


def _user_id(username: str) -> int:
    return db.session().scalar(select(User.id).where(User.username == username))


def test_a_caseworker_printing_the_form_is_logged_as_reading_the_id_number(app, as_role, make_user, login):
    """The printed application form shows the applicant's full ID number: the log says
    who printed it, that the ID number (and the children's and health details) were shown,
    and which page; the auditor finds it by household and by user."""
    hid, caseworker, _api = _family(as_role, make_user, login)
    portal = Portal(app.test_client())
    portal.login(caseworker)
    assert portal.get(f"/caseworker/households/{hid}").status_code == 200
    app_id = start(portal, hid)
    portal.get(f"/caseworker/applications/{app_id}")
    assert portal.post(f"/caseworker/applications/{app_id}/form").status_code == 200
    db.session.remove()
    (entry,) = db.session().execute(select(AccessLog).where(AccessLog.reason.contains("/form"))).scalars()
    assert entry.user_id == _user_id(caseworker)
    assert entry.household_id == hid
    assert set(entry.fields) == {"id_number", "health", "minors"}
    assert entry.reason == f"POST /caseworker/applications/{app_id}/form"

    auditor = login(make_user("auditor"))
    by_household = auditor.get(f"{API}/households/{hid}/access-log").get_json()
    printed = [e for e in by_household["items"] if e["reason"].endswith("/form")]
    assert printed[0]["username"] == caseworker
    assert "id_number" in printed[0]["fields"]
    by_user = auditor.get(f"{API}/access-log?user={_user_id(caseworker)}").get_json()
    assert by_user["total"] == by_household["total"] >= 2  # the household page was read too
    assert auditor.get(f"{API}/access-log?user={_user_id(caseworker) + 999}").get_json()["total"] == 0


def test_reading_a_household_over_the_api_logs_health_and_minors_but_not_the_masked_id(as_role, make_user, login):
    """GET /households/{id} shows conditions and children's birth dates (logged) and the
    ID numbers masked (not a read of the ID number)."""
    hid, caseworker, api = _family(as_role, make_user, login)
    assert api.get(f"{API}/households/{hid}").status_code == 200
    db.session.remove()
    (entry,) = db.session().execute(select(AccessLog)).scalars()
    assert entry.fields == ["health", "minors"]
    assert entry.reason == f"GET /api/v1/households/{hid}"
    assert entry.user_id == _user_id(caseworker)


def test_a_household_with_nothing_sensitive_leaves_no_entry(as_role, make_user, login):
    """An adult with no health condition or disability: the read is not a sensitive read."""
    make_grids(as_role("admin"))
    caseworker = make_user("caseworker", grids=("HD-ZGC-01",))
    api = login(caseworker)
    body = {
        "grid": "HD-ZGC-01",
        "address": "海淀区中关村东路8号",
        "head_name": "赵平",
        "monthly_income_fen": 200000,
        "members": [{"name": "赵平", "relation": "head", "birth_date": "1970-01-01"}],
    }
    hid = api.post(f"{API}/households", json=body).get_json()["id"]
    assert api.get(f"{API}/households/{hid}").status_code == 200
    assert db.session().execute(select(AccessLog)).scalars().all() == []


def test_only_auditors_and_admins_may_list_reads(as_role, make_user, login):
    """Caseworkers and partners are refused; an unknown household is a 404 in the envelope."""
    hid, _caseworker, api = _family(as_role, make_user, login)
    assert api.get(f"{API}/households/{hid}/access-log").status_code == 403
    assert api.get(f"{API}/access-log").status_code == 403
    admin = as_role("admin")
    missing = admin.get(f"{API}/households/{hid + 1000}/access-log")
    assert missing.status_code == 404
    assert missing.get_json()["error"]["code"] == "not_found"
    assert admin.get(f"{API}/access-log?household={hid}").status_code == 200


def test_the_auditor_page_lists_reads_per_household_and_per_user_in_chinese(app, as_role, make_user, login):
    """The portal page shows who looked at what and where, filtered by household or by
    user name; a name nobody signs in with is said plainly."""
    hid, caseworker, _api = _family(as_role, make_user, login)
    cw = Portal(app.test_client())
    cw.login(caseworker)
    assert cw.get(f"/caseworker/households/{hid}").status_code == 200
    auditor = Portal(app.test_client())
    auditor.login(make_user("auditor"))
    page = auditor.text(f"/auditor/access-log?household={hid}")
    assert caseworker in page
    assert f"/caseworker/households/{hid}" in page
    assert "谁查看过" in page
    assert caseworker in auditor.text(f"/auditor/access-log?user={caseworker}")
    assert "没有以此用户名登录的用户" in auditor.text("/auditor/access-log?user=nobody-here")
