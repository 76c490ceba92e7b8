"""The JSON API under /api/v1: flask-smorest blueprints over marshmallow schemas, one
error envelope for every error, OpenAPI generated from the schemas."""

from __future__ import annotations

import importlib

from flask import Flask
from flask_swagger_ui import get_swaggerui_blueprint

from broker.api import gate, language
from broker.api.blueprint import Blueprint
from broker.api.errors import BrokerApi
from broker.api.openapi import ErrorResponsesPlugin, storable_text_pattern

API_PREFIX = "/api/v1"
# Each module defines ``blp``; adding a resource is adding its module name here.
BLUEPRINT_MODULES = (
    "broker.api.auth",
    "broker.api.grids",
    "broker.api.regions",
    "broker.api.households",
    "broker.api.consents",
    "broker.api.partners",
    "broker.api.assessments",
    "broker.api.followups",
    "broker.api.requests",
    "broker.api.offers",
    "broker.api.policies",
    "broker.api.deposits",
    "broker.api.ledger",
    "broker.api.reports",
    "broker.api.audit",
    "broker.api.notifications",
    "broker.api.reversals",
    "broker.api.concerns",
    "broker.api.notices",
    "broker.api.access_log",
    "broker.api.receipts",
    "broker.api.points",
    "broker.api.special_groups",
    "broker.api.care_plans",
    "broker.api.jobs",
    "broker.api.placements",
    "broker.api.volunteers",
    "broker.api.volunteer_tasks",
    "broker.api.leads",
)

errors_plugin = ErrorResponsesPlugin()
api = BrokerApi(spec_kwargs={"extra_plugins": [errors_plugin]})


def init_app(app: Flask) -> None:
    app.config.update(
        API_TITLE="aidbroker",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX=API_PREFIX,
        OPENAPI_JSON_PATH="openapi.json",
        API_SPEC_OPTIONS={
            "info": {
                "description": "Resource-linking broker for charities and aid funds. Send "
                "`Authorization: Bearer <token>` from `POST /api/v1/auth/token`. Errors are "
                '`{"error": {"code", "message", "details"}}`. Bodies are JSON in UTF-8, at most '
                "32 levels deep; a field not in the schema is refused (422, naming the field meant); "
                "text may not hold control characters other than tab and line breaks; a header may "
                "be at most 8 kB (431)."
            },
            "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
            "servers": [{"url": "/"}],
        },
    )
    errors_plugin.app = app
    api.init_app(app)
    api.ma_plugin.converter.add_attribute_function(storable_text_pattern)
    for name in BLUEPRINT_MODULES:
        blp = importlib.import_module(name).blp
        if not isinstance(blp, Blueprint):  # its arguments would not be read as documented
            raise TypeError(f"{name}.blp must be a broker.api.blueprint.Blueprint")
        api.register_blueprint(blp, url_prefix=API_PREFIX)
    gate.init_app(app)
    language.init_app(app)
    app.register_blueprint(
        get_swaggerui_blueprint(
            f"{API_PREFIX}/docs",
            f"{API_PREFIX}/openapi.json",
            config={"app_name": "aidbroker API"},
        ),
    )
