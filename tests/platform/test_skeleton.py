"""The walking skeleton: sign-in, the error envelope, OpenAPI and docs, health, a real
RQ round trip, the CLI, and migrations that match the models."""

from __future__ import annotations

import os
import subprocess
import sys

from openapi_spec_validator import validate as validate_openapi
from rq import SimpleWorker

from broker.platform import db, migrate, queue, security
from models import ApiToken
from tests.conftest import PASSWORD


def assert_error_shape(resp, status: int, code: str | None = None) -> dict:
    assert resp.status_code == status, resp.data
    assert resp.mimetype == "application/json"
    err = resp.get_json()["error"]
    assert set(err) == {"code", "message", "details"}
    assert err["message"]
    if code:
        assert err["code"] == code
    return err


def test_token_for_good_credentials(client, make_user):
    """A user signs in with username and password and gets a bearer token that works."""
    name = make_user("admin")
    resp = client.post("/api/v1/auth/token", json={"username": name, "password": PASSWORD})
    assert resp.status_code == 200
    token = resp.get_json()["token"]
    assert len(token) >= 32


def test_tokens_are_stored_hashed(client, make_user):
    """Only the SHA-256 of a token is kept: the database never holds the token itself."""
    name = make_user("auditor")
    token = client.post("/api/v1/auth/token", json={"username": name, "password": PASSWORD}).get_json()["token"]
    stored = db.session().query(ApiToken.token_hash).all()
    assert [row.token_hash for row in stored] == [security.token_hash(token)]
    assert token not in {row.token_hash for row in stored}


def test_bad_credentials_are_401_in_the_error_shape(client, make_user):
    name = make_user("caseworker")
    resp = client.post("/api/v1/auth/token", json={"username": name, "password": "wrong-password"})
    assert_error_shape(resp, 401, "invalid_credentials")
    resp = client.post("/api/v1/auth/token", json={"username": "nobody", "password": "whatever1"})
    assert_error_shape(resp, 401, "invalid_credentials")


def test_missing_fields_are_422_with_field_details(client):
    err = assert_error_shape(client.post("/api/v1/auth/token", json={"username": "x"}), 422, "validation_error")
    assert "password" in err["details"]
    err = assert_error_shape(
        client.post("/api/v1/auth/token", data="not json", content_type="application/json"), 400, "bad_request"
    )
    assert "JSON" in err["message"]


def test_unknown_api_path_is_404_json(client):
    assert_error_shape(client.get("/api/v1/no-such-thing"), 404, "not_found")


def test_wrong_method_is_405_json(client):
    assert_error_shape(client.get("/api/v1/auth/token"), 405, "method_not_allowed")


def test_openapi_document_is_valid(client):
    resp = client.get("/api/v1/openapi.json")
    assert resp.status_code == 200
    spec = resp.get_json()
    assert spec["openapi"].startswith("3.")
    validate_openapi(spec)
    assert "/api/v1/auth/token" in spec["paths"]


def test_docs_page_is_served_without_a_cdn(client):
    """The browsable docs and their assets come from the app itself (works offline)."""
    page = client.get("/api/v1/docs/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "swagger-ui-bundle.js" in html
    assert "https://" not in html.split("<body>")[0]
    assert client.get("/api/v1/docs/swagger-ui-bundle.js").status_code == 200


def test_healthz_checks_database_and_redis(client):
    resp = client.get("/healthz")
    assert resp.status_code == 200
    assert resp.get_json() == {"ok": True, "database": "ok", "redis": "ok"}


def test_real_rq_worker_round_trip():
    """A job goes through the real Redis and comes back from a real RQ worker."""
    q = queue.queue()
    job = q.enqueue("broker.jobs.noop", 41)
    SimpleWorker([q], connection=queue.connection()).work(burst=True)
    job.refresh()
    assert job.get_status() == "finished"
    assert job.return_value() == 41


def test_migrations_match_the_models():
    """Upgrading from empty (done by the session fixture) gives exactly the models' schema."""
    assert migrate.drift() == []


def test_one_alembic_head():
    from alembic.script import ScriptDirectory

    heads = ScriptDirectory.from_config(migrate.alembic_config()).get_heads()
    assert len(heads) == 1, heads


def test_users_create_cli(app):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["users", "create", "--username", "ops", "--password", "long-enough-1", "--role", "admin"]
    )
    assert result.exit_code == 0, result.output
    assert "created user ops" in result.output
    result = runner.invoke(
        args=["users", "create", "--username", "ops", "--password", "long-enough-1", "--role", "admin"]
    )
    assert result.exit_code == 2
    assert "taken" in result.output
    result = runner.invoke(
        args=["users", "create", "--username", "p1", "--password", "long-enough-1", "--role", "partner"]
    )
    assert result.exit_code == 2
    assert "--partner" in result.output


def test_app_module_imports_cleanly(tmp_path):
    """``app.py`` builds the app from the environment alone (as gunicorn and flask do)."""
    env = {**os.environ, "INSTANCE_PATH": str(tmp_path)}
    out = subprocess.run(
        [sys.executable, "-c", "import app; print(app.app.name)"], capture_output=True, text=True, timeout=60, env=env
    )
    assert out.returncode == 0, out.stderr
    assert "aidbroker" in out.stdout
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0, "secrets must be private to the owner"
