"""A volunteer's ID number is kept as members' are, and rotates with them: after `keys
rotate` and the old key dropped, it still decrypts, its keyed hash is the new key's,
and the same person still cannot sign up twice."""

from __future__ import annotations

from datetime import date

from cryptography.fernet import Fernet
from sqlalchemy import select

from broker.platform import db, runtime, security
from broker.registry import identity
from models import Volunteer
from tests.community.volunteer_world import make_team, ok
from tests.conftest import PASSWORD, ApiClient
from tests.support.aid import make_world


def test_a_volunteers_id_number_rotates_with_the_data_key(app, client, as_role, make_user, login, monkeypatch):
    world = make_world(as_role, make_user, login)
    team = make_team(world)
    number = identity.make("420106", date(1990, 6, 1), "222")
    body = {"team": team.id, "name": "周晓燕", "phone": "13911112222", "password": PASSWORD, "consent": True}
    anon = ApiClient(client)
    ok(anon.post("/api/v1/volunteers", json={**body, "username": "zhou-key", "id_number": number}), 201)
    old = runtime.settings()["DATA_KEY"]
    monkeypatch.setitem(runtime.settings(), "DATA_KEY", Fernet.generate_key().decode())
    monkeypatch.setitem(runtime.settings(), "DATA_KEYS_OLD", old)
    result = app.test_cli_runner().invoke(args=["keys", "rotate"])
    assert result.exit_code == 0, result.output
    assert "can now be removed" in result.output
    monkeypatch.setitem(runtime.settings(), "DATA_KEYS_OLD", None)
    db.session.remove()
    row = db.session().execute(select(Volunteer)).scalar_one()
    assert security.decrypt(row.id_number_enc) == number
    assert row.id_hash == security.keyed_hash(number)
    twice = anon.post("/api/v1/volunteers", json={**body, "username": "zhou-key-2", "id_number": number})
    assert twice.status_code == 409
    assert twice.get_json()["error"]["code"] == "already_signed_up"
