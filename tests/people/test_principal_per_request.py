"""The principal of an API request is read once, in one round trip, and afresh on every
request: a revoked token, a deactivated user and a caseworker's changed grids take
effect with the very next request."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from broker.people import accounts, users
from broker.platform import db
from models import User
from tests.platform.test_skeleton import assert_error_shape
from tests.support import statements
from tests.support.aid import make_world


@pytest.fixture
def world(as_role, make_user, login):
    return make_world(as_role, make_user, login)


def _admin() -> object:
    """An admin principal for the domain calls an admin's page makes."""
    user = users.create_user(db.session(), username="root-admin", password="correct-horse-9", role="admin")
    db.commit()
    return users.principal_of(user)


def _user_id(username: str) -> int:
    return db.session().execute(select(User.id).where(User.username == username)).scalar_one()


def _caseworker(world, make_user, login) -> tuple[str, object]:
    name = make_user("caseworker", grids=(world.grid,))
    return name, login(name)


def test_the_principal_is_one_statement(world, make_user, login):
    """A signed-in request reads its token, user, grids and language in one statement."""
    _name, client = _caseworker(world, make_user, login)
    hh = world.household()
    db.session.remove()
    with statements.sent() as seen:
        assert client.get(f"/api/v1/households/{hh}/assessments").status_code == 200
    principal = [s for s in seen if "api_tokens" in s or "user_grids" in s or " FROM users" in s]
    assert len(principal) == 1, principal
    assert "JOIN users" in principal[0]
    assert "user_grids" in principal[0]


def test_a_revoked_token_is_refused_at_once(world, make_user, login):
    """A password reset ends the user's tokens: the next request with one is a 401."""
    name, client = _caseworker(world, make_user, login)
    hh = world.household()
    assert client.get(f"/api/v1/households/{hh}/assessments").status_code == 200
    accounts.reset_password(db.session(), _admin(), _user_id(name), "another-horse-77")
    db.commit()
    assert_error_shape(client.get(f"/api/v1/households/{hh}/assessments"), 401, "invalid_token")


def test_a_deactivated_user_is_refused_at_once(world, make_user, login):
    """Deactivating an account stops its next request, whatever its token."""
    name, client = _caseworker(world, make_user, login)
    hh = world.household()
    assert client.get(f"/api/v1/households/{hh}/assessments").status_code == 200
    accounts.set_active(db.session(), _admin(), _user_id(name), False)
    db.commit()
    assert_error_shape(client.get(f"/api/v1/households/{hh}/assessments"), 401, "invalid_token")


def test_a_user_marked_inactive_with_a_live_token_is_refused(world, make_user, login):
    """Even a token left in place (a direct change of the flag) does not let an inactive user in."""
    name, client = _caseworker(world, make_user, login)
    hh = world.household()
    db.session().get(User, _user_id(name)).is_active = False
    db.commit()
    assert_error_shape(client.get(f"/api/v1/households/{hh}/assessments"), 401, "invalid_token")


def test_changed_grids_take_effect_at_once(world, make_user, login):
    """Moved to another grid, a caseworker no longer sees the old grid's household on the
    next request, and sees the new grid's; given no grid, sees neither."""
    name, client = _caseworker(world, make_user, login)
    old = world.household()
    other = make_world(lambda _role: world.admin, make_user, login)
    new = other.household()
    assert client.get(f"/api/v1/households/{old}/assessments").status_code == 200
    assert client.get(f"/api/v1/households/{new}/assessments").status_code == 404
    admin = _admin()
    accounts.update(db.session(), admin, _user_id(name), {"grid_codes": [other.grid]}, allowed_locales=("zh_CN", "en"))
    db.commit()
    assert client.get(f"/api/v1/households/{old}/assessments").status_code == 404
    assert client.get(f"/api/v1/households/{new}/assessments").status_code == 200
    accounts.update(db.session(), admin, _user_id(name), {"grid_codes": []}, allowed_locales=("zh_CN", "en"))
    db.commit()
    assert client.get(f"/api/v1/households/{new}/assessments").status_code == 404
