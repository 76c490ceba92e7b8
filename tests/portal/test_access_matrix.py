"""Every page of the portal against every role: a page opens (200) for the roles it
names, is refused (403) to the others, and sends a visitor to sign in (302). New pages
are picked up from the URL map, so none can be added without a role check."""

from __future__ import annotations

import pytest

from broker.platform import db
from tests.conftest import PASSWORD

ROLES = ("partner", "caseworker", "auditor", "admin", "volunteer", "reporter")


def _pages(app) -> list[tuple[str, tuple[str, ...]]]:
    pages = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("portal_") or rule.arguments or "GET" not in rule.methods:
            continue
        view = app.view_functions[rule.endpoint]
        roles = getattr(view, "portal_roles", None)
        if roles is not None:
            pages.append((rule.rule, roles))
    return sorted(pages)


def test_every_portal_page_declares_its_roles(app):
    """Every portal page but the sign-in page and the public concern pages is behind a role check."""
    open_pages = {
        rule.rule
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("portal_")
        and "GET" in rule.methods
        and not rule.arguments
        and getattr(app.view_functions[rule.endpoint], "portal_roles", None) is None
    }
    # The public's voice, and a volunteer's or a mobile grid member's sign-up, need no account.
    assert open_pages == {"/login", "/concerns/new", "/concerns/status", "/volunteers/join", "/reporters/join"}


def _volunteer(as_role) -> str:
    """A volunteer signed up with a team, as volunteers get their accounts."""
    admin = as_role("admin")
    team = admin.post(
        "/api/v1/partners",
        json={
            "name": "武昌区志愿服务队",
            "kind": "volunteer_team",
            "adapter": "portal",
            "categories": ["counselling"],
            "regions": ["*"],
        },
    )
    assert team.status_code == 201, team.get_json()
    body = {
        "team": team.get_json()["id"],
        "name": "周晓燕",
        "phone": "13911112222",
        "username": "matrix-volunteer",
        "password": PASSWORD,
        "consent": True,
    }
    resp = admin.post("/api/v1/volunteers", json=body)
    assert resp.status_code == 201, resp.get_json()
    return body["username"]


def _reporter(as_role) -> str:
    """A mobile grid member, signed up as they get their accounts."""
    body = {
        "name": "王骑手",
        "phone": "13712345678",
        "username": "matrix-reporter",
        "password": PASSWORD,
        "consent": True,
    }
    resp = as_role("admin").post("/api/v1/reporters", json=body)
    assert resp.status_code == 201, resp.get_json()
    return body["username"]


@pytest.mark.parametrize("role", ROLES)
def test_each_role_opens_its_pages_and_is_refused_the_others(app, new_portal, make_user, as_role, role):
    """For one role: 200 on its own pages, 403 on the rest; a visitor is sent to sign in."""
    kwargs = {}
    if role == "partner":
        resp = as_role("admin").post(
            "/api/v1/partners",
            json={
                "name": "社区互助基金",
                "kind": "mutual_aid_fund",
                "adapter": "portal",
                "categories": ["living"],
                "regions": ["*"],
            },
        )
        assert resp.status_code == 201, resp.get_json()
        kwargs["partner_id"] = resp.get_json()["id"]
    if role in ("volunteer", "reporter"):
        username = _volunteer(as_role) if role == "volunteer" else _reporter(as_role)
    else:
        username = make_user(role, **kwargs)
    db.session.remove()
    reader, visitor = new_portal(), new_portal()
    reader.login(username)
    pages = _pages(app)
    assert len(pages) >= 8
    for path, roles in pages:
        expected = 200 if role in roles else 403
        assert reader.get(path).status_code == expected, (path, role)
        assert visitor.get(path).status_code == 302, path
