"""Rotating DATA_KEY without downtime: while both keys are valid the registry works
(old numbers read, duplicates still caught, search by ID still finds), `keys rotate`
re-encrypts and rehashes every ID number in batches, a second run has nothing to do, and
after the old key is dropped every ID number still decrypts and is still found."""

from __future__ import annotations

from datetime import date

import pytest
from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import select

from broker.platform import db, runtime, security
from broker.registry import identity
from models import AuditEvent, Member
from tests.support.aid import make_world

COUNT = 7


def _numbers() -> list[str]:
    return [identity.make("110105", date(1970 + i, 1 + i, 1 + i), f"{i:03d}") for i in range(COUNT)]


@pytest.fixture
def registered(as_role, make_user, login):
    """Households with ID numbers, written under the key in place before the rotation."""
    world = make_world(as_role, make_user, login)
    for i, number in enumerate(_numbers()):
        resp = world.caseworker.post(
            "/api/v1/households",
            json={
                "grid": world.grid,
                "address": f"幸福路{i}号",
                "head_name": f"张{i}",
                "monthly_income_fen": 100000,
                "members": [{"name": f"张{i}", "relation": "head", "id_number": number}],
            },
        )
        assert resp.status_code == 201, resp.get_json()
    return world


def _members() -> list[Member]:
    db.session.remove()
    return list(db.session().execute(select(Member).order_by(Member.id)).scalars())


def test_rotation_re_encrypts_every_id_and_the_old_key_can_then_be_dropped(app, registered, monkeypatch):
    """Both keys valid meanwhile; the command rotates all (batches of 3), reports it is
    done, is a no-op the second time; without the old key every number still decrypts."""
    old = runtime.settings()["DATA_KEY"]
    new = Fernet.generate_key().decode()
    monkeypatch.setitem(runtime.settings(), "DATA_KEY", new)
    monkeypatch.setitem(runtime.settings(), "DATA_KEYS_OLD", old)
    world = registered
    # Meanwhile: an old number still reads, is still found, and still counts as taken.
    assert {identity.parse(security.decrypt(m.id_number_enc))[0] for m in _members()} == set(_numbers())
    found = world.caseworker.get(f"/api/v1/households?q={_numbers()[2]}").get_json()
    assert found["total"] == 1
    again = world.caseworker.post(
        "/api/v1/households",
        json={
            "grid": world.grid,
            "address": "另一处幸福路9号",
            "head_name": "冒名",
            "monthly_income_fen": 100000,
            "members": [{"name": "冒名", "relation": "head", "id_number": _numbers()[0]}],
        },
    )
    assert again.status_code == 409, again.get_json()
    assert again.get_json()["error"]["code"] == "duplicate_person"

    result = app.test_cli_runner().invoke(args=["keys", "rotate", "--batch", "3"])
    assert result.exit_code == 0, result.output
    assert "can now be removed" in result.output
    assert f"re-encrypted {COUNT}" in result.output
    for member in _members():
        assert security.under_current_key(member.id_number_enc)
        with pytest.raises(InvalidToken):
            Fernet(old.encode()).decrypt(member.id_number_enc)
    second = app.test_cli_runner().invoke(args=["keys", "rotate"])
    assert second.exit_code == 0
    assert "re-encrypted 0" in second.output

    monkeypatch.setitem(runtime.settings(), "DATA_KEYS_OLD", None)
    numbers = [identity.parse(security.decrypt(m.id_number_enc))[0] for m in _members()]
    assert sorted(numbers) == sorted(_numbers())
    assert all(m.id_hash == security.keyed_hash(n) for m, n in zip(_members(), numbers, strict=True))
    assert world.caseworker.get(f"/api/v1/households?q={_numbers()[4]}").get_json()["total"] == 1
    events = db.session().execute(select(AuditEvent).where(AuditEvent.action == "keys.rotated")).scalars().all()
    assert len(events) == 2


def test_a_rotation_cut_short_goes_on_where_it_stopped(app, registered, monkeypatch):
    """One batch rotated and committed, the run stops: the next run finishes the rest and
    counts the first batch as already done."""
    from broker.registry import key_rotation

    old = runtime.settings()["DATA_KEY"]
    monkeypatch.setitem(runtime.settings(), "DATA_KEY", Fernet.generate_key().decode())
    monkeypatch.setitem(runtime.settings(), "DATA_KEYS_OLD", old)
    session = db.session()
    _last, first = key_rotation.rotate_batch(session, 0, 3)
    db.commit()
    assert first.rotated == 3
    assert key_rotation.remaining(db.session()) == COUNT - 3
    result = key_rotation.rotate(db.session(), db.commit, batch=2)
    assert (result.rotated, result.current, result.remaining) == (COUNT - 3, 3, 0)


def test_a_malformed_old_key_stops_start_up(tmp_path):
    """DATA_KEYS_OLD is checked when the settings load, not when the first ID is read."""
    from config.settings import load_settings

    with pytest.raises(ValueError, match="Fernet key"):
        load_settings({"INSTANCE_PATH": str(tmp_path), "DATA_KEYS_OLD": "not-a-key"}, environ={})
    good = Fernet.generate_key().decode()
    assert load_settings({"INSTANCE_PATH": str(tmp_path), "DATA_KEYS_OLD": good}, environ={})["DATA_KEYS_OLD"] == good
