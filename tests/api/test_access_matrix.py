"""Who may do what, route by route: every endpoint of the app (API, portal pages, health,
docs, static files) against every kind of caller, with the exact status each must get;
and what a partner may never learn about a family — in responses, in logs, in exports.

The table below is the authority. A route registered without a row fails the build, so
a new endpoint cannot ship without someone deciding who may call it."""

from __future__ import annotations

import base64
import io
import logging
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from broker.platform import db
from broker.registry import identity
from models import ApplicationFile, AuditEvent, Consent, FollowUp, Member, OutboxMessage, User
from tests.community.jobs_world import course_body, matrix_jobs, opening_body
from tests.community.volunteer_world import matrix_objects
from tests.conftest import PASSWORD, ApiClient, unique
from tests.support.images import png
from tests.support.voice import agree, agree_to_notice, approved_application

ROLES = (
    "anon",
    "caseworker",
    "other_caseworker",
    "partner",
    "other_partner",
    "auditor",
    "admin",
    "volunteer",
    "reporter",
)
YUAN = 100
API = "/api/v1"
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


STRANGER = 403  # a signed-in role the route is not for: the API and the portal refuse it


def S(
    anon: int,
    cw: int,
    other_cw: int,
    partner: int,
    other_partner: int,
    auditor: int,
    admin: int,
    volunteer: int = STRANGER,
    reporter: int = STRANGER,
) -> dict:
    """Expected statuses, in the order of :data:`ROLES`. A volunteer or a mobile grid
    member (light accounts) gets what a signed-in stranger gets unless the row says otherwise."""
    statuses = (anon, cw, other_cw, partner, other_partner, auditor, admin, volunteer, reporter)
    return dict(zip(ROLES, statuses, strict=True))


def everyone(status: int) -> dict:
    return dict.fromkeys(ROLES, status)


@dataclass(frozen=True)
class Row:
    """One route: the path to call (``{placeholders}`` filled from the scenario), the
    body a permitted caller sends, and the status each role gets.

    ``fresh`` names the kind of object a *succeeding* call acts on — each gets one of its
    own, so that one role's success does not turn the next role's call into a 409; refused
    calls act on the scenario's shared object of that kind, and must change nothing.
    ``form`` sends the body as a portal form with its CSRF token; ``new_session`` signs
    the role in afresh for this call (signing in or out changes the session)."""

    path: str
    expect: dict
    body: Any = None
    fresh: str | None = None
    form: bool = False
    new_session: bool = False


# Shorthands for the common shapes.
REGISTRY_READ = S(401, 200, 404, 403, 403, 200, 200)  # an object on grid A
REGISTRY_WRITE = S(401, 200, 404, 403, 403, 403, 200)
REGISTRY_CREATE = S(401, 201, 404, 403, 403, 403, 201)
REGISTRY_LIST = S(401, 200, 200, 403, 403, 200, 200)
OVERSIGHT = S(401, 403, 403, 403, 403, 200, 200)  # ledger, reports, audit, partners list
ADMIN_ONLY_CREATE = S(401, 403, 403, 403, 403, 403, 201)
OFFER_READ = S(401, 403, 403, 200, 404, 200, 200)
PARTNER_ACT = S(401, 403, 403, 200, 404, 403, 403)
PAGE_ANON = 302  # a portal page sends a visitor who is not signed in to the sign-in page
PORTAL_PARTNER_ACT = S(PAGE_ANON, 403, 403, 302, 404, 403, 403)
PORTAL_CASEWORKER_ACT = S(PAGE_ANON, 302, 404, 403, 403, 403, 302)
ADMIN_PAGE = S(PAGE_ANON, 403, 403, 403, 403, 403, 200)
ADMIN_FORM = S(PAGE_ANON, 403, 403, 403, 403, 403, 303)  # saved, then back to the list
INBOX = S(PAGE_ANON, 200, 200, 403, 403, 403, 200)  # the roles the broker tells something
INBOX_ACT = S(PAGE_ANON, 302, 302, 403, 403, 403, 302)
DECIDE = S(401, 403, 403, 403, 403, 200, 200)  # a reversal, by someone other than its proposer
PORTAL_DECIDE = S(PAGE_ANON, 403, 403, 403, 403, 302, 302)
CARE_READ = S(401, 200, 404, 200, 404, 200, 200)  # a plan on grid A naming partner P's carer
JOBS_LIST = S(401, 200, 200, 200, 200, 200, 200)  # openings, courses and their people, each as far as one may see
JOBS_READ = S(401, 200, 200, 200, 404, 200, 200)  # partner P's opening or course: work on offer, not family data
JOBS_MEMBER = S(401, 200, 404, 200, 404, 200, 200)  # a grid-A member on partner P's course or in its opening


def _sign_up_body(s: Scenario) -> dict:
    return {
        "team": s.team,
        "name": "矩阵报名",
        "phone": "13911112222",
        "username": unique("mx-join-"),
        "password": PASSWORD,
        "consent": True,
    }


def _reporter_body() -> dict:
    return {
        "name": "矩阵骑手",
        "phone": "13911113333",
        "username": unique("mx-rider-"),
        "password": PASSWORD,
        "kind": "courier",
        "organisation": "矩阵快递",
        "consent": True,
    }


def _join_form(s: Scenario) -> dict:
    body = _sign_up_body(s)
    return {**body, "team": str(s.team), "consent": "y"}


def _task_body() -> dict:
    now = datetime.now(UTC)
    return {
        "kind": "delivery",
        "title": "社区助老送餐",
        "place": "科源社区活动中心",
        "starts_at": (now + timedelta(hours=1)).isoformat(),
        "ends_at": (now + timedelta(hours=3)).isoformat(),
    }


def _region_body(_s: Scenario) -> dict:
    return {"code": unique("MX-R-"), "name": "矩阵区", "kind": "district"}


def _region_edit_body(s: Scenario) -> dict:
    # Its own name and place: the scenario's grids keep their community for the rows after.
    return {"name": "科源社区", "kind": "community", "parent": s.region_parent}


def _grid_body(_s: Scenario) -> dict:
    code = unique("MX-G-")
    return {"code": code, "name": "矩阵网格", "district": "海淀区", "street": "中关村街道", "community": "科源社区"}


def _household_body(s: Scenario) -> dict:
    return {
        "grid": s.grid_a,
        "address": f"海淀区中关村南大街{unique('')}号",
        "head_name": "赵大勇",
        "monthly_income_fen": 150000,
        "members": [{"name": "赵大勇", "relation": "head", "birth_date": "1972-03-04", "sex": "M"}],
    }


def _partner_body(_s: Scenario) -> dict:
    return {
        "name": unique("矩阵伙伴-"),
        "kind": "charity",
        "adapter": "portal",
        "categories": ["living"],
        "regions": ["*"],
    }


def _partner_form(_s: Scenario) -> dict:
    return {"name": unique("矩阵伙伴-"), "kind": "charity", "categories": "living", "regions": "*", "active": "y"}


def _token_body(s: Scenario) -> dict:
    return {"username": s.usernames["auditor"], "password": PASSWORD}


def _login_body(s: Scenario) -> dict:
    return {"username": s.spare_user, "password": PASSWORD}


def _head_of(household_id: int) -> int:
    """The id of the first member of a household (its head, in the pools)."""
    found = (
        db.session()
        .execute(select(Member.id).where(Member.household_id == household_id).order_by(Member.id).limit(1))
        .scalar_one()
    )
    db.session.remove()
    return found


def _care_plan_body(s: Scenario, household_id: int | None = None) -> dict:
    """A doctor-and-volunteer plan for the head of a household recorded as living alone
    (the row's target, unless given)."""
    household_id = household_id or s.target
    return {
        "household_id": household_id,
        "member_id": _head_of(household_id),
        "group": "elderly_alone",
        "kind": "doctor_volunteer",
        "schedule": "monthly",
        "carers": [{"name": "矩阵医生", "role": "doctor"}, {"name": "矩阵志愿者", "role": "volunteer"}],
    }


# Sent by several roles to one household: the same need again is confirmed on purpose.
ASSESSMENT = {
    "summary": "矩阵复访",
    "needs": [{"category": "counselling", "urgency": "normal", "description": "陪护压力"}],
    "confirm_duplicate": True,
}

TABLE: dict[tuple[str, str], Row] = {
    # --- sign-in, docs, health -----------------------------------------------------------
    ("POST", f"{API}/auth/token"): Row("/api/v1/auth/token", everyone(200), body=_token_body),
    ("GET", f"{API}/openapi.json"): Row("/api/v1/openapi.json", everyone(200)),
    ("GET", f"{API}/docs/"): Row("/api/v1/docs/", everyone(200)),
    ("GET", f"{API}/docs/<path:path>"): Row("/api/v1/docs/swagger-ui.css", everyone(200)),
    ("GET", "/healthz"): Row("/healthz", everyone(200)),
    ("GET", "/static/<path:filename>"): Row("/static/nothing-here.txt", everyone(404)),
    ("GET", "/static/portal/<path:filename>"): Row("/static/portal/portal.css", everyone(200)),
    # --- grids and the registry ----------------------------------------------------------
    ("GET", f"{API}/grids"): Row("/api/v1/grids", REGISTRY_LIST),
    ("POST", f"{API}/grids"): Row("/api/v1/grids", ADMIN_ONLY_CREATE, body=_grid_body),
    ("GET", f"{API}/grids/<string:code>"): Row("/api/v1/grids/{grid}", REGISTRY_READ),
    # --- the region tree -----------------------------------------------------------------
    ("GET", f"{API}/regions"): Row("/api/v1/regions", OVERSIGHT),
    ("POST", f"{API}/regions"): Row("/api/v1/regions", ADMIN_ONLY_CREATE, body=_region_body),
    ("GET", f"{API}/regions/<string:code>"): Row("/api/v1/regions/{region}", OVERSIGHT),
    ("PATCH", f"{API}/regions/<string:code>"): Row(
        "/api/v1/regions/{region}", S(401, 403, 403, 403, 403, 403, 200), body={"name": "科源社区"}
    ),
    ("GET", f"{API}/households"): Row("/api/v1/households", REGISTRY_LIST),
    ("POST", f"{API}/households"): Row(
        "/api/v1/households", S(401, 201, 403, 403, 403, 403, 201), body=_household_body
    ),
    ("GET", f"{API}/households/<int:household_id>"): Row("/api/v1/households/{household}", REGISTRY_READ),
    ("GET", f"{API}/households/<int:household_id>/access-log"): Row(
        "/api/v1/households/{household}/access-log", OVERSIGHT
    ),
    ("GET", f"{API}/access-log"): Row("/api/v1/access-log", OVERSIGHT),
    ("PATCH", f"{API}/households/<int:household_id>"): Row(
        "/api/v1/households/{household}", REGISTRY_WRITE, body={"notes": "复访：情况稳定"}
    ),
    ("POST", f"{API}/households/<int:household_id>/move"): Row(
        "/api/v1/households/{target}/move", REGISTRY_WRITE, body=lambda s: {"grid": s.grid_c}, fresh="household"
    ),
    ("POST", f"{API}/households/<int:household_id>/state"): Row(
        "/api/v1/households/{target}/state",
        REGISTRY_WRITE,
        body={"state": "recovered", "reason": "已稳定就业"},
        fresh="household",
    ),
    ("POST", f"{API}/households/<int:household_id>/members/<int:member_id>/deceased"): Row(
        "/api/v1/households/{target}/deceased",
        REGISTRY_WRITE,
        body={"reason": "社区通知"},
        fresh="household_member",
    ),
    ("GET", f"{API}/households/<int:household_id>/visits"): Row("/api/v1/households/{household}/visits", REGISTRY_READ),
    # Consent records: the household's caseworkers write, auditors and admins read.
    ("GET", f"{API}/households/<int:household_id>/consents"): Row(
        "/api/v1/households/{household}/consents", REGISTRY_READ
    ),
    ("POST", f"{API}/households/<int:household_id>/consents"): Row(
        "/api/v1/households/{household}/consents",
        S(401, 201, 404, 403, 403, 403, 403),
        body=lambda s: {"member_id": s.head_member, "purpose": "sms", "evidence": "矩阵同意书-1"},
    ),
    ("POST", f"{API}/consents/<int:consent_id>/withdraw"): Row(
        "/api/v1/consents/{consent}/withdraw", S(401, 200, 404, 403, 403, 403, 403), body={"reason": "家属撤回同意"}
    ),
    ("POST", f"{API}/households/<int:household_id>/visits"): Row(
        "/api/v1/households/{household}/visits", REGISTRY_CREATE, body={"channel": "routine", "findings": "在家"}
    ),
    ("GET", f"{API}/coverage"): Row("/api/v1/coverage", REGISTRY_LIST),
    ("GET", f"{API}/households/<int:household_id>/assessments"): Row(
        "/api/v1/households/{household}/assessments", REGISTRY_READ
    ),
    ("POST", f"{API}/households/<int:household_id>/assessments"): Row(
        "/api/v1/households/{household}/assessments", REGISTRY_CREATE, body=ASSESSMENT
    ),
    ("GET", f"{API}/households/<int:household_id>/follow-ups"): Row(
        "/api/v1/households/{household}/follow-ups", REGISTRY_READ
    ),
    ("POST", f"{API}/households/<int:household_id>/follow-ups/<int:follow_up_id>"): Row(
        "/api/v1/households/{household}/follow-ups/{target}",
        S(401, 200, 404, 403, 403, 403, 403),  # recorded by the household's caseworker only
        body={"need_met": "yes", "satisfaction": 5, "notes": "回访：已到位"},
        fresh="follow_up",
    ),
    # --- special groups and care plans -----------------------------------------------------
    ("GET", f"{API}/households/<int:household_id>/special-groups"): Row(
        "/api/v1/households/{household}/special-groups", REGISTRY_READ
    ),
    ("POST", f"{API}/households/<int:household_id>/special-groups"): Row(
        "/api/v1/households/{target}/special-groups",
        S(401, 201, 404, 403, 403, 403, 201),
        body=lambda s: {"member_id": _head_of(s.target), "group": "disabled", "source": "visit"},
        fresh="household",
    ),
    ("POST", f"{API}/households/<int:household_id>/special-groups/<int:record_id>/end"): Row(
        "/api/v1/households/{target}/end",
        S(401, 200, 404, 403, 403, 403, 200),
        body={"reason": "moved_away"},
        fresh="special_group",
    ),
    ("GET", f"{API}/special-groups/coverage"): Row("/api/v1/special-groups/coverage", REGISTRY_LIST),
    ("GET", f"{API}/care-plans"): Row(
        "/api/v1/care-plans", everyone(200) | {"anon": 401, "volunteer": 403, "reporter": 403}
    ),
    ("POST", f"{API}/care-plans"): Row(
        "/api/v1/care-plans", S(401, 201, 404, 403, 403, 403, 201), body=_care_plan_body, fresh="care_member"
    ),
    ("GET", f"{API}/care-plans/<int:plan_id>"): Row("/api/v1/care-plans/{care_plan}", CARE_READ),
    ("POST", f"{API}/care-plans/<int:plan_id>/end"): Row(
        "/api/v1/care-plans/{target}/end",
        S(401, 200, 404, 403, 404, 403, 200),
        body={"reason": "随父母外出生活"},
        fresh="care_plan",
    ),
    ("GET", f"{API}/care-plans/<int:plan_id>/contacts"): Row("/api/v1/care-plans/{care_plan}/contacts", CARE_READ),
    ("POST", f"{API}/care-plans/<int:plan_id>/contacts"): Row(
        "/api/v1/care-plans/{care_plan}/contacts",
        S(401, 201, 404, 201, 404, 403, 201),
        body=lambda s: {"carer_id": s.carer, "channel": "visit", "summary": "矩阵探访"},
    ),
    ("GET", f"{API}/reports/care"): Row("/api/v1/reports/care", REGISTRY_LIST),
    ("GET", f"{API}/camps"): Row("/api/v1/camps", REGISTRY_LIST),
    ("POST", f"{API}/camps"): Row(
        "/api/v1/camps",
        S(401, 201, 403, 403, 403, 403, 201),
        body=lambda s: {
            "grid": s.grid_a,
            "title": "矩阵成长营",
            "held_on": date.today().isoformat(),
            "plan_ids": [s.care_plan],
        },
    ),
    # --- jobs and skills ------------------------------------------------------------------------
    ("GET", f"{API}/openings"): Row("/api/v1/openings", JOBS_LIST),
    ("POST", f"{API}/openings"): Row(
        "/api/v1/openings", S(401, 403, 403, 201, 403, 403, 201), body=lambda s: opening_body(s.partner)
    ),
    ("GET", f"{API}/openings/<int:opening_id>"): Row("/api/v1/openings/{opening}", JOBS_READ),
    ("POST", f"{API}/openings/<int:opening_id>/close"): Row(
        "/api/v1/openings/{target}/close", S(401, 403, 403, 200, 404, 403, 200), body={}, fresh="opening"
    ),
    ("POST", f"{API}/openings/<int:opening_id>/orders"): Row(
        "/api/v1/openings/{opening}/orders",
        S(401, 403, 403, 201, 404, 403, 201),
        body={"buyer": "矩阵买家", "items": "香包", "quantity": 10, "amount_fen": 1000},
    ),
    ("GET", f"{API}/home-orders"): Row("/api/v1/home-orders", JOBS_LIST),
    ("POST", f"{API}/home-orders/<int:order_id>/deliveries"): Row(
        "/api/v1/home-orders/{home_order}/deliveries",
        S(401, 403, 403, 201, 404, 403, 201),
        body=lambda s: {"placement_id": s.placement, "quantity": 1, "earnings_fen": 150},
    ),
    ("GET", f"{API}/home-earnings"): Row("/api/v1/home-earnings", JOBS_LIST),
    ("GET", f"{API}/courses"): Row("/api/v1/courses", JOBS_LIST),
    ("POST", f"{API}/courses"): Row(
        "/api/v1/courses", S(401, 403, 403, 201, 403, 403, 201), body=lambda s: course_body(s.partner)
    ),
    ("GET", f"{API}/courses/<int:course_id>"): Row("/api/v1/courses/{course}", JOBS_READ),
    ("POST", f"{API}/courses/<int:course_id>/enrolments"): Row(
        "/api/v1/courses/{course}/enrolments",
        S(401, 201, 404, 403, 403, 403, 201),
        body=lambda s: {"member_id": s.target},
        fresh="job_member",
    ),
    ("GET", f"{API}/enrolments"): Row("/api/v1/enrolments", JOBS_LIST),
    ("GET", f"{API}/enrolments/<int:enrolment_id>"): Row("/api/v1/enrolments/{enrolment}", JOBS_MEMBER),
    ("POST", f"{API}/enrolments/<int:enrolment_id>/attendance"): Row(
        "/api/v1/enrolments/{enrolment}/attendance", S(401, 200, 404, 200, 404, 403, 200), body={"session_no": 1}
    ),
    ("POST", f"{API}/enrolments/<int:enrolment_id>/complete"): Row(
        "/api/v1/enrolments/{target}/complete", S(401, 200, 404, 200, 404, 403, 200), body={}, fresh="enrolment"
    ),
    ("POST", f"{API}/enrolments/<int:enrolment_id>/withdraw"): Row(
        "/api/v1/enrolments/{target}/withdraw", S(401, 200, 404, 200, 404, 403, 200), body={}, fresh="enrolment"
    ),
    ("GET", f"{API}/placements"): Row("/api/v1/placements", JOBS_LIST),
    ("POST", f"{API}/placements"): Row(
        "/api/v1/placements",
        S(401, 201, 404, 403, 403, 403, 201),
        body=lambda s: {"opening_id": s.opening, "member_id": s.target},
        fresh="job_member",
    ),
    ("GET", f"{API}/placements/<int:placement_id>"): Row("/api/v1/placements/{placement}", JOBS_MEMBER),
    ("POST", f"{API}/placements/<int:placement_id>/follow-ups/<int:months>"): Row(
        "/api/v1/placements/{target}/follow-ups/3",
        S(401, 200, 404, 403, 403, 403, 200),
        body={"still_working": True, "earnings_fen": 120000},
        fresh="placement",
    ),
    ("GET", f"{API}/placements/follow-ups-due"): Row("/api/v1/placements/follow-ups-due", REGISTRY_LIST),
    ("GET", f"{API}/requests/<int:request_id>/job-matches"): Row(
        "/api/v1/requests/{job_request}/job-matches", REGISTRY_READ
    ),
    ("GET", f"{API}/reports/jobs"): Row("/api/v1/reports/jobs", REGISTRY_LIST),
    # --- policies and applications -------------------------------------------------------
    ("GET", f"{API}/policies"): Row("/api/v1/policies", S(401, 200, 200, 200, 200, 200, 200, 200, 200)),
    ("GET", f"{API}/policies/<string:code>"): Row(
        "/api/v1/policies/temporary_aid", S(401, 200, 200, 200, 200, 200, 200, 200, 200)
    ),
    ("GET", f"{API}/households/<int:household_id>/policy-package"): Row(
        "/api/v1/households/{household}/policy-package", REGISTRY_READ
    ),
    ("GET", f"{API}/households/<int:household_id>/applications"): Row(
        "/api/v1/households/{household}/applications", REGISTRY_READ
    ),
    ("POST", f"{API}/households/<int:household_id>/applications"): Row(
        "/api/v1/households/{target}/applications",
        REGISTRY_CREATE,
        body={"policy": "temporary_aid", "note": "代办"},
        fresh="household",
    ),
    ("GET", f"{API}/applications/<int:application_id>"): Row("/api/v1/applications/{application}", REGISTRY_READ),
    ("POST", f"{API}/applications/<int:application_id>/steps"): Row(
        "/api/v1/applications/{target}/steps",
        REGISTRY_WRITE,
        body={"status": "withdrawn", "note": "家属决定暂不申请"},
        fresh="application",
    ),
    ("POST", f"{API}/applications/<int:application_id>/documents"): Row(
        "/api/v1/applications/{application}/documents", REGISTRY_WRITE, body={"documents": {"application_form": True}}
    ),
    # --- partners and their funds --------------------------------------------------------
    ("GET", f"{API}/partners"): Row("/api/v1/partners", OVERSIGHT),
    ("POST", f"{API}/partners"): Row("/api/v1/partners", ADMIN_ONLY_CREATE, body=_partner_body),
    ("GET", f"{API}/partners/<int:partner_id>"): Row("/api/v1/partners/{partner}", OFFER_READ),
    ("PATCH", f"{API}/partners/<int:partner_id>"): Row(
        "/api/v1/partners/{partner}", S(401, 403, 403, 403, 403, 403, 200), body={"contact": "王芳 010-62345678"}
    ),
    ("GET", f"{API}/partners/<int:partner_id>/deposits"): Row("/api/v1/partners/{partner}/deposits", OFFER_READ),
    ("POST", f"{API}/partners/<int:partner_id>/deposits"): Row(
        "/api/v1/partners/{partner}/deposits", ADMIN_ONLY_CREATE, body={"amount_fen": 100 * YUAN, "donor": "爱心企业"}
    ),
    ("GET", f"{API}/partners/<int:partner_id>/funds"): Row("/api/v1/partners/{partner}/funds", OFFER_READ),
    ("GET", f"{API}/adapters"): Row("/api/v1/adapters", OVERSIGHT),
    # --- requests --------------------------------------------------------------------------
    ("GET", f"{API}/requests"): Row("/api/v1/requests", REGISTRY_LIST),
    ("GET", f"{API}/requests/<int:request_id>"): Row("/api/v1/requests/{request}", REGISTRY_READ),
    ("GET", f"{API}/requests/<int:request_id>/timeline"): Row("/api/v1/requests/{request}/timeline", REGISTRY_READ),
    ("POST", f"{API}/requests/<int:request_id>/cancel"): Row(
        "/api/v1/requests/{target}/cancel", REGISTRY_WRITE, body={"reason_code": "family_moved"}, fresh="request"
    ),
    ("PATCH", f"{API}/requests/<int:request_id>"): Row(
        "/api/v1/requests/{target}", REGISTRY_WRITE, body={"auto_retry": True}, fresh="request"
    ),
    ("POST", f"{API}/requests/<int:request_id>/entered-in-error"): Row(
        "/api/v1/requests/{target}/entered-in-error", REGISTRY_WRITE, body={"note": "录重了"}, fresh="request"
    ),
    ("POST", f"{API}/requests/<int:request_id>/retry"): Row(
        "/api/v1/requests/{target}/retry", REGISTRY_WRITE, fresh="unmatched_request"
    ),
    ("POST", f"{API}/requests/<int:request_id>/refer"): Row(
        "/api/v1/requests/{target}/refer", REGISTRY_CREATE, body={"organisation": "街道就业服务站"}, fresh="request"
    ),
    ("POST", f"{API}/referrals/<int:offer_id>/outcome"): Row(
        "/api/v1/referrals/{target}/outcome", REGISTRY_WRITE, body={"outcome": "accepted"}, fresh="referral"
    ),
    ("POST", f"{API}/requests/<int:request_id>/hold"): Row(
        "/api/v1/requests/{target}/hold", REGISTRY_WRITE, body={"reason": "家属外出"}, fresh="request"
    ),
    ("POST", f"{API}/requests/<int:request_id>/policy-override"): Row(
        "/api/v1/requests/{target}/policy-override",
        REGISTRY_WRITE,
        body={"reason": "化疗押金本周要交"},
        fresh="policy_held_request",
    ),
    ("POST", f"{API}/requests/<int:request_id>/resume"): Row(
        "/api/v1/requests/{target}/resume", REGISTRY_WRITE, fresh="held_request"
    ),
    ("POST", f"{API}/requests/<int:request_id>/complete"): Row(
        "/api/v1/requests/{target}/complete", REGISTRY_WRITE, body={"note": "已到位"}, fresh="in_progress_request"
    ),
    # --- offers ------------------------------------------------------------------------------
    ("GET", f"{API}/offers"): Row("/api/v1/offers", S(401, 403, 403, 200, 200, 200, 200)),
    ("GET", f"{API}/offers/<int:offer_id>"): Row("/api/v1/offers/{offer}", OFFER_READ),
    ("POST", f"{API}/offers/<int:offer_id>/accept"): Row(
        "/api/v1/offers/{target}/accept", PARTNER_ACT, body={}, fresh="received_offer"
    ),
    ("POST", f"{API}/offers/<int:offer_id>/reject"): Row(
        "/api/v1/offers/{target}/reject", PARTNER_ACT, body={"reason": "本季度预算已用完"}, fresh="received_offer"
    ),
    ("POST", f"{API}/offers/<int:offer_id>/complete"): Row(
        "/api/v1/offers/{target}/complete", PARTNER_ACT, body={"note": "已办结"}, fresh="disbursed_offer"
    ),
    ("GET", f"{API}/offers/<int:offer_id>/disbursements"): Row("/api/v1/offers/{offer}/disbursements", OFFER_READ),
    ("POST", f"{API}/offers/<int:offer_id>/disbursements"): Row(
        "/api/v1/offers/{target}/disbursements",
        S(401, 403, 403, 201, 404, 403, 403),
        body={"amount_fen": 1 * YUAN, "kind": "cash", "reference": "BANK-MX"},
        fresh="accepted_offer",
    ),
    # --- reversals (红冲): proposed by the partner or oversight, decided by a second person ----
    ("POST", f"{API}/disbursements/<int:disbursement_id>/reversal"): Row(
        "/api/v1/disbursements/{target}/reversal",
        S(401, 403, 403, 201, 404, 201, 201),
        body={"reason": "金额录错"},
        fresh="reversible_disbursement",
    ),
    ("GET", f"{API}/reversals"): Row("/api/v1/reversals", S(401, 403, 403, 200, 200, 200, 200)),
    ("GET", f"{API}/reversals/<int:reversal_id>"): Row("/api/v1/reversals/{reversal}", OFFER_READ),
    ("POST", f"{API}/reversals/<int:reversal_id>/approve"): Row(
        "/api/v1/reversals/{target}/approve", DECIDE, body={"note": "核对属实"}, fresh="pending_reversal"
    ),
    ("POST", f"{API}/reversals/<int:reversal_id>/reject"): Row(
        "/api/v1/reversals/{target}/reject", DECIDE, body={"note": "凭证无误"}, fresh="pending_reversal"
    ),
    # --- receipts: the family confirms, on its own caseworker's phone ----------------------------
    ("POST", f"{API}/disbursements/<int:disbursement_id>/receipt"): Row(
        "/api/v1/disbursements/{target}/receipt",
        S(401, 201, 404, 403, 403, 403, 201),
        body=lambda _s: {"method": "signature", "image": base64.b64encode(png()).decode()},
        fresh="disbursement",
    ),
    ("POST", f"{API}/disbursements/<int:disbursement_id>/receipt-code"): Row(
        "/api/v1/disbursements/{target}/receipt-code", S(401, 202, 404, 403, 403, 403, 202), fresh="disbursement"
    ),
    # --- oversight ---------------------------------------------------------------------------
    ("GET", f"{API}/ledger"): Row("/api/v1/ledger", OVERSIGHT),
    ("GET", f"{API}/ledger/check"): Row("/api/v1/ledger/check", OVERSIGHT),
    ("GET", f"{API}/reports/disbursements"): Row("/api/v1/reports/disbursements", OVERSIGHT),
    ("GET", f"{API}/reports/duplicate-benefits"): Row("/api/v1/reports/duplicate-benefits", OVERSIGHT),
    ("GET", f"{API}/reports/fulfilment"): Row("/api/v1/reports/fulfilment", OVERSIGHT),
    ("GET", f"{API}/reports/response-times"): Row("/api/v1/reports/response-times", OVERSIGHT),
    ("GET", f"{API}/reports/follow-up-outcomes"): Row("/api/v1/reports/follow-up-outcomes", OVERSIGHT),
    ("GET", f"{API}/reports/reconciliation"): Row("/api/v1/reports/reconciliation", OVERSIGHT),
    ("GET", f"{API}/reports/fund-restrictions"): Row("/api/v1/reports/fund-restrictions", OVERSIGHT),
    ("GET", f"{API}/audit/verify"): Row("/api/v1/audit/verify", OVERSIGHT),
    ("GET", f"{API}/audit/events"): Row("/api/v1/audit/events", OVERSIGHT),
    # --- the portal ----------------------------------------------------------------------------
    ("GET", "/"): Row("/", everyone(302)),
    ("GET", "/login"): Row("/login", S(200, 302, 302, 302, 302, 302, 302, 302, 302)),
    ("POST", "/login"): Row("/login", everyone(302), body=_login_body, form=True, new_session=True),
    ("POST", "/logout"): Row("/logout", everyone(302), body={}, form=True, new_session=True),
    ("POST", "/language"): Row("/language", everyone(302), body={"locale": "en"}, form=True, new_session=True),
    ("GET", "/admin/"): Row("/admin/", ADMIN_PAGE),
    # --- the admin's setting up in the portal ----------------------------------------------
    ("GET", "/admin/grids"): Row("/admin/grids", ADMIN_PAGE),
    ("GET", "/admin/grids/new"): Row("/admin/grids/new", ADMIN_PAGE),
    ("POST", "/admin/grids/new"): Row("/admin/grids/new", ADMIN_FORM, body=_grid_body, form=True),
    ("GET", "/admin/grids/<string:code>/edit"): Row("/admin/grids/{grid}/edit", ADMIN_PAGE),
    ("POST", "/admin/grids/<string:code>/edit"): Row(
        "/admin/grids/{grid}/edit",
        ADMIN_FORM,
        body={"name": "矩阵网格（改名）", "district": "海淀区", "street": "中关村街道", "community": "科源社区"},
        form=True,
    ),
    ("GET", "/admin/regions"): Row("/admin/regions", ADMIN_PAGE),
    ("GET", "/admin/regions/new"): Row("/admin/regions/new", ADMIN_PAGE),
    ("POST", "/admin/regions/new"): Row("/admin/regions/new", ADMIN_FORM, body=_region_body, form=True),
    ("GET", "/admin/regions/<string:code>/edit"): Row("/admin/regions/{region}/edit", ADMIN_PAGE),
    ("POST", "/admin/regions/<string:code>/edit"): Row(
        "/admin/regions/{region}/edit", ADMIN_FORM, body=_region_edit_body, form=True
    ),
    ("GET", "/admin/partners"): Row("/admin/partners", ADMIN_PAGE),
    ("GET", "/admin/partners/new"): Row("/admin/partners/new", ADMIN_PAGE),
    ("POST", "/admin/partners/new"): Row(
        "/admin/partners/new?adapter=portal", ADMIN_FORM, body=_partner_form, form=True
    ),
    ("GET", "/admin/partners/<int:partner_id>/edit"): Row("/admin/partners/{partner}/edit", ADMIN_PAGE),
    ("POST", "/admin/partners/<int:partner_id>/edit"): Row(
        "/admin/partners/{spare_partner}/edit", ADMIN_FORM, body=_partner_form, form=True
    ),
    ("POST", "/admin/partners/<int:partner_id>/active"): Row(
        "/admin/partners/{spare_partner}/active", ADMIN_FORM, body={"active": "1"}, form=True
    ),
    ("GET", "/admin/partners/<int:partner_id>/deposit"): Row("/admin/partners/{partner}/deposit", ADMIN_PAGE),
    ("POST", "/admin/partners/<int:partner_id>/deposit"): Row(
        "/admin/partners/{spare_partner}/deposit",
        ADMIN_FORM,
        body=lambda _s: {"amount": "100", "donor": "矩阵捐赠", "reference": unique("MX-DEP-")},
        form=True,
    ),
    ("GET", "/admin/users"): Row("/admin/users", ADMIN_PAGE),
    ("GET", "/admin/users/new"): Row("/admin/users/new", ADMIN_PAGE),
    ("POST", "/admin/users/new"): Row(
        "/admin/users/new",
        ADMIN_FORM,
        body=lambda _s: {
            "username": unique("mx-user-"),
            "password": "Matrix-pass-2026",
            "role": "auditor",
            "locale": "zh_CN",
            "display_name": "矩阵审计",
        },
        form=True,
    ),
    ("GET", "/admin/users/<int:user_id>/edit"): Row("/admin/users/{spare_user_id}/edit", ADMIN_PAGE),
    ("POST", "/admin/users/<int:user_id>/edit"): Row(
        "/admin/users/{spare_user_id}/edit",
        ADMIN_FORM,
        body={"role": "auditor", "locale": "en", "display_name": "矩阵备用"},
        form=True,
    ),
    ("GET", "/admin/users/<int:user_id>/password"): Row("/admin/users/{spare_user_id}/password", ADMIN_PAGE),
    ("POST", "/admin/users/<int:user_id>/password"): Row(
        "/admin/users/{spare_user_id}/password", ADMIN_FORM, body={"password": PASSWORD}, form=True
    ),
    ("POST", "/admin/users/<int:user_id>/active"): Row(
        "/admin/users/{spare_user_id}/active", ADMIN_FORM, body={"active": "1"}, form=True
    ),
    ("GET", "/auditor/"): Row("/auditor/", S(PAGE_ANON, 403, 403, 403, 403, 200, 200)),
    ("GET", "/auditor/audit"): Row("/auditor/audit", S(PAGE_ANON, 403, 403, 403, 403, 200, 200)),
    ("GET", "/auditor/ledger"): Row("/auditor/ledger", S(PAGE_ANON, 403, 403, 403, 403, 200, 200)),
    ("GET", "/auditor/access-log"): Row("/auditor/access-log", S(PAGE_ANON, 403, 403, 403, 403, 200, 200)),
    ("GET", "/auditor/exports/ledger.<fmt>"): Row(
        "/auditor/exports/ledger.xlsx", S(PAGE_ANON, 403, 403, 403, 403, 200, 200)
    ),
    ("GET", "/auditor/exports/disbursements-by-<group>.<fmt>"): Row(
        "/auditor/exports/disbursements-by-grid.csv", S(PAGE_ANON, 403, 403, 403, 403, 200, 200)
    ),
    ("GET", "/auditor/exports/fund-restrictions.<fmt>"): Row(
        "/auditor/exports/fund-restrictions.xlsx", S(PAGE_ANON, 403, 403, 403, 403, 200, 200)
    ),
    ("GET", "/auditor/exports/concerns.<fmt>"): Row(
        "/auditor/exports/concerns.xlsx", S(PAGE_ANON, 403, 403, 403, 403, 200, 200)
    ),
    ("GET", "/auditor/exports/response-times.<fmt>"): Row(
        "/auditor/exports/response-times.xlsx", S(PAGE_ANON, 403, 403, 403, 403, 200, 200)
    ),
    ("GET", "/auditor/exports/follow-up-outcomes.<fmt>"): Row(
        "/auditor/exports/follow-up-outcomes.csv", S(PAGE_ANON, 403, 403, 403, 403, 200, 200)
    ),
    # --- care pages ------------------------------------------------------------------------
    ("GET", "/care/"): Row("/care/", S(PAGE_ANON, 200, 200, 403, 403, 200, 200)),
    ("GET", "/care/report.xlsx"): Row("/care/report.xlsx", S(PAGE_ANON, 200, 200, 403, 403, 200, 200)),
    ("POST", "/care/plans/<int:plan_id>/end"): Row(
        "/care/plans/{target}/end",
        S(PAGE_ANON, 302, 404, 403, 403, 403, 302),
        body={"reason": "老人随子女生活"},
        form=True,
        fresh="care_plan",
    ),
    ("GET", "/care/camps"): Row("/care/camps", S(PAGE_ANON, 200, 200, 403, 403, 200, 200)),
    ("POST", "/care/camps"): Row(
        "/care/camps",
        S(PAGE_ANON, 302, 400, 403, 403, 403, 302),  # another grid's caseworker cannot choose grid A
        body=lambda s: {
            "grid": s.grid_a,
            "title": "矩阵成长营",
            "held_on": date.today().isoformat(),
            "children": str(s.care_plan),
        },
        form=True,
    ),
    ("GET", "/care/plans"): Row("/care/plans", S(PAGE_ANON, 200, 200, 200, 200, 200, 200)),
    ("GET", "/care/plans/<int:plan_id>"): Row("/care/plans/{care_plan}", S(PAGE_ANON, 200, 404, 200, 404, 200, 200)),
    ("POST", "/care/plans/<int:plan_id>/contacts"): Row(
        "/care/plans/{care_plan}/contacts",
        S(PAGE_ANON, 302, 404, 302, 404, 403, 302),
        body=lambda s: {"carer": str(s.carer), "channel": "phone", "summary": "矩阵电话", "new_need-urgency": "normal"},
        form=True,
    ),
    ("GET", "/care/households/<int:household_id>/special-groups"): Row(
        "/care/households/{household}/special-groups", S(PAGE_ANON, 200, 404, 403, 403, 403, 200)
    ),
    ("POST", "/care/households/<int:household_id>/special-groups"): Row(
        "/care/households/{target}/special-groups",
        S(PAGE_ANON, 302, 404, 403, 403, 403, 302),
        body=lambda s: {"member": str(_head_of(s.target)), "group": "migrant_child", "source": "survey"},
        form=True,
        fresh="household",
    ),
    ("GET", "/care/households/<int:household_id>/special-groups/<int:record_id>/end"): Row(
        "/care/households/{special_group}/end", S(PAGE_ANON, 200, 404, 403, 403, 403, 200)
    ),
    ("POST", "/care/households/<int:household_id>/special-groups/<int:record_id>/end"): Row(
        "/care/households/{target}/end",
        S(PAGE_ANON, 302, 404, 403, 403, 403, 302),
        body={"reason": "moved_away"},
        form=True,
        fresh="special_group",
    ),
    ("GET", "/care/households/<int:household_id>/plans/new"): Row(
        "/care/households/{household}/plans/new", S(PAGE_ANON, 200, 404, 403, 403, 403, 200)
    ),
    ("POST", "/care/households/<int:household_id>/plans/new"): Row(
        "/care/households/{target}/plans/new",
        S(PAGE_ANON, 302, 404, 403, 403, 403, 302),
        body=lambda s: {
            "who": f"{_head_of(s.target)}:elderly_alone",
            "kind": "doctor_volunteer",
            "schedule": "monthly",
            "doctor-name": "矩阵医生",
            "volunteer-name": "矩阵志愿者",
        },
        form=True,
        fresh="care_member",
    ),
    ("GET", "/caseworker/"): Row("/caseworker/", S(PAGE_ANON, 200, 200, 403, 403, 403, 403)),
    ("GET", "/caseworker/households/<int:household_id>/follow-ups/<int:follow_up_id>"): Row(
        "/caseworker/households/{household}/follow-ups/{follow_up}", S(PAGE_ANON, 200, 404, 403, 403, 403, 403)
    ),
    ("POST", "/caseworker/households/<int:household_id>/follow-ups/<int:follow_up_id>"): Row(
        "/caseworker/households/{household}/follow-ups/{target}",
        S(PAGE_ANON, 302, 404, 403, 403, 403, 403),
        body={"need_met": "yes", "satisfaction": "5", "notes": "回访：已到位", "new_need-urgency": "normal"},
        form=True,
        fresh="follow_up",
    ),
    ("GET", "/caseworker/coverage"): Row("/caseworker/coverage", S(PAGE_ANON, 200, 200, 403, 403, 200, 200)),
    ("GET", "/caseworker/households/<int:household_id>"): Row(
        "/caseworker/households/{household}", S(PAGE_ANON, 200, 404, 403, 403, 200, 200)
    ),
    ("GET", "/caseworker/households/<int:household_id>/visit"): Row(
        "/caseworker/households/{household}/visit", S(PAGE_ANON, 200, 404, 403, 403, 403, 200)
    ),
    ("POST", "/caseworker/households/<int:household_id>/visit"): Row(
        "/caseworker/households/{household}/visit",
        S(PAGE_ANON, 302, 404, 403, 403, 403, 302),
        body={"channel": "routine", "findings": "入户走访"},
        form=True,
    ),
    ("GET", "/caseworker/households/<int:household_id>/assessment"): Row(
        "/caseworker/households/{household}/assessment", S(PAGE_ANON, 200, 404, 403, 403, 403, 200)
    ),
    ("POST", "/caseworker/households/<int:household_id>/assessment"): Row(
        "/caseworker/households/{household}/assessment",
        S(PAGE_ANON, 302, 404, 403, 403, 403, 302),
        body={
            "summary": "复访",
            "needs-0-category": "counselling",
            "needs-0-urgency": "normal",
            "needs-0-amount": "",
            "needs-0-description": "心理疏导",
            "confirm_duplicate": "y",
        },
        form=True,
    ),
    ("GET", "/caseworker/applications"): Row("/caseworker/applications", S(PAGE_ANON, 200, 200, 403, 403, 200, 200)),
    ("GET", "/caseworker/applications/<int:application_id>"): Row(
        "/caseworker/applications/{application}", S(PAGE_ANON, 200, 404, 403, 403, 200, 200)
    ),
    ("GET", "/caseworker/application-files/<int:file_id>"): Row(
        "/caseworker/application-files/{document_file}", S(PAGE_ANON, 200, 404, 403, 403, 200, 200)
    ),
    ("GET", "/caseworker/households/<int:household_id>/applications/new"): Row(
        "/caseworker/households/{household}/applications/new?policy=temporary_aid",
        S(PAGE_ANON, 200, 404, 403, 403, 403, 200),
    ),
    ("POST", "/caseworker/households/<int:household_id>/applications/new"): Row(
        "/caseworker/households/{target}/applications/new",
        PORTAL_CASEWORKER_ACT,
        body={"policy": "temporary_aid", "note": "代办"},
        form=True,
        fresh="household",
    ),
    ("POST", "/caseworker/applications/<int:application_id>/documents"): Row(
        "/caseworker/applications/{target}/documents",
        PORTAL_CASEWORKER_ACT,
        body={"ticked": "application_form"},
        form=True,
        fresh="application",
    ),
    ("POST", "/caseworker/applications/<int:application_id>/documents/<code>/file"): Row(
        "/caseworker/applications/{target}/documents/application_form/file",
        PORTAL_CASEWORKER_ACT,
        body=lambda _s: {"file": (io.BytesIO(png()), "form.png", "image/png")},
        form=True,
        fresh="application",
    ),
    ("POST", "/caseworker/applications/<int:application_id>/steps"): Row(
        "/caseworker/applications/{target}/steps",
        PORTAL_CASEWORKER_ACT,
        body={"status": "withdrawn", "note": "家属决定暂不申请"},
        form=True,
        fresh="application",
    ),
    ("POST", "/caseworker/applications/<int:application_id>/form"): Row(
        "/caseworker/applications/{application}/form", S(PAGE_ANON, 200, 404, 403, 403, 403, 200), body={}, form=True
    ),
    ("GET", "/caseworker/households/new"): Row(
        "/caseworker/households/new", S(PAGE_ANON, 200, 200, 403, 403, 403, 403)
    ),
    ("POST", "/caseworker/households/new"): Row(
        "/caseworker/households/new",
        S(PAGE_ANON, 302, 400, 403, 403, 403, 403),  # grid A is not among the other caseworker's grids
        body=lambda s: {
            "grid": s.grid_a,
            "address": f"海淀区学院路{unique('')}号",
            "income": "1500",
            "head-name": "孙立",
            "head-relation": "head",
            "head-birth_date": "1975-05-06",
        },
        form=True,
    ),
    ("GET", "/caseworker/households/<int:household_id>/edit"): Row(
        "/caseworker/households/{household}/edit", S(PAGE_ANON, 200, 404, 403, 403, 403, 200)
    ),
    ("POST", "/caseworker/households/<int:household_id>/edit"): Row(
        "/caseworker/households/{household}/edit",
        S(PAGE_ANON, 302, 404, 403, 403, 403, 302),
        body={"address": "海淀区中关村东路18号院3号楼2单元501", "phone": "138 0013 8000", "income": "2400"},
        form=True,
    ),
    ("GET", "/caseworker/households/<int:household_id>/state"): Row(
        "/caseworker/households/{household}/state", S(PAGE_ANON, 200, 404, 403, 403, 403, 200)
    ),
    ("POST", "/caseworker/households/<int:household_id>/state"): Row(
        "/caseworker/households/{target}/state",
        PORTAL_CASEWORKER_ACT,
        body={"state": "recovered", "reason": "已稳定就业"},
        form=True,
        fresh="household",
    ),
    ("GET", "/caseworker/households/<int:household_id>/members/new"): Row(
        "/caseworker/households/{household}/members/new", S(PAGE_ANON, 200, 404, 403, 403, 403, 200)
    ),
    ("POST", "/caseworker/households/<int:household_id>/members/new"): Row(
        "/caseworker/households/{target}/members/new",
        PORTAL_CASEWORKER_ACT,
        body={"member-name": "赵小勇", "member-relation": "child", "member-birth_date": "2012-01-01"},
        form=True,
        fresh="household",
    ),
    ("POST", "/caseworker/households/<int:household_id>/consents"): Row(
        "/caseworker/households/{household}/consents",
        S(PAGE_ANON, 302, 404, 403, 403, 403, 403),
        body=lambda s: {"member": str(s.head_member), "purpose": "points", "evidence": "矩阵同意书-2"},
        form=True,
    ),
    ("POST", "/caseworker/consents/<int:consent_id>/withdraw"): Row(
        "/caseworker/consents/{consent}/withdraw",
        S(PAGE_ANON, 302, 404, 403, 403, 403, 403),
        body={"reason": "家属撤回同意"},
        form=True,
    ),
    ("GET", "/caseworker/consents/<int:consent_id>/photo"): Row(
        "/caseworker/consents/{consent}/photo", S(PAGE_ANON, 200, 404, 403, 403, 200, 200)
    ),
    ("GET", "/caseworker/households/<int:household_id>/members/<int:member_id>/edit"): Row(
        "/caseworker/households/{household}/members/{member}/edit", S(PAGE_ANON, 200, 404, 403, 403, 403, 200)
    ),
    ("POST", "/caseworker/households/<int:household_id>/members/<int:member_id>/edit"): Row(
        "/caseworker/households/{household}/members/{member}/edit",
        S(PAGE_ANON, 302, 404, 403, 403, 403, 302),
        body={"member-name": "张浩", "member-relation": "child", "member-birth_date": "2010-06-20"},
        form=True,
    ),
    ("GET", "/caseworker/households/<int:household_id>/members/<int:member_id>/deceased"): Row(
        "/caseworker/households/{household}/members/{member}/deceased", S(PAGE_ANON, 200, 404, 403, 403, 403, 200)
    ),
    ("POST", "/caseworker/households/<int:household_id>/members/<int:member_id>/deceased"): Row(
        "/caseworker/households/{target}/deceased",
        PORTAL_CASEWORKER_ACT,
        body={"reason": "社区通知"},
        form=True,
        fresh="household_member",
    ),
    ("GET", "/partner/"): Row("/partner/", S(PAGE_ANON, 403, 403, 200, 200, 403, 403)),
    ("GET", "/partner/fund"): Row("/partner/fund", S(PAGE_ANON, 403, 403, 200, 200, 403, 403)),
    ("GET", "/partner/exports/offers.<fmt>"): Row(
        "/partner/exports/offers.xlsx", S(PAGE_ANON, 403, 403, 200, 200, 403, 403)
    ),
    ("GET", "/partner/offers/<int:offer_id>"): Row(
        "/partner/offers/{offer}", S(PAGE_ANON, 403, 403, 200, 404, 403, 403)
    ),
    ("POST", "/partner/offers/<int:offer_id>/accept"): Row(
        "/partner/offers/{target}/accept", PORTAL_PARTNER_ACT, body={"amount": "500"}, form=True, fresh="received_offer"
    ),
    ("POST", "/partner/offers/<int:offer_id>/reject"): Row(
        "/partner/offers/{target}/reject",
        PORTAL_PARTNER_ACT,
        body={"reason": "本季度预算已用完"},
        form=True,
        fresh="received_offer",
    ),
    ("POST", "/partner/offers/<int:offer_id>/disbursements"): Row(
        "/partner/offers/{target}/disbursements",
        PORTAL_PARTNER_ACT,
        body={"amount": "1", "kind": "cash", "reference": "BANK-MX-PORTAL"},
        form=True,
        fresh="accepted_offer",
    ),
    ("POST", "/partner/offers/<int:offer_id>/complete"): Row(
        "/partner/offers/{target}/complete", PORTAL_PARTNER_ACT, body={"note": ""}, form=True, fresh="disbursed_offer"
    ),
    ("POST", "/partner/offers/<int:offer_id>/reversals"): Row(
        "/partner/offers/{target}/reversals",
        PORTAL_PARTNER_ACT,
        body=lambda s: {"disbursement": s.disbursement_of.get(s.target, s.disbursement), "reason": "金额录错"},
        form=True,
        fresh="reversible_offer",
    ),
    ("GET", "/auditor/reversals"): Row("/auditor/reversals", S(PAGE_ANON, 403, 403, 403, 403, 200, 200)),
    ("POST", "/auditor/reversals/<int:reversal_id>/approve"): Row(
        "/auditor/reversals/{target}/approve", PORTAL_DECIDE, body={"note": ""}, form=True, fresh="pending_reversal"
    ),
    ("POST", "/auditor/reversals/<int:reversal_id>/reject"): Row(
        "/auditor/reversals/{target}/reject",
        PORTAL_DECIDE,
        body={"note": "凭证无误"},
        form=True,
        fresh="pending_reversal",
    ),
    # --- the caseworker steering a request -------------------------------------------------
    ("POST", "/caseworker/requests/<int:request_id>/retry"): Row(
        "/caseworker/requests/{target}/retry", PORTAL_CASEWORKER_ACT, body={}, form=True, fresh="unmatched_request"
    ),
    ("POST", "/caseworker/requests/<int:request_id>/hold"): Row(
        "/caseworker/requests/{target}/hold", PORTAL_CASEWORKER_ACT, body={"reason": "外出"}, form=True, fresh="request"
    ),
    ("POST", "/caseworker/requests/<int:request_id>/policy-override"): Row(
        "/caseworker/requests/{target}/policy-override",
        PORTAL_CASEWORKER_ACT,
        body={"reason": "化疗押金本周要交"},
        form=True,
        fresh="policy_held_request",
    ),
    ("POST", "/caseworker/requests/<int:request_id>/resume"): Row(
        "/caseworker/requests/{target}/resume", PORTAL_CASEWORKER_ACT, body={}, form=True, fresh="held_request"
    ),
    ("POST", "/caseworker/requests/<int:request_id>/complete"): Row(
        "/caseworker/requests/{target}/complete",
        PORTAL_CASEWORKER_ACT,
        body={"note": "家属已自筹余款"},
        form=True,
        fresh="in_progress_request",
    ),
    ("POST", "/caseworker/requests/<int:request_id>/withdraw"): Row(
        "/caseworker/requests/{target}/withdraw",
        PORTAL_CASEWORKER_ACT,
        body={"reason_code": "duplicate"},
        form=True,
        fresh="request",
    ),
    ("POST", "/caseworker/requests/<int:request_id>/auto-retry"): Row(
        "/caseworker/requests/{target}/auto-retry",
        PORTAL_CASEWORKER_ACT,
        body={"enabled": "y"},
        form=True,
        fresh="request",
    ),
    ("POST", "/caseworker/requests/<int:request_id>/refer"): Row(
        "/caseworker/requests/{target}/refer",
        PORTAL_CASEWORKER_ACT,
        body={"organisation": "社区就业服务站"},
        form=True,
        fresh="request",
    ),
    ("POST", "/caseworker/referrals/<int:offer_id>/outcome"): Row(
        "/caseworker/referrals/{target}/outcome",
        PORTAL_CASEWORKER_ACT,
        body={"outcome": "accepted"},
        form=True,
        fresh="referral",
    ),
    # --- receipts in the portal: the family confirms on its caseworker's phone ---------------------
    ("GET", "/caseworker/disbursements/<int:disbursement_id>/receipt"): Row(
        "/caseworker/disbursements/{disbursement}/receipt", S(PAGE_ANON, 200, 404, 403, 403, 403, 200)
    ),
    ("POST", "/caseworker/disbursements/<int:disbursement_id>/receipt"): Row(
        "/caseworker/disbursements/{target}/receipt",
        PORTAL_CASEWORKER_ACT,
        body=lambda _s: {
            "method": "signature",
            "signature": "data:image/png;base64," + base64.b64encode(png()).decode(),
        },
        form=True,
        fresh="disbursement",
    ),
    ("POST", "/caseworker/disbursements/<int:disbursement_id>/receipt-code"): Row(
        "/caseworker/disbursements/{target}/receipt-code",
        PORTAL_CASEWORKER_ACT,
        body={},
        form=True,
        fresh="disbursement",
    ),
    ("GET", "/caseworker/disbursements/<int:disbursement_id>/slip"): Row(
        "/caseworker/disbursements/{disbursement}/slip", S(PAGE_ANON, 200, 404, 403, 403, 200, 200)
    ),
    ("GET", "/caseworker/unreceived"): Row("/caseworker/unreceived", S(PAGE_ANON, 200, 200, 403, 403, 200, 200)),
    ("GET", "/partner/unreceived"): Row("/partner/unreceived", S(PAGE_ANON, 403, 403, 200, 200, 403, 403)),
    ("GET", "/auditor/reconciliation"): Row("/auditor/reconciliation", S(PAGE_ANON, 403, 403, 403, 403, 200, 200)),
    ("GET", "/auditor/exports/reconciliation.xlsx"): Row(
        "/auditor/exports/reconciliation.xlsx", S(PAGE_ANON, 403, 403, 403, 403, 200, 200)
    ),
    # --- notifications: the caller's own, in the API and the portal inbox -----------------------
    ("GET", f"{API}/notifications"): Row("/api/v1/notifications", S(401, 200, 200, 200, 200, 200, 200, 200, 200)),
    ("POST", f"{API}/notifications/<int:notification_id>/read"): Row(
        "/api/v1/notifications/{notification}/read", S(401, 200, 404, 404, 404, 404, 404, 404, 404)
    ),
    ("GET", "/inbox/"): Row("/inbox/", INBOX),
    ("POST", "/inbox/<int:notification_id>/read"): Row(
        "/inbox/{notification}/read", S(PAGE_ANON, 302, 404, 403, 403, 403, 404), body={}, form=True
    ),
    ("POST", "/inbox/read-all"): Row("/inbox/read-all", INBOX_ACT, body={}, form=True),
    ("GET", "/inbox/channels"): Row("/inbox/channels", INBOX),
    ("POST", "/inbox/channels/<channel>"): Row(
        "/inbox/channels/email",
        INBOX_ACT,
        body={"email-channel": "email", "email-target": "matrix@example.org"},
        form=True,
    ),
    ("POST", "/inbox/channels/<channel>/remove"): Row("/inbox/channels/email/remove", INBOX_ACT, body={}, form=True),
    # --- concerns: anyone raises one and looks it up; those who answer read them by scope ------
    ("POST", f"{API}/concerns"): Row(
        "/api/v1/concerns", S(201, 201, 201, 403, 403, 403, 201), body={"kind": "complaint", "description": "矩阵投诉"}
    ),
    ("GET", f"{API}/concerns"): Row("/api/v1/concerns", S(401, 200, 200, 200, 200, 200, 200)),
    ("GET", f"{API}/concerns/<string:reference>"): Row("/api/v1/concerns/{concern}", everyone(200)),
    ("POST", f"{API}/concerns/<string:reference>/assign"): Row(
        "/api/v1/concerns/{concern}/assign",
        S(401, 200, 404, 403, 403, 403, 200),
        body=lambda s: {"owner": s.caseworker_id},
    ),
    ("POST", f"{API}/concerns/<string:reference>/answer"): Row(
        "/api/v1/concerns/{answered_concern}/answer",
        S(401, 200, 404, 403, 403, 403, 200),
        body={"answer": "已核实并答复"},
    ),
    # --- public notices: nothing approved with consent waits in the scenario's community ------
    ("GET", f"{API}/notices"): Row("/api/v1/notices", S(401, 200, 200, 403, 403, 200, 200)),
    ("POST", f"{API}/notices"): Row(
        "/api/v1/notices", S(401, 422, 422, 403, 403, 403, 422), body={"community": "科源社区"}
    ),
    ("GET", f"{API}/reports/concerns"): Row("/api/v1/reports/concerns", OVERSIGHT),
    # --- the public pages of the family's voice, and the pages of those who answer --------------
    ("GET", "/concerns/new"): Row("/concerns/new?ref=GS2345AB", everyone(200)),
    ("POST", "/concerns/new"): Row(
        "/concerns/new", everyone(303), body={"kind": "complaint", "description": "矩阵意见"}, form=True
    ),
    ("GET", "/concerns/status"): Row("/concerns/status", everyone(200)),
    ("GET", "/caseworker/concerns"): Row("/caseworker/concerns", S(PAGE_ANON, 200, 200, 403, 403, 200, 200)),
    ("GET", "/caseworker/concerns/new"): Row("/caseworker/concerns/new", S(PAGE_ANON, 200, 200, 403, 403, 403, 200)),
    ("POST", "/caseworker/concerns/new"): Row(
        "/caseworker/concerns/new",
        S(PAGE_ANON, 302, 302, 403, 403, 403, 302),
        body={"kind": "complaint", "description": "矩阵来电"},
        form=True,
    ),
    ("GET", "/caseworker/concerns/<reference>"): Row(
        "/caseworker/concerns/{concern}", S(PAGE_ANON, 200, 404, 403, 403, 200, 200)
    ),
    ("POST", "/caseworker/concerns/<reference>/answer"): Row(
        "/caseworker/concerns/{answered_concern}/answer",
        S(PAGE_ANON, 302, 404, 403, 403, 403, 302),
        body={"answer": "已核实并答复"},  # as answered over the API: the same answer again changes nothing
        form=True,
    ),
    ("GET", "/caseworker/notices"): Row("/caseworker/notices", S(PAGE_ANON, 200, 200, 403, 403, 200, 200)),
    ("POST", "/caseworker/notices"): Row(
        "/caseworker/notices", S(PAGE_ANON, 422, 422, 403, 403, 403, 422), body={"community": "科源社区"}, form=True
    ),
    ("GET", "/caseworker/notices/<int:notice_id>"): Row(
        "/caseworker/notices/{notice}", S(PAGE_ANON, 200, 200, 403, 403, 200, 200)
    ),
    ("GET", "/caseworker/notices/<int:notice_id>.<fmt>"): Row(
        "/caseworker/notices/{notice}.xlsx", S(PAGE_ANON, 200, 200, 403, 403, 200, 200)
    ),
    # --- family volunteer points: the household's caseworkers act, auditors read, admins keep the rules ---
    ("GET", f"{API}/points/accounts/<int:household_id>"): Row("/api/v1/points/accounts/{household}", REGISTRY_READ),
    ("POST", f"{API}/points/accounts/<int:household_id>/earn"): Row(
        "/api/v1/points/accounts/{household}/earn",
        REGISTRY_CREATE,
        body=lambda _s: {"activity": "escort", "minutes": 30, "source_ref": unique("matrix-hours-")},
    ),
    ("POST", f"{API}/points/accounts/<int:household_id>/redeem"): Row(
        "/api/v1/points/accounts/{household}/redeem", REGISTRY_CREATE, body=lambda s: {"item_id": s.points_item}
    ),
    ("GET", f"{API}/points/accounts/<int:household_id>/statement"): Row(
        "/api/v1/points/accounts/{household}/statement", REGISTRY_READ
    ),
    ("GET", f"{API}/points/rules"): Row("/api/v1/points/rules", REGISTRY_LIST),
    ("PUT", f"{API}/points/rules"): Row(
        "/api/v1/points/rules",
        S(401, 403, 403, 403, 403, 403, 200),
        body={"community": "科源社区", "activity": "visit", "points_per_hour": 6, "monthly_cap": 60},
    ),
    ("GET", f"{API}/points/shop"): Row("/api/v1/points/shop?community=科源社区", REGISTRY_LIST),
    ("POST", f"{API}/points/shop"): Row(
        "/api/v1/points/shop",
        ADMIN_ONLY_CREATE,
        body={"community": "科源社区", "name": "矩阵积分商品", "price_points": 5, "stock": 3},
    ),
    ("GET", "/caseworker/households/<int:household_id>/points"): Row(
        "/caseworker/households/{household}/points", S(PAGE_ANON, 200, 404, 403, 403, 200, 200)
    ),
    ("POST", "/caseworker/households/<int:household_id>/points/earn"): Row(
        "/caseworker/households/{household}/points/earn",
        S(PAGE_ANON, 302, 404, 403, 403, 403, 302),
        body=lambda _s: {"activity": "escort", "minutes": "30", "reference": unique("签到表-")},
        form=True,
    ),
    ("POST", "/caseworker/households/<int:household_id>/points/redeem"): Row(
        "/caseworker/households/{household}/points/redeem",
        S(PAGE_ANON, 302, 404, 403, 403, 403, 302),
        body=lambda s: {"item_id": str(s.points_item), "quantity": "1"},
        form=True,
    ),
    ("GET", "/caseworker/households/<int:household_id>/points/statement"): Row(
        "/caseworker/households/{household}/points/statement", S(PAGE_ANON, 200, 404, 403, 403, 200, 200)
    ),
    ("GET", "/community/figures"): Row("/community/figures", S(PAGE_ANON, 200, 200, 403, 403, 200, 200)),
    ("GET", "/community/figures.xlsx"): Row("/community/figures.xlsx", S(PAGE_ANON, 200, 200, 403, 403, 200, 200)),
    ("GET", "/admin/points"): Row("/admin/points", ADMIN_PAGE),
    ("POST", "/admin/points/rules"): Row(
        "/admin/points/rules",
        ADMIN_FORM,
        body={"community": "科源社区", "activity": "visit", "points_per_hour": "6", "monthly_cap": "60"},
        form=True,
    ),
    ("POST", "/admin/points/items"): Row(
        "/admin/points/items",
        ADMIN_FORM,
        body={"community": "科源社区", "name": "矩阵商品", "kind": "goods", "price_points": "5", "stock": "2"},
        form=True,
    ),
    # --- volunteers: anyone signs up; the team leads, the volunteer acts on its own claims -------
    ("POST", f"{API}/volunteers"): Row("/api/v1/volunteers", everyone(201), body=lambda s: _sign_up_body(s)),
    ("GET", f"{API}/volunteers"): Row("/api/v1/volunteers", S(401, 403, 403, 200, 200, 200, 200, 200)),
    ("GET", f"{API}/volunteers/<int:volunteer_id>"): Row(
        "/api/v1/volunteers/{volunteer}", S(401, 403, 403, 404, 404, 200, 200, 200)
    ),
    ("POST", f"{API}/volunteers/<int:volunteer_id>/decision"): Row(
        "/api/v1/volunteers/{target}/decision",
        S(401, 403, 403, 404, 404, 403, 200, 403),
        body={"decision": "approve"},
        fresh="pending_volunteer",
    ),
    ("GET", f"{API}/volunteers/<int:volunteer_id>/certificate"): Row(
        "/api/v1/volunteers/{volunteer}/certificate", S(401, 403, 403, 404, 404, 200, 200, 200)
    ),
    ("GET", f"{API}/reports/volunteers"): Row("/api/v1/reports/volunteers", S(401, 200, 200, 403, 403, 200, 200)),
    ("GET", f"{API}/teams"): Row("/api/v1/teams", everyone(200)),
    ("GET", f"{API}/teams/<int:team_id>/tasks"): Row(
        "/api/v1/teams/{team}/tasks", S(401, 403, 403, 404, 404, 200, 200, 200)
    ),
    ("POST", f"{API}/teams/<int:team_id>/tasks"): Row(
        "/api/v1/teams/{team}/tasks", S(401, 403, 403, 404, 404, 403, 201), body=lambda s: _task_body()
    ),
    ("POST", f"{API}/tasks/<int:task_id>/claim"): Row(
        "/api/v1/tasks/{task_claimed}/claim", S(401, 403, 403, 403, 403, 403, 403, 200)
    ),
    ("POST", f"{API}/tasks/<int:task_id>/withdraw"): Row(
        "/api/v1/tasks/{task_claimed}/withdraw", S(401, 403, 403, 403, 403, 403, 403, 200)
    ),
    ("POST", f"{API}/tasks/<int:task_id>/cancel"): Row(
        "/api/v1/tasks/{target}/cancel",
        S(401, 403, 403, 404, 404, 403, 200),
        body={"reason": "rescheduled"},
        fresh="open_task",
    ),
    ("POST", f"{API}/tasks/<int:task_id>/check-in"): Row(
        "/api/v1/tasks/{task_out}/check-in", S(401, 403, 403, 403, 403, 403, 403, 200)
    ),
    ("POST", f"{API}/tasks/<int:task_id>/check-out"): Row(
        "/api/v1/tasks/{task_out}/check-out", S(401, 403, 403, 403, 403, 403, 403, 200)
    ),
    ("POST", f"{API}/tasks/<int:task_id>/confirm-code"): Row(
        "/api/v1/tasks/{task_out}/confirm-code", S(401, 403, 403, 403, 403, 403, 403, 202)
    ),
    ("POST", f"{API}/tasks/<int:task_id>/confirm"): Row(
        "/api/v1/tasks/{task_confirm}/confirm",
        S(401, 201, 404, 403, 403, 403, 200, 403),  # the caseworker first, then the admin finds it done
        body={"method": "caseworker"},
    ),
    ("GET", "/volunteers/join"): Row("/volunteers/join", everyone(200)),
    ("POST", "/volunteers/join"): Row("/volunteers/join", everyone(303), body=lambda s: _join_form(s), form=True),
    ("GET", "/volunteer/"): Row("/volunteer/", S(PAGE_ANON, 403, 403, 403, 403, 403, 403, 200)),
    ("GET", "/volunteer/certificate.pdf"): Row(
        "/volunteer/certificate.pdf", S(PAGE_ANON, 403, 403, 403, 403, 403, 403, 200)
    ),
    **{
        ("POST", f"/volunteer/tasks/<int:task_id>/{action}"): Row(
            f"/volunteer/tasks/{{{task}}}/{action}", S(PAGE_ANON, 403, 403, 403, 403, 403, 403, 303), body={}, form=True
        )
        for action, task in (
            ("claim", "task_claimed"),
            ("withdraw", "task_claimed"),
            ("check-in", "task_out"),
            ("check-out", "task_out"),
            ("confirm-code", "task_out"),
            ("confirm", "task_out"),
        )
    },
    ("POST", "/partner/team/tasks/<int:task_id>/cancel"): Row(
        "/partner/team/tasks/{task_claimed}/cancel",
        S(PAGE_ANON, 403, 403, 404, 404, 403, 403),
        body={"reason": "rescheduled"},
        form=True,
    ),
    ("GET", "/partner/team"): Row("/partner/team", S(PAGE_ANON, 403, 403, 200, 200, 403, 403)),
    ("POST", "/partner/team/tasks"): Row(
        "/partner/team/tasks", S(PAGE_ANON, 403, 403, 404, 404, 403, 403), body={}, form=True
    ),
    ("POST", "/partner/team/volunteers/<int:volunteer_id>/<any(approve, reject):decision>"): Row(
        "/partner/team/volunteers/{volunteer}/approve", S(PAGE_ANON, 403, 403, 404, 404, 403, 403), body={}, form=True
    ),
    ("GET", "/partner/team/volunteers/<int:volunteer_id>/certificate.pdf"): Row(
        "/partner/team/volunteers/{volunteer}/certificate.pdf", S(PAGE_ANON, 403, 403, 404, 404, 403, 403)
    ),
    ("GET", "/caseworker/volunteer-tasks"): Row(
        "/caseworker/volunteer-tasks", S(PAGE_ANON, 200, 200, 403, 403, 403, 200)
    ),
    ("POST", "/caseworker/volunteer-tasks/<int:task_id>/confirm"): Row(
        "/caseworker/volunteer-tasks/{task_confirm}/confirm",
        S(PAGE_ANON, 303, 404, 403, 403, 403, 303),
        body={},
        form=True,
    ),
    ("GET", "/reports/volunteers"): Row("/reports/volunteers", S(PAGE_ANON, 200, 200, 403, 403, 200, 200)),
    ("GET", "/reports/volunteers.xlsx"): Row("/reports/volunteers.xlsx", S(PAGE_ANON, 200, 200, 403, 403, 200, 200)),
    # --- jobs and skills pages --------------------------------------------------------------
    ("GET", "/jobs/"): Row("/jobs/", S(PAGE_ANON, 200, 200, 403, 403, 200, 200)),
    ("GET", "/jobs/report.xlsx"): Row("/jobs/report.xlsx", S(PAGE_ANON, 200, 200, 403, 403, 200, 200)),
    ("GET", "/jobs/openings"): Row("/jobs/openings", S(PAGE_ANON, 200, 200, 200, 200, 200, 200)),
    ("GET", "/jobs/openings/<int:opening_id>"): Row(
        "/jobs/openings/{opening}", S(PAGE_ANON, 200, 200, 200, 404, 200, 200)
    ),
    ("POST", "/jobs/openings/<int:opening_id>/close"): Row(
        "/jobs/openings/{target}/close", S(PAGE_ANON, 403, 403, 302, 404, 403, 302), body={}, form=True, fresh="opening"
    ),
    ("GET", "/jobs/courses"): Row("/jobs/courses", S(PAGE_ANON, 200, 200, 200, 200, 200, 200)),
    ("GET", "/jobs/courses/<int:course_id>"): Row("/jobs/courses/{course}", S(PAGE_ANON, 200, 200, 200, 404, 200, 200)),
    ("POST", "/jobs/enrolments/<int:enrolment_id>/<any(attendance, complete, withdraw):action>"): Row(
        "/jobs/enrolments/{enrolment}/attendance",
        S(PAGE_ANON, 302, 404, 302, 404, 403, 302),
        body={"session_no": "1"},
        form=True,
    ),
    ("GET", "/jobs/requests/<int:request_id>/matches"): Row(
        "/jobs/requests/{job_request}/matches", S(PAGE_ANON, 200, 404, 403, 403, 200, 200)
    ),
    ("POST", "/jobs/requests/<int:request_id>/enrol"): Row(
        "/jobs/requests/{target}/enrol",
        S(PAGE_ANON, 302, 404, 403, 403, 403, 302),
        body=lambda s: {"member": str(s.job_need_member[s.target]), "course": str(s.course)},
        form=True,
        fresh="job_need",
    ),
    ("POST", "/jobs/requests/<int:request_id>/place"): Row(
        "/jobs/requests/{target}/place",
        S(PAGE_ANON, 302, 404, 403, 403, 403, 302),
        body=lambda s: {"member": str(s.job_need_member[s.target]), "opening": str(s.opening)},
        form=True,
        fresh="job_need",
    ),
    ("GET", "/jobs/placements"): Row("/jobs/placements", S(PAGE_ANON, 200, 200, 200, 200, 200, 200)),
    ("POST", "/jobs/placements/<int:placement_id>/follow-ups/<int:months>"): Row(
        "/jobs/placements/{target}/follow-ups/3",
        S(PAGE_ANON, 302, 404, 403, 403, 403, 302),
        body={"still_working": "yes", "earnings": "1200"},
        form=True,
        fresh="placement",
    ),
    ("GET", "/jobs/home-work"): Row("/jobs/home-work", S(PAGE_ANON, 200, 200, 200, 200, 200, 200)),
    # --- mobile grid members: anyone signs up; a reporter reports and reads its own; caseworkers act ---
    ("POST", f"{API}/reporters"): Row("/api/v1/reporters", everyone(201), body=lambda s: _reporter_body()),
    ("POST", f"{API}/leads"): Row(
        "/api/v1/leads",
        S(401, 403, 403, 403, 403, 403, 403, 403, 201),
        body=lambda s: {"address": "矩阵路1号", "seen": "矩阵上报", "grid": s.grid_a},
    ),
    ("GET", f"{API}/leads"): Row("/api/v1/leads", S(401, 200, 200, 403, 403, 200, 200, 403, 200)),
    ("GET", f"{API}/leads/<int:lead_id>"): Row("/api/v1/leads/{lead}", S(401, 200, 404, 403, 403, 200, 200, 403, 200)),
    ("GET", f"{API}/leads/<int:lead_id>/photo"): Row(
        "/api/v1/leads/{lead}/photo", S(401, 200, 404, 403, 403, 200, 200, 403, 403)
    ),
    ("POST", f"{API}/leads/<int:lead_id>/visit"): Row(
        "/api/v1/leads/{target}/visit",
        S(401, 201, 404, 403, 403, 403, 201),
        body=lambda s: {"household_id": s.household, "findings": "矩阵走访"},
        fresh="new_lead",
    ),
    ("POST", f"{API}/leads/<int:lead_id>/close"): Row(
        "/api/v1/leads/{target}/close",
        S(401, 200, 404, 403, 403, 403, 200),
        body={"reason": "no_need"},
        fresh="new_lead",
    ),
    ("GET", "/reporters/join"): Row("/reporters/join", everyone(200)),
    ("POST", "/reporters/join"): Row(
        "/reporters/join", everyone(303), body=lambda s: {**_reporter_body(), "consent": "y"}, form=True
    ),
    ("GET", "/reporter/"): Row("/reporter/", S(PAGE_ANON, 403, 403, 403, 403, 403, 403, 403, 200)),
    ("POST", "/reporter/leads"): Row(
        "/reporter/leads",
        S(PAGE_ANON, 403, 403, 403, 403, 403, 403, 403, 303),
        body={"address": "矩阵路2号", "seen": "矩阵上报", "community": "科源社区", "urgency": "normal"},
        form=True,
    ),
    ("GET", "/caseworker/leads"): Row("/caseworker/leads", S(PAGE_ANON, 200, 200, 403, 403, 403, 200)),
    ("GET", "/caseworker/leads/<int:lead_id>"): Row(
        "/caseworker/leads/{lead}", S(PAGE_ANON, 200, 404, 403, 403, 403, 200)
    ),
    ("GET", "/caseworker/leads/<int:lead_id>/photo"): Row(
        "/caseworker/leads/{lead}/photo", S(PAGE_ANON, 200, 404, 403, 403, 403, 200)
    ),
    ("POST", "/caseworker/leads/<int:lead_id>/visit"): Row(
        "/caseworker/leads/{target}/visit",
        S(PAGE_ANON, 303, 404, 403, 403, 403, 303),
        body=lambda s: {"household": str(s.household), "findings": "矩阵走访"},
        form=True,
        fresh="new_lead",
    ),
    ("POST", "/caseworker/leads/<int:lead_id>/close"): Row(
        "/caseworker/leads/{target}/close",
        S(PAGE_ANON, 303, 404, 403, 403, 403, 303),
        body={"reason": "no_need"},
        form=True,
        fresh="new_lead",
    ),
}

# Which shared object a refused call of a ``fresh`` row acts on.
SHARED = {
    "household": "household",
    "household_member": "household_member",
    "application": "application",
    "request": "request",
    "held_request": "request",
    "in_progress_request": "request",
    "unmatched_request": "request",
    "policy_held_request": "request",
    "referral": "offer",
    "received_offer": "offer",
    "accepted_offer": "offer",
    "disbursed_offer": "offer",
    "reversible_offer": "offer",
    "reversible_disbursement": "disbursement",
    "disbursement": "disbursement",
    "pending_reversal": "reversal",
    "follow_up": "follow_up",
    "care_member": "household",
    "care_plan": "care_plan",
    "special_group": "special_group",
    "pending_volunteer": "volunteer",
    "opening": "opening",
    "job_member": "job_member",
    "enrolment": "enrolment",
    "placement": "placement",
    "job_need": "job_request",
    "new_lead": "lead",
    "open_task": "task_claimed",
}


# Portal paths a visitor who is not signed in may use; elsewhere a redirect is a refusal.
PUBLIC_PAGES = frozenset({"/", "/login", "/logout", "/language"})


def refused(row: Row, role: str) -> bool:
    """Whether the table says this role is turned away from this row."""
    status = row.expect[role]
    return status >= 400 or (role == "anon" and status == PAGE_ANON and row.path not in PUBLIC_PAGES)


def registered_routes(app) -> set[tuple[str, str]]:
    """Every (method, rule) the app answers, HEAD and OPTIONS aside."""
    return {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        for method in (rule.methods or ())
        if method not in ("HEAD", "OPTIONS")
    }


# --- the callers ------------------------------------------------------------------------------


class Page:
    """A browser-like portal client: its own cookies, signs in through the form, and
    sends the CSRF token its pages carry."""

    def __init__(self, app: Any, username: str | None) -> None:
        self.client = app.test_client()
        self.token: str | None = None
        self._read_token("/login")
        if username is not None:
            resp = self.client.post(
                "/login", data={"username": username, "password": PASSWORD, "csrf_token": self.token}
            )
            assert resp.status_code == 302, (username, resp.status_code)
            self._read_token(resp.headers["Location"])

    def _read_token(self, path: str) -> None:
        html = self.client.get(path).get_data(as_text=True)
        found = _CSRF.search(html)
        assert found, f"no CSRF token on {path}"
        self.token = found.group(1) or found.group(2)

    def call(self, method: str, path: str, body: dict | None, form: bool) -> Any:
        if method == "GET":
            return self.client.get(path)
        data = dict(body or {})
        if form:
            data["csrf_token"] = self.token
        return self.client.open(path, method=method, data=data)


@dataclass
class Scenario:
    """Grid A (held by the caseworker, with grid C), grid B (the other caseworker);
    partner P serving A and C, partner Q serving B; a household on A whose needs were
    routed to P (one offer accepted and part-paid), an application; and, per kind, a
    pool of objects for the calls that succeed."""

    app: Any
    api: dict[str, ApiClient]
    usernames: dict[str, str]
    grid_a: str
    grid_b: str
    grid_c: str
    partner: int
    other_partner: int
    household: int
    request: int
    offer: int
    application: int
    document_file: int
    id_numbers: list[str]
    names: list[str]
    spare_user: str
    spare_user_id: int  # an account of no one's scenario, for the admin's edits
    spare_partner: int
    worker: Callable
    member: int = 0  # the child of the household on grid A
    pools: dict[str, list[int]] = field(default_factory=dict)
    pages: dict[str, Page] = field(default_factory=dict)
    notification: int = 0  # one of the caseworker's (the accepted offer's)
    disbursement: int = 0  # the part-payment on the accepted offer
    reversal: int = 0  # a pending reversal of it, proposed by partner P
    disbursement_of: dict[int, int] = field(default_factory=dict)  # offer → its disbursement
    target: Any = None  # what the row being filled acts on
    head_member: int = 0  # the head of the household on grid A
    consent: int = 0  # the head's consent, with the signed form's photo
    concern: str = ""  # a hotline concern about the household and partner P (its reference)
    answered_concern: str = ""  # another, for the answering calls
    caseworker_id: int = 0
    notice: int = 0  # a public notice of the community of grids A, B and C
    follow_up: int = 0  # the follow-up visit of the household's completed counselling request
    points_item: int = 0  # an item of the community's points shop the household can afford
    region: str = ""  # the community node grid A hangs under
    region_parent: str = ""  # and its street
    care_plan: int = 0  # the child's mentor plan, its mentor from partner P
    carer: int = 0  # that mentor
    special_group_record: int = 0  # the child's record as a left-behind child
    team: int = 0  # a volunteer team serving grid C (see tests.community.volunteer_world.matrix_objects)
    volunteer: int = 0  # its approved volunteer, the ``volunteer`` role
    task_claimed: int = 0  # a task the volunteer claimed
    task_out: int = 0  # one the volunteer checked out of
    task_confirm: int = 0  # another, for the family's confirmation
    opening: int = 0  # partner P's home-based opening; the head works there (see tests.community.jobs_world)
    course: int = 0  # partner P's course, the head enrolled on it
    enrolment: int = 0
    placement: int = 0  # the head's, from 100 days ago: its 3-month follow-up is due
    home_order: int = 0  # an order of the opening's workshop
    job_request: int = 0  # the household's employment request, handed to job matching
    job_need_member: dict[int, int] = field(default_factory=dict)  # an employment request → its member
    lead: int = 0  # a lead with a photo on grid A, by the ``reporter`` role

    def take(self, kind: str) -> int:
        return self.pools[kind].pop()

    def page(self, role: str) -> Page:
        if role not in self.pages:
            self.pages[role] = Page(self.app, None if role == "anon" else self.usernames[role])
        return self.pages[role]

    def fill(self, row: Row, role: str, succeeds: bool) -> tuple[str, Any]:
        values = {
            "grid": self.grid_a,
            "household": self.household,
            "request": self.request,
            "offer": self.offer,
            "application": self.application,
            "document_file": self.document_file,
            "partner": self.partner,
            "spare_partner": self.spare_partner,
            "spare_user_id": self.spare_user_id,
            "member": self.member,
            "household_member": f"{self.household}/members/{self.member}",
            "notification": self.notification,
            "disbursement": self.disbursement,
            "reversal": self.reversal,
            "consent": self.consent,
            "concern": self.concern,
            "answered_concern": self.answered_concern,
            "notice": self.notice,
            "follow_up": self.follow_up,
            "care_plan": self.care_plan,
            "special_group": f"{self.household}/special-groups/{self.special_group_record}",
            "team": self.team,
            "volunteer": self.volunteer,
            "task_claimed": self.task_claimed,
            "task_out": self.task_out,
            "task_confirm": self.task_confirm,
            "opening": self.opening,
            "course": self.course,
            "enrolment": self.enrolment,
            "placement": self.placement,
            "home_order": self.home_order,
            "job_request": self.job_request,
            "job_member": self.head_member,
            "lead": self.lead,
            "region": self.region,
        }
        if row.fresh:
            values["target"] = self.take(row.fresh) if succeeds else values[SHARED[row.fresh]]
        self.target = values.get("target")
        body = row.body(self) if callable(row.body) else row.body
        return row.path.format(**values), body


def _ok(resp: Any, status: int = 200) -> dict:
    assert resp.status_code == status, (resp.status_code, resp.get_data(as_text=True)[:500])
    return resp.get_json()


def _need_request_ids(cw: ApiClient, household: int, needs: list[dict]) -> list[int]:
    """Record ``needs`` at once; pools repeat a need on purpose, so the repeat is confirmed."""
    body = {"summary": "池", "needs": needs, "confirm_duplicate": True}
    body = _ok(cw.post(f"{API}/households/{household}/assessments", json=body), 201)
    return [n["request_id"] for n in body["needs"]]


def _offer_of(partner: ApiClient, request_ids: list[int]) -> dict[int, int]:
    items = _ok(partner.get(f"{API}/offers?per_page=200"))["items"]
    return {o["request_id"]: o["id"] for o in items if o["request_id"] in request_ids}


def _region_of(grid: str) -> tuple[str, str]:
    """The codes of the community node a grid hangs under and of its street."""
    from broker.registry import region_tree

    tree = region_tree.load(db.session())
    place = tree.place_of(tree.grid_ids[grid])
    db.session.remove()
    return place[-1].code, place[-2].code


def build_scenario(app, make_user, login, as_role, worker, pools: Counter | None = None) -> Scenario:
    """Everything built through the API as its users would, routing by a real RQ worker."""
    admin = as_role("admin")
    grids = [unique("MX-A-"), unique("MX-B-"), unique("MX-C-")]
    for code in grids:
        _ok(admin.post(f"{API}/grids", json={**_grid_body(None), "code": code}), 201)
    grid_a, grid_b, grid_c = grids
    p = _ok(
        admin.post(
            f"{API}/partners",
            json={
                "name": unique("海淀区慈善总会-"),
                "kind": "charity",
                "adapter": "portal",
                "categories": ["medical", "living", "counselling", "schooling", "emergency"],
                "regions": [grid_a, grid_c],
            },
        ),
        201,
    )
    q = _ok(
        admin.post(
            f"{API}/partners",
            json={
                "name": unique("朝阳区红十字会-"),
                "kind": "red_cross",
                "adapter": "portal",
                "categories": ["medical", "living", "counselling"],
                "regions": [grid_b],
            },
        ),
        201,
    )
    # A partner of no one's scenario, for the admin's edits and deposits.
    spare_partner = _ok(admin.post(f"{API}/partners", json=_partner_body(None)), 201)["id"]
    for partner_id in (p["id"], q["id"]):
        _ok(admin.post(f"{API}/partners/{partner_id}/deposits", json={"amount_fen": 1_000_000 * YUAN}), 201)
    usernames = {
        "caseworker": make_user("caseworker", grids=(grid_a, grid_c)),
        "other_caseworker": make_user("caseworker", grids=(grid_b,)),
        "partner": make_user("partner", partner_id=p["id"]),
        "other_partner": make_user("partner", partner_id=q["id"]),
        "auditor": make_user("auditor"),
    }
    api = {role: login(name) for role, name in usernames.items()}
    api["admin"] = admin
    api["anon"] = ApiClient(admin.client)
    usernames["admin"] = make_user("admin")
    cw, partner = api["caseworker"], api["partner"]

    head_id = identity.make("110108", date(1979, 4, 12), "131")
    spouse_id = identity.make("110108", date(1981, 9, 3), "242")
    names = ["张建国", "李秀兰", "张浩"]
    household = _ok(
        cw.post(
            f"{API}/households",
            json={
                "grid": grid_a,
                "address": "海淀区中关村东路18号院3号楼2单元501",
                "head_name": names[0],
                "phone": "138 0013 8000",
                "monthly_income_fen": 240000,
                "consent_to_share": False,
                "members": [
                    {"name": names[0], "id_number": head_id, "relation": "head", "employment": "self_employed"},
                    {"name": names[1], "id_number": spouse_id, "relation": "spouse"},
                    {"name": names[2], "birth_date": "2010-06-20", "relation": "child", "conditions": ["leukaemia"]},
                ],
            },
        ),
        201,
    )["id"]
    # A caseworker typing an ID number into free text, in the shapes people type them.
    medical, counselling = _need_request_ids(
        cw,
        household,
        [
            {
                "category": "medical",
                "urgency": "high",
                "amount_fen": 3000 * YUAN,
                "description": f"儿子急性白血病，外地住院。户主身份证{head_id}，配偶ID{spouse_id.lower()}。",
            },
            {"category": "counselling", "urgency": "normal", "description": f"母亲（身份证号:{spouse_id}）陪护压力大"},
        ],
    )
    worker()
    offers = _offer_of(partner, [medical, counselling])
    _ok(partner.post(f"{API}/offers/{offers[medical]}/accept", json={}))
    disbursement = _ok(
        partner.post(f"{API}/offers/{offers[medical]}/disbursements", json={"amount_fen": 1000 * YUAN, "kind": "cash"}),
        201,
    )["id"]
    application = _ok(cw.post(f"{API}/households/{household}/applications", json={"policy": "temporary_aid"}), 201)[
        "id"
    ]
    photo = Page(app, usernames["caseworker"]).call(
        "POST",
        f"/caseworker/applications/{application}/documents/hardship_evidence/file",
        {"file": (io.BytesIO(png()), "evidence.png", "image/png")},
        True,
    )
    assert photo.status_code == 302, photo.status_code
    document_file = db.session().execute(select(ApplicationFile.id)).scalar_one()
    db.session.remove()
    head_member = _ok(cw.get(f"{API}/households/{household}"))["members"][0]["id"]
    signed = Page(app, usernames["caseworker"]).call(
        "POST",
        f"/caseworker/households/{household}/consents",
        {
            "member": str(head_member),
            "purpose": "volunteer_contact",
            "evidence": "矩阵同意书-0",
            "photo": (io.BytesIO(png()), "form.png", "image/png"),
        },
        True,
    )
    assert signed.status_code == 302, signed.status_code
    consent = db.session().execute(select(Consent.id)).scalar_one()
    db.session.remove()

    scenario = Scenario(
        app=app,
        api=api,
        usernames=usernames,
        grid_a=grid_a,
        grid_b=grid_b,
        grid_c=grid_c,
        partner=p["id"],
        other_partner=q["id"],
        household=household,
        request=medical,
        offer=offers[medical],
        application=application,
        document_file=document_file,
        id_numbers=[head_id, spouse_id],
        names=names,
        spare_user=make_user("auditor"),
        spare_user_id=_user_id(make_user("auditor")),
        spare_partner=spare_partner,
        worker=worker,
        member=_ok(cw.get(f"{API}/households/{household}"))["members"][2]["id"],
        notification=_ok(api["caseworker"].get(f"{API}/notifications"))["items"][-1]["id"],
        head_member=head_member,
        consent=consent,
        caseworker_id=_user_id(usernames["caseworker"]),
        disbursement=disbursement,
        region=_region_of(grid_a)[0],
        region_parent=_region_of(grid_a)[1],
    )
    scenario.reversal = _ok(
        partner.post(f"{API}/disbursements/{scenario.disbursement}/reversal", json={"reason": "待核"}), 201
    )["id"]
    # A caseworker typing the family's ID number into a hotline concern about partner P.
    concern = {
        "kind": "not_received",
        "description": f"家属来电：补助未到账，户主身份证{head_id}",
        "contact_phone": "13800138000",
        "household": household,
        "partner": p["id"],
    }
    scenario.concern = _ok(cw.post(f"{API}/concerns", json=concern), 201)["reference"]
    scenario.answered_concern = _ok(cw.post(f"{API}/concerns", json=concern), 201)["reference"]
    # A family that agreed to public notice, its application approved and posted.
    posted = _ok(cw.post(f"{API}/households", json=_household_body(scenario)), 201)
    agree_to_notice(cw, posted)
    approved_application(cw, posted["id"])
    scenario.notice = _ok(cw.post(f"{API}/notices", json={"community": "科源社区"}), 201)["id"]
    # The counselling need taken on and confirmed done: its follow-up visit is scheduled.
    counselling_offer = _offer_of(partner, [counselling])[counselling]
    _ok(partner.post(f"{API}/offers/{counselling_offer}/accept", json={}))
    _ok(cw.post(f"{API}/requests/{counselling}/complete", json={"note": "已开始辅导"}))
    scenario.follow_up = _follow_ups_of([counselling])[counselling]
    # The household takes part in volunteer points: a rule, an item in the shop, hours earned.
    agree(cw, household, "points")
    rule = {"community": "科源社区", "activity": "escort", "points_per_hour": 10, "monthly_cap": None}
    _ok(admin.put(f"{API}/points/rules", json=rule))
    item = {"community": "科源社区", "name": "矩阵大米", "price_points": 2, "stock": 100}
    scenario.points_item = _ok(admin.post(f"{API}/points/shop", json=item), 201)["id"]
    _ok(
        cw.post(
            f"{API}/points/accounts/{household}/earn", json={"activity": "escort", "minutes": 600, "source_ref": "mx"}
        ),
        201,
    )
    # The child is a left-behind child with a mentor from partner P.
    group = {"member_id": scenario.member, "group": "left_behind_child", "source": "visit"}
    scenario.special_group_record = _ok(cw.post(f"{API}/households/{household}/special-groups", json=group), 201)["id"]
    plan = {
        "household_id": household,
        "member_id": scenario.member,
        "group": "left_behind_child",
        "kind": "mentor",
        "schedule": "weekly",
        "carers": [{"name": "矩阵导师", "role": "mentor", "partner_id": p["id"]}],
    }
    made = _ok(cw.post(f"{API}/care-plans", json=plan), 201)
    scenario.care_plan, scenario.carer = made["id"], made["carers"][0]["id"]
    if pools:
        _fill_pools(scenario, pools)
    matrix_objects(scenario, make_user, login, worker, pending=(pools or Counter())["pending_volunteer"])
    matrix_jobs(scenario, pools or Counter())
    _lead_objects(scenario, login, (pools or Counter())["new_lead"])
    scenario.pools["open_task"] = [
        _ok(admin.post(f"{API}/teams/{scenario.team}/tasks", json=_task_body()), 201)["id"]
        for _ in range((pools or Counter())["open_task"])
    ]
    return scenario


def _lead_objects(s: Scenario, login: Callable, fresh: int) -> None:
    """The ``reporter`` role (a courier signed up over the API), its lead on grid A with a
    photo, and ``fresh`` more leads there for the visits and closes that succeed."""
    body = _reporter_body()
    _ok(s.api["anon"].post(f"{API}/reporters", json=body), 201)
    s.usernames["reporter"] = body["username"]
    s.api["reporter"] = rider = login(body["username"])
    photo = base64.b64encode(png()).decode()
    lead = {"address": "矩阵路3号", "seen": "独居老人", "grid": s.grid_a, "photo": photo}
    s.lead = _ok(rider.post(f"{API}/leads", json=lead), 201)["id"]
    s.pools["new_lead"] = [
        _ok(rider.post(f"{API}/leads", json={"address": f"矩阵路{4 + i}号", "seen": "x2", "grid": s.grid_a}), 201)["id"]
        for i in range(fresh)
    ]


def _follow_ups_of(request_ids: list[int]) -> dict[int, int]:
    """request id → the id of its follow-up visit (scheduled when it completed)."""
    rows = db.session().execute(select(FollowUp.request_id, FollowUp.id).where(FollowUp.request_id.in_(request_ids)))
    found = dict(rows.all())
    db.session.remove()
    return found


def _user_id(username: str) -> int:
    found = db.session().execute(select(User.id).where(User.username == username)).scalar_one()
    db.session.remove()
    return found


def _fill_pools(s: Scenario, wanted: Counter) -> None:
    """Objects for the calls that succeed, made in bulk: one assessment for the
    requests, one routing pass for the offers."""
    cw, partner, admin = s.api["caseworker"], s.api["partner"], s.api["admin"]
    pools: dict[str, list[int]] = {kind: [] for kind in wanted}
    households = [
        _ok(admin.post(f"{API}/households", json=_household_body(s)), 201)["id"]
        for _ in range(wanted["household"] + wanted["application"])
    ]
    pools["household"] = households[: wanted["household"]]
    for _ in range(wanted["household_member"]):
        made = _ok(admin.post(f"{API}/households", json=_household_body(s)), 201)
        pools["household_member"].append(f"{made['id']}/members/{made['members'][0]['id']}")
    for _ in range(wanted["care_plan"]):
        made = _ok(admin.post(f"{API}/households", json=_household_body(s)), 201)
        group = {"member_id": made["members"][0]["id"], "group": "elderly_alone", "source": "visit"}
        _ok(cw.post(f"{API}/households/{made['id']}/special-groups", json=group), 201)
        plan = _ok(
            cw.post(
                f"{API}/care-plans",
                json=_care_plan_body(s, made["id"]),
            ),
            201,
        )
        pools["care_plan"].append(plan["id"])
    for _ in range(wanted["special_group"]):
        made = _ok(admin.post(f"{API}/households", json=_household_body(s)), 201)
        group = {"member_id": made["members"][0]["id"], "group": "elderly_alone", "source": "visit"}
        record = _ok(cw.post(f"{API}/households/{made['id']}/special-groups", json=group), 201)["id"]
        pools["special_group"].append(f"{made['id']}/special-groups/{record}")
    for _ in range(wanted["care_member"]):
        made = _ok(admin.post(f"{API}/households", json=_household_body(s)), 201)
        group = {"member_id": made["members"][0]["id"], "group": "elderly_alone", "source": "civil_affairs"}
        _ok(cw.post(f"{API}/households/{made['id']}/special-groups", json=group), 201)
        pools["care_member"].append(made["id"])
    for hid in households[wanted["household"] :]:
        app_id = _ok(cw.post(f"{API}/households/{hid}/applications", json={"policy": "temporary_aid"}), 201)["id"]
        pools["application"].append(app_id)
    jobless = wanted["unmatched_request"] + wanted["referral"]
    if jobless:  # no partner serves employment: these end unmatched
        ids = _need_request_ids(cw, s.household, [{"category": "employment", "urgency": "normal"}] * jobless)
        s.worker()
        pools["unmatched_request"] = ids[: wanted["unmatched_request"]]
        for rid in ids[wanted["unmatched_request"] :]:
            body = _ok(cw.post(f"{API}/requests/{rid}/refer", json={"organisation": "街道就业服务站"}), 201)
            pools["referral"].append(body["offers"][-1]["id"])
    plain = wanted["request"] + wanted["held_request"]
    paid = wanted["reversible_disbursement"] + wanted["pending_reversal"] + wanted["reversible_offer"]
    living = (
        wanted["in_progress_request"]
        + wanted["received_offer"]
        + wanted["accepted_offer"]
        + wanted["disbursed_offer"]
        + paid
        + wanted["follow_up"]
    )
    needs = [{"category": "counselling", "urgency": "normal", "description": "待办"}] * plain
    # Part of a medical need of the scenario's family (it qualifies for medical assistance
    # and has not applied) is held for the policy: the caseworker may override the hold.
    needs += [{"category": "medical", "urgency": "high", "amount_fen": 3000 * YUAN}] * wanted["policy_held_request"]
    request_ids: list[int] = []
    for start in range(0, len(needs), 20):
        request_ids += _need_request_ids(cw, s.household, needs[start : start + 20])
    plain_ids = request_ids[:plain]
    pools["policy_held_request"] = request_ids[plain:]
    # Money needs of a kind no policy is expected to cover (an emergency): partners are
    # offered all of it, nothing is held.
    money_need = {"category": "emergency", "urgency": "normal", "amount_fen": 500 * YUAN, "description": "生活困难"}
    living_ids: list[int] = []
    for start in range(0, living, 20):
        living_ids += _need_request_ids(cw, s.household, [money_need] * min(20, living - start))
    pools["request"] = plain_ids[: wanted["request"]]
    pools["held_request"] = plain_ids[wanted["request"] :]
    for rid in pools["held_request"]:
        _ok(cw.post(f"{API}/requests/{rid}/hold", json={"reason": "外出"}))
    s.worker()
    offer_ids = _offer_of(partner, living_ids)
    assert len(offer_ids) == len(living_ids), "every living need should be offered to partner P"
    ordered = [offer_ids[rid] for rid in living_ids]
    n_prog = wanted["in_progress_request"]
    pools["in_progress_request"] = living_ids[:n_prog]
    rest = ordered[n_prog:]
    pools["received_offer"] = rest[: wanted["received_offer"]]
    rest = rest[wanted["received_offer"] :]
    pools["accepted_offer"] = rest[: wanted["accepted_offer"]]
    rest = rest[wanted["accepted_offer"] :]
    pools["disbursed_offer"] = rest[: wanted["disbursed_offer"]]
    tail = rest[wanted["disbursed_offer"] :]
    paid_offers, paid_in_full = tail[:paid], tail[paid:]
    for oid in ordered[:n_prog] + pools["accepted_offer"] + pools["disbursed_offer"] + tail:
        _ok(partner.post(f"{API}/offers/{oid}/accept", json={}))
    for oid in pools["disbursed_offer"] + paid_offers:
        _ok(partner.post(f"{API}/offers/{oid}/disbursements", json={"amount_fen": 10 * YUAN, "kind": "cash"}), 201)
    for oid in paid_offers:
        s.disbursement_of[oid] = _ok(partner.get(f"{API}/offers/{oid}/disbursements"))["items"][0]["id"]
    pools["reversible_offer"] = paid_offers[: wanted["reversible_offer"]]
    paid_offers = paid_offers[wanted["reversible_offer"] :]
    reversible = paid_offers[: wanted["reversible_disbursement"]]
    pools["reversible_disbursement"] = [s.disbursement_of[oid] for oid in reversible]
    for oid in paid_offers[wanted["reversible_disbursement"] :]:
        body = {"reason": "金额录错"}
        made = _ok(partner.post(f"{API}/disbursements/{s.disbursement_of[oid]}/reversal", json=body), 201)
        pools["pending_reversal"].append(made["id"])
    for oid in paid_in_full:  # the request completes: a follow-up visit is scheduled for it
        _ok(partner.post(f"{API}/offers/{oid}/disbursements", json={"amount_fen": 500 * YUAN, "kind": "cash"}), 201)
    completed = living_ids[len(living_ids) - len(paid_in_full) :]
    pools["follow_up"] = list(_follow_ups_of(completed).values())
    if wanted["disbursement"]:
        pools["disbursement"] = _disbursements(s, wanted["disbursement"])
    s.pools = pools


def _disbursements(s: Scenario, count: int) -> list[int]:
    """Paid living needs of a household on grid A that agreed to text messages."""
    body = {**_household_body(s), "consent_to_share": True, "phone": "139 0113 9000"}
    household = _ok(s.api["admin"].post(f"{API}/households", json=body), 201)["id"]
    agree(s.api["caseworker"], household, "sms")
    need = {"category": "living", "urgency": "normal", "amount_fen": 500 * YUAN, "description": "生活困难"}
    request_ids = _need_request_ids(s.api["caseworker"], household, [need] * count)
    s.worker()
    partner = s.api["partner"]
    paid = []
    for oid in _offer_of(partner, request_ids).values():
        _ok(partner.post(f"{API}/offers/{oid}/accept", json={}))
        body = {"amount_fen": 10 * YUAN, "kind": "cash"}
        paid.append(_ok(partner.post(f"{API}/offers/{oid}/disbursements", json=body), 201)["id"])
    return paid


def pool_sizes() -> Counter:
    """How many fresh objects of each kind the table's succeeding calls need."""
    wanted: Counter = Counter()
    for row in TABLE.values():
        if row.fresh:
            wanted[row.fresh] += sum(1 for role in ROLES if not refused(row, role))
    return wanted


def _counts() -> tuple[int, int]:
    session = db.session()
    counts = (
        session.execute(select(func.count()).select_from(AuditEvent)).scalar_one(),
        session.execute(select(func.count()).select_from(OutboxMessage)).scalar_one(),
    )
    db.session.remove()
    return counts


def call(s: Scenario, key: tuple[str, str], role: str) -> Any:
    """Make one row's call as one role; returns the response."""
    method, _rule = key
    row = TABLE[key]
    path, body = s.fill(row, role, succeeds=not refused(row, role))
    if not path.startswith(API):
        page = Page(s.app, None if role == "anon" else s.usernames[role]) if row.new_session else s.page(role)
        return page.call(method, path, body, row.form)
    client = s.api[role]
    if method == "GET":
        return client.get(path)
    return getattr(client, method.lower())(path, json=body)


@pytest.fixture
def scenario(app, make_user, login, as_role, worker) -> Scenario:
    return build_scenario(app, make_user, login, as_role, worker, pool_sizes())


# --- the tests --------------------------------------------------------------------------------


def test_every_route_has_a_row(app):
    """Each route the app registers has a row in the access table, and every row names a real route."""
    routes = registered_routes(app)
    missing = sorted(routes - set(TABLE))
    stale = sorted(set(TABLE) - routes)
    assert not missing, f"routes without a row in the access matrix (decide who may call them): {missing}"
    assert not stale, f"rows for routes that no longer exist: {stale}"


def test_every_route_answers_every_role_exactly(scenario):
    """Every endpoint × every role gets exactly the status in the table; a refused call
    writes nothing (no audit event, no outbox row); API refusals use the error envelope."""
    mismatches = []
    for key in sorted(TABLE):
        row = TABLE[key]
        for role in ROLES:
            expected = row.expect[role]
            before = _counts() if refused(row, role) else None
            resp = call(scenario, key, role)
            got = resp.status_code
            if got != expected:
                mismatches.append(f"{key[0]} {key[1]} as {role}: expected {expected}, got {got}")
                continue
            if before is not None:
                after = _counts()
                if after != before:
                    mismatches.append(f"{key[0]} {key[1]} as {role}: refused with {got} but wrote {before}→{after}")
                if key[1].startswith(API):
                    error = (resp.get_json(silent=True) or {}).get("error") or {}
                    if not {"code", "message", "details"} <= set(error):
                        mismatches.append(f"{key[0]} {key[1]} as {role}: {got} without the error envelope")
                elif got == PAGE_ANON and "/login" not in resp.headers.get("Location", ""):
                    mismatches.append(f"{key[0]} {key[1]} as {role}: sent to {resp.headers.get('Location')}")
    assert not mismatches, "\n".join(mismatches)


def _texts_of(resp: Any) -> str:
    """A response as text: JSON and pages as they are, XLSX as every cell's value."""
    if resp.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":
        book = load_workbook(io.BytesIO(resp.get_data()), read_only=True)
        return "\n".join(
            " ".join("" if v is None else str(v) for v in row)
            for sheet in book.worksheets
            for row in sheet.iter_rows(values_only=True)
        )
    return resp.get_data(as_text=True)


def _secrets_in(text: str, s: Scenario, *, names: bool) -> list[str]:
    """The scenario's ID numbers (whole, in lower case, or their first 14 digits, which
    already name a person) and, if asked, its members' full names, found in ``text``."""
    found = [n for n in s.id_numbers if n in text or n.lower() in text or n[:14] in text]
    if names:
        found += [n for n in s.names if n in text]
    return found


def test_partners_never_see_identity_numbers_or_names(app, make_user, login, as_role, worker, caplog):
    """Walking every route a partner may reach (API and portal, its own and another partner's
    view), no ID number of the family appears — not even one a caseworker typed into a
    description — and no full name, since the family did not consent; nor does any ID number
    appear in any log line, in the audit trail, or in the ledger and disbursement exports."""
    caplog.set_level(logging.DEBUG)
    s = build_scenario(app, make_user, login, as_role, worker)
    leaks = []
    for role in ("partner", "other_partner"):
        for key, row in sorted(TABLE.items()):
            if key[0] != "GET" or row.expect[role] != 200 or row.fresh:
                continue
            resp = call(s, key, role)
            assert resp.status_code == 200, (key, role, resp.status_code)
            text = _texts_of(resp)
            leaks += [f"{role} GET {key[1]}: {x}" for x in _secrets_in(text, s, names=True)]
    # What the partner reads of its own offers is what it acts on: the one with the typed ID.
    own = s.api["partner"].get(f"{API}/offers/{s.offer}").get_json()
    assert "[ID number removed]" in own["description"]
    assert own["household"] == "张** household"

    auditor = s.api["auditor"]
    exports = [
        f"{API}/ledger?format=csv",
        f"{API}/ledger?format=xlsx",
        f"{API}/reports/disbursements?format=csv",
        f"{API}/reports/disbursements?format=xlsx",
        f"{API}/reports/disbursements?group_by=grid&format=xlsx",
        f"{API}/audit/events?per_page=200",
        "/auditor/exports/ledger.csv",
        "/auditor/exports/disbursements-by-partner.xlsx",
        f"{API}/requests/{s.request}/timeline",
    ]
    for path in exports:
        resp = auditor.get(path) if path.startswith(API) else s.page("auditor").call("GET", path, None, False)
        assert resp.status_code == 200, (path, resp.status_code, resp.get_data(as_text=True)[:300])
        leaks += [f"auditor GET {path}: {x}" for x in _secrets_in(_texts_of(resp), s, names=False)]

    for record in caplog.records:
        line = record.getMessage() + (record.exc_text or "")
        leaks += [f"log {record.name}: {x}" for x in _secrets_in(line, s, names=False)]
    assert caplog.records, "the scenario should have logged something to inspect"
    assert not leaks, "\n".join(leaks)
