"""One-time form keys: a form that creates something carries a key generated when it was
shown (the hidden ``once_key`` field of ``forms.OnceForm``), and ``@once`` makes a second POST with that key —
a double tap on a slow phone, the Back button and "send again" — land where the first
one did, with the same message, instead of doing the work twice.

It is the API's ``Idempotency-Key`` machinery (:mod:`broker.platform.idempotency`): the key is
claimed first thing in the view's transaction, and the view's commit is held until the
redirect and its messages are stored with the key, so the work and the key commit
together or not at all. A form refused (bad input, a domain error) keeps nothing: the
same key may be sent again with the corrections."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import current_app, flash, redirect, request, session
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from broker.platform import db, idempotency
from broker.platform.errors import DomainError
from broker.portal.auth import current_principal

FIELD = "once_key"
_SKIPPED = ("csrf_token", FIELD)


def _fingerprint() -> str:
    fields = {name: request.form.getlist(name) for name in sorted(request.form) if name not in _SKIPPED}
    files = {}
    for name, file in request.files.items(multi=True):
        data = file.read()
        file.seek(0)
        files.setdefault(name, []).append((file.filename or "", data))
    return idempotency.form_fingerprint(request.method, request.path, fields, files)


def _replay(stored: idempotency.StoredResponse, notice: str | None = None) -> Response:
    body = stored.body if isinstance(stored.body, dict) else {}
    for category, message in body.get("flashes") or []:
        flash(message, category)
    if notice:
        flash(notice, "warning")
    return redirect(body.get("location") or "/", code=stored.status_code if 300 <= stored.status_code < 400 else 303)


def once(view: Callable) -> Callable:
    """Make a portal POST view do its work once per form key (see the module's docstring)."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        key = (request.form.get(FIELD) or "").strip() if request.method == "POST" else ""
        if not key:
            return view(*args, **kwargs)
        principal = current_principal()
        s = db.session()
        try:
            claimed = idempotency.claim(
                s, principal.user_id, key, method=request.method, path=request.path, fingerprint=_fingerprint()
            )
        except DomainError as exc:
            db.session.rollback()
            first = idempotency.stored(s, principal.user_id, key) if exc.code == "idempotency_key_reused" else None
            if first is None:
                raise
            return _replay(first, _("This form was already sent, so it was not sent again. Open it anew to send more."))
        if isinstance(claimed, idempotency.StoredResponse):
            db.session.rollback()
            return _replay(claimed)
        s.info[db.HOLD_COMMIT] = True
        s.info.pop(db.COMMIT_REQUESTED, None)
        before = len(session.get("_flashes", []))
        try:
            resp = current_app.make_response(view(*args, **kwargs))
        except BaseException:
            s.info.pop(db.HOLD_COMMIT, None)
            db.session.rollback()
            raise
        s.info.pop(db.HOLD_COMMIT, None)
        if not s.info.pop(db.COMMIT_REQUESTED, False):
            db.session.rollback()
        elif 300 <= resp.status_code < 400:
            flashes = [list(pair) for pair in session.get("_flashes", [])[before:]]
            idempotency.complete(s, claimed, resp.status_code, {"location": resp.location, "flashes": flashes})
            db.commit()
        else:
            idempotency.abandon(s, claimed)
            db.commit()
        return resp

    return wrapped
