"""The portal: server-rendered pages where partners, caseworkers and auditors work in a
browser, in Chinese (default) or English.

Thin over the same domain functions as the API: a view parses a form, authorises,
calls one domain function, commits, renders. It never imports ``broker.api``; the
composition root installs :data:`PAGE_HANDLERS` into the API's error handling for
paths outside /api. No page needs JavaScript, and every asset is served from here."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from flask import Flask, g, request, session
from flask_wtf.csrf import CSRFProtect

from broker.portal import household_labels, i18n, limits, request_labels, security
from broker.portal.errors import PAGE_HANDLERS
from broker.registry import privacy

__all__ = ["PAGE_HANDLERS", "init_app"]

HERE = Path(__file__).resolve().parent
TRANSLATIONS = HERE / "translations"

babel = i18n.PortalBabel()
babel.directory = str(TRANSLATIONS)
csrf = CSRFProtect()


def _language_from_url() -> None:
    """``?lang=en`` or ``?lang=zh_CN`` on any page switches the language for the session
    (a link to share, a quick look in the other language); without it the session's
    choice, else the user's stored one, holds (see :func:`i18n.select_locale`)."""
    if request.path.startswith("/api/"):
        return
    chosen = request.args.get("lang")
    if chosen in i18n.LOCALES:
        session["locale"] = chosen


def _protect_forms() -> None:
    """CSRF on every state-changing request outside /api; the JSON API authenticates
    with bearer tokens, which a third-party page cannot send, so it is exempt."""
    if request.path.startswith("/api/"):
        return
    csrf.protect()


def init_app(app: Flask) -> None:
    """Bind the portal's extensions and blueprints to ``app``."""
    # The admin_* modules add their views to the admin blueprint when imported, and the
    # household and member modules theirs to the caseworker's.
    from broker.portal import (  # noqa: F401
        admin,
        admin_deposits,
        admin_grids,
        admin_partners,
        admin_points,
        admin_regions,
        admin_users,
        applications,
        auditor,
        auth,
        care,
        caseworker,
        community_figures,
        consents,
        follow_ups,
        households,
        inbox,
        jobs,
        leads,
        members,
        notices,
        partner,
        points,
        receipts,
        reversals,
        views,
        voice,
        volunteer_teams,
        volunteers,
    )

    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(TRANSLATIONS)
    app.config["BABEL_DEFAULT_LOCALE"] = i18n.DEFAULT_LOCALE
    app.config["BABEL_DEFAULT_TIMEZONE"] = app.config.get("TIMEZONE", "Asia/Shanghai")
    app.config.setdefault("WTF_CSRF_ENABLED", True)
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", 8 * 3600)

    app.before_request(auth.forget_request_cache)
    app.before_request(_language_from_url)
    security.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale, timezone_selector=i18n.select_timezone)
    csrf.init_app(app)
    app.before_request(_protect_forms)
    auth.init_app(app)
    limits.init_app(app)

    # The household and member pages add their views to the caseworker's blueprint.
    assert households.bp is members.bp is consents.bp is follow_ups.bp is caseworker.bp
    for module in (
        views,
        auth,
        partner,
        caseworker,
        applications,
        auditor,
        admin,
        inbox,
        reversals,
        voice,
        notices,
        receipts,
        points,
        community_figures,
        care,
        jobs,
        volunteers,
        volunteer_teams,
        leads,
    ):
        app.register_blueprint(module.bp)

    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    app.jinja_env.filters.update(
        yuan=i18n.format_yuan,
        yuan_input=i18n.yuan_input,
        hours=i18n.format_hours,
        quantity=i18n.format_quantity,
        localtime=i18n.format_datetime,
        localdate=i18n.format_date,
        label=i18n.label,
        exclusion=request_labels.exclusion,
        unmatched=request_labels.unmatched,
        status_note=request_labels.status_note,
        say=request_labels.say,
        redact=privacy.shown_to_staff,  # ID numbers removed, the placeholder in the reader's language
        shown=privacy.shown,
        conditions=household_labels.conditions,
    )
    app.jinja_env.globals.update(locale_names=i18n.LOCALE_NAMES, once_key=once_key)
    app.context_processor(_page_context)
    app.context_processor(inbox.unread_context)


def once_key() -> str:
    """A fresh one-time key for a form drawn in a loop (one per request on a page)."""
    return uuid.uuid4().hex


def _page_context() -> dict[str, Any]:
    locale = i18n.select_locale()
    return {
        "current_locale": locale,
        "html_lang": i18n.html_lang(locale),
        "principal": g.get("principal"),
    }
