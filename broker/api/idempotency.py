"""``@idempotent``: the ``Idempotency-Key`` header on POSTs that create requests or move
money. Put it above the flask-smorest decorators, so that it sees the final response::

    @idempotent
    @blp.arguments(DepositIn)
    @blp.response(201, TransactionOut)
    def post(self, body): ...

Without the header the view runs as usual. With it, the key is claimed first thing in
the request's transaction; the view's ``db.commit()`` is held until the response is
known and stored with the key, then everything commits at once (see
:mod:`broker.platform.idempotency`). A repeat gets the stored status and body with
``Idempotency-Replayed: true``; a key reused for a different request is a 422
``idempotency_key_reused``."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from copy import deepcopy
from functools import wraps
from typing import Any

from flask import current_app, jsonify, request

from broker.api.auth import current_principal
from broker.platform import db, idempotency

REPLAYED_HEADER = "Idempotency-Replayed"

HEADER_DOC = {
    "in": "header",
    "name": idempotency.HEADER,
    "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": idempotency.MAX_KEY_LENGTH},
    "description": (
        "Makes a retry safe: the same key with the same body replays the first response "
        f"(with `{REPLAYED_HEADER}: true`) instead of doing the work again; the same key "
        "with a different body is a 422 `idempotency_key_reused`. Keys are per user, up to "
        f"{idempotency.MAX_KEY_LENGTH} visible ASCII characters (a UUID is ideal)."
    ),
}


def _body() -> bytes:
    """The body as compared between repeats. A multipart body differs byte for byte on
    every retry (a new boundary), so its fields and files' SHA-256 stand for it."""
    if request.mimetype != "multipart/form-data":
        return request.get_data()
    files = {}
    for name, file in request.files.items(multi=True):
        digest = hashlib.sha256(file.read()).hexdigest()
        file.seek(0)
        files.setdefault(name, []).append([file.filename or "", digest])
    form = {name: request.form.getlist(name) for name in request.form}
    return json.dumps({"form": form, "files": files}, sort_keys=True).encode()


def idempotent(view: Callable) -> Callable:
    """Make a POST view replay its first successful response for a repeated key."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        key = request.headers.get(idempotency.HEADER)
        if key is None:
            return view(*args, **kwargs)
        principal = current_principal()
        session = db.session()
        claimed = idempotency.claim(
            session,
            principal.user_id,
            key,
            method=request.method,
            path=request.path,
            fingerprint=idempotency.fingerprint(request.method, request.path, _body()),
        )
        if isinstance(claimed, idempotency.StoredResponse):  # nothing written; the teardown ends the transaction
            resp = jsonify(claimed.body)
            resp.status_code = claimed.status_code
            resp.headers[REPLAYED_HEADER] = "true"
            return resp
        session.info[db.HOLD_COMMIT] = True
        session.info.pop(db.COMMIT_REQUESTED, None)
        try:
            resp = current_app.make_response(view(*args, **kwargs))
        except BaseException:
            session.info.pop(db.HOLD_COMMIT, None)
            session.rollback()
            raise
        session.info.pop(db.HOLD_COMMIT, None)
        wanted_commit = session.info.pop(db.COMMIT_REQUESTED, False)
        if not wanted_commit:
            session.rollback()
        elif 200 <= resp.status_code < 300 and resp.is_json:
            idempotency.complete(session, claimed, resp.status_code, resp.get_json())
            db.commit()
        else:
            idempotency.abandon(session, claimed)
            db.commit()
        return resp

    doc = deepcopy(getattr(wrapped, "_apidoc", {}))
    doc.setdefault("arguments", {}).setdefault("parameters", []).append(deepcopy(HEADER_DOC))
    wrapped._apidoc = doc
    return wrapped
