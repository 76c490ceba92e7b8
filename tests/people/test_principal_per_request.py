"""The principal of an API request is read in one round trip, and kept by the process
only until any token, user, grid assignment or region changes, in any process: a
revoked token, a deactivated user and a caseworker's changed grids take effect with the
very next request (from another process: as soon as Redis delivers its word)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from broker.people import accounts, users
from broker.platform import db, queue, security
from models import User
from models.base import utcnow
from tests.conftest import wait_for
from tests.platform.test_skeleton import assert_error_shape
from tests.support import statements
from tests.support.aid import make_world

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def world(as_role, make_user, login):
    return make_world(as_role, make_user, login)


@pytest.fixture(autouse=True)
def kept(app) -> None:
    """Every test here runs with principals kept (the process hears other processes)."""
    wait_for(users._PRINCIPALS.current, timeout=10)


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


def _principal_reads(seen: list[str]) -> list[str]:
    return [s for s in seen if "api_tokens" in s]


def test_a_kept_principal_costs_no_statement(world, make_user, login):
    """While nothing changes, the second request with a token reads no principal."""
    _name, client = _caseworker(world, make_user, login)
    hh = world.household()
    assert client.get(f"/api/v1/households/{hh}/assessments").status_code == 200
    with statements.sent() as seen:
        assert client.get(f"/api/v1/households/{hh}/assessments").status_code == 200
    assert _principal_reads(seen) == []


def test_an_expired_token_is_refused_though_its_principal_was_kept(world, make_user, login, monkeypatch):
    _name, client = _caseworker(world, make_user, login)
    hh = world.household()
    assert client.get(f"/api/v1/households/{hh}/assessments").status_code == 200
    assert security.token_hash(client.token) in users._kept
    later = utcnow() + timedelta(days=400)
    monkeypatch.setattr(users, "utcnow", lambda: later)
    with statements.sent() as seen:
        assert_error_shape(client.get(f"/api/v1/households/{hh}/assessments"), 401, "invalid_token")
    assert len(_principal_reads(seen)) == 1  # looked at again, not taken from what was kept


def test_a_deactivation_in_another_process_is_heard(app, world, make_user, login):
    """Another process (a real one, with its own session) deactivates the user: once
    Redis has delivered its word, the next request here is refused."""
    name, client = _caseworker(world, make_user, login)
    hh = world.household()
    assert client.get(f"/api/v1/households/{hh}/assessments").status_code == 200
    before = users._PRINCIPALS.current()
    code = (
        "import sys\n"
        "from broker.factory import create_app\n"
        "from broker.platform import db\n"
        "from models import User\n"
        "app = create_app({'DATABASE_URL': sys.argv[1], 'REDIS_URL': sys.argv[2], 'INSTANCE_PATH': sys.argv[3]})\n"
        "with app.app_context():\n"
        "    db.session().get(User, int(sys.argv[4])).is_active = False\n"
        "    db.commit()\n"
    )
    args = [app.config["DATABASE_URL"], queue.url(), app.instance_path, str(_user_id(name))]
    db.session.remove()  # this test's own snapshot ends here, as a request's does
    subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, check=True, timeout=120, env={**os.environ})
    wait_for(lambda: users._PRINCIPALS.current() != before, timeout=10, interval=0.01)
    assert_error_shape(client.get(f"/api/v1/households/{hh}/assessments"), 401, "invalid_token")


def test_a_sign_in_keeps_what_others_hold(world, make_user, login):
    """A new token changes no principal already read: other users' stay kept."""
    name, client = _caseworker(world, make_user, login)
    hh = world.household()
    assert client.get(f"/api/v1/households/{hh}/assessments").status_code == 200
    before = users._PRINCIPALS.current()
    login(name)  # the same user signs in again on another phone
    assert users._PRINCIPALS.current() == before
    with statements.sent() as seen:
        assert client.get(f"/api/v1/households/{hh}/assessments").status_code == 200
    assert _principal_reads(seen) == []
