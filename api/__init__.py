"""The HTTP layer: the Flask app factory. Views parse, call a service and serialise."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, request
from sqlalchemy.orm import Session, sessionmaker

from api import database
from api.errors import Api, register_error_handlers, request_language
from api.json import IdConverter, SafeJSONProvider, check_json_body
from factoryshare.config import Settings
from factoryshare.db import make_engine, make_session_factory


def create_app(
    settings: Settings | None = None,
    *,
    session_factory: sessionmaker[Session] | None = None,
    config: dict[str, Any] | None = None,
) -> Flask:
    settings = settings or Settings.from_env()
    app = Flask(__name__, instance_path=str(settings.instance_path))
    app.json = SafeJSONProvider(app)
    app.url_map.converters["int"] = IdConverter  # <int:...> in a path: 1 .. 2**63-1
    app.before_request(check_json_body)  # first: no view or hook sees a hostile body
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=settings.max_content_length,
        JSON_SORT_KEYS=False,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.env == "production",
        API_TITLE="factoryshare",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api/v1",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH=None,
        API_SPEC_OPTIONS={
            "info": {
                "description": "Shared production houses: machines, bookings, schedules, "
                "KUR Klaster financing and izin edar.",
            },
            "components": {
                "securitySchemes": {
                    "bearerAuth": {"type": "http", "scheme": "bearer"},
                }
            },
            "security": [{"bearerAuth": []}],
        },
    )
    if config:
        app.config.update(config)
    settings.instance_path.mkdir(parents=True, exist_ok=True)

    engine = None
    if session_factory is None:
        engine = make_engine(settings.database_url)
        session_factory = make_session_factory(engine)
    app.extensions["factoryshare"] = database.Runtime(settings, engine, session_factory)

    logging.basicConfig(level=logging.INFO if settings.env != "test" else logging.WARNING)

    api = Api(app)
    register_error_handlers(app, api)
    database.init_app(app)

    from api.resources import register_all
    from factoryshare.events import check_subscribers

    register_all(api)
    check_subscribers()  # a renamed subscriber fails here, not on the first event
    from api.web import init_app as init_web_pages  # the browser pages

    init_web_pages(app)
    from api import security  # server-side sessions, sign-in limits, security headers

    security.init_app(app)

    @app.after_request
    def _content_language(response):  # type: ignore[no-untyped-def]
        # The API answers in the reader's language (api.errors.request_language).
        if request.path.startswith("/api/"):
            response.headers["Content-Language"] = request_language()
            response.vary.add("Accept-Language")
        return response

    return app
