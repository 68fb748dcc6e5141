"""The one JSON error shape of the whole API, and the handlers that produce it.

    {"code": "booking_conflict", "status": 409, "message": "...", "errors": {"field": ["..."]}}

`code` is stable and machine-readable, `message` is for people, `errors` names fields.
No stack trace ever reaches a client.

`message` and the messages in `errors` are in the reader's language (`request_language`: the
signed-in user's `language`, else the request's `Accept-Language`, else Indonesian): texts
marked with `factoryshare.i18n.N_` by the services and this layer, and marshmallow's own
messages (known by their English text, see api/schemas.py), are translated here, when the
answer is rendered; `code` never changes.

Errors from the database have one answer each, wherever they surface (in a view or at commit,
see `database_error_response`): a row changed under an ORM version check is 409 `stale`, an
overlapping live booking (exclusion constraint, SQLSTATE 23P01) 409 `booking_conflict`, another
constraint 409 `conflict`, a value the database refuses 422, and a busy or failed database 503
`service_unavailable` with Retry-After. A deadlock or serialisation failure is also flagged so
that api/database.py runs the whole request again before that 503 is sent.
"""

from __future__ import annotations

import logging
from typing import Any

import marshmallow as ma
from flask import Flask, g, has_request_context, jsonify, request
from flask import session as web_session
from flask_smorest import Api as _Api
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from factoryshare import error_codes, i18n, locking
from factoryshare.errors import DomainError
from factoryshare.i18n import N_

log = logging.getLogger(__name__)

# Default codes for HTTP errors raised by Flask, werkzeug or webargs themselves.
_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    412: "precondition_failed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    423: "account_locked",
    428: "precondition_required",
    429: "too_many_requests",
    500: "internal_error",
    503: "service_unavailable",
}

# Set in the WSGI environ when the request's transaction lost to a deadlock or a serialisation
# failure: api/database.py then runs the whole request again (a bounded number of times).
RETRY_TRANSACTION = "factoryshare.retry_transaction"


# What a client hears for an HTTP error raised by Flask or werkzeug themselves.
_HTTP_MESSAGES = {
    400: N_("The request cannot be read."),
    401: N_("Sign in first: send 'Authorization: Bearer <token>'."),
    403: N_("You may not do this."),
    404: N_("Nothing is found at this address."),
    405: N_("This address does not take this method."),
    409: N_("This change clashes with existing data."),
    412: N_("The object changed since you read it; load it again."),
    413: N_("The request is too large."),
    415: N_("Send the body as application/json."),
    422: N_("Some fields are invalid."),
    428: N_("This request needs a precondition header."),
    429: N_("Too many attempts; wait a moment and try again."),
    500: N_("Something went wrong on our side; it has been logged."),
    503: N_("The service is busy; please try again in a moment."),
}
SOME_FIELDS_INVALID = _HTTP_MESSAGES[422]
INTERNAL_ERROR = _HTTP_MESSAGES[500]


def _signed_in_language() -> str | None:
    """The language of the user this request is signed in as, when a view has not yet
    authenticated it (a public address, an error raised before the view)."""
    from api.database import db  # the request's session; api.database imports this module
    from api.security import bearer_token  # api.security imports this module too
    from factoryshare.models import User
    from factoryshare.services import accounts

    token = bearer_token()
    try:
        user: User | None = None
        if token is not None:
            user = accounts.user_for_token(db(), token)
        elif isinstance(web_session.get("user_id"), int):
            user = db().get(User, web_session["user_id"])
        return user.language if user is not None and user.is_active else None
    except Exception:
        return None


def request_language() -> str:
    """The language to answer this request in: the signed-in user's setting; when signed
    out, the best of `Accept-Language` among Indonesian and English; Indonesian by default."""
    if not has_request_context():
        return i18n.DEFAULT_LANGUAGE
    actor = g.get("actor")
    if actor is not None:
        return i18n.language_or_default(actor.language)
    if "fs_language" not in g:
        g.fs_language = i18n.language_or_default(
            _signed_in_language()
            or request.accept_languages.best_match(i18n.LANGUAGES, default=i18n.DEFAULT_LANGUAGE)
        )
    return g.fs_language


def say(value: Any, language: str | None = None) -> Any:
    """`value` (a message, a list or dict of them) in the reader's language."""
    return i18n.translate(value, language or request_language())


class ErrorSchema(ma.Schema):
    code = ma.fields.String(
        metadata={
            "description": "stable machine-readable error code, one of: "
            + "; ".join(f"`{code}`: {meaning}" for code, meaning in error_codes.CODES.items()),
            "enum": list(error_codes.CODES),
        }
    )
    status = ma.fields.Integer(metadata={"description": "HTTP status"})
    message = ma.fields.String(metadata={"description": "what went wrong, for people"})
    errors = ma.fields.Dict(metadata={"description": "field name to list of problems"})
    details = ma.fields.Dict(metadata={"description": "extra facts, e.g. what quota is left"})


def _flatten(errors: Any) -> dict[str, Any]:
    """webargs nests messages by location ({"json": {...}}); clients want field names."""
    if not isinstance(errors, dict):
        return {"_schema": errors if isinstance(errors, list) else [str(errors)]}
    flat: dict[str, Any] = {}
    for location, fields in errors.items():
        if location in (
            "json",
            "query",
            "querystring",
            "form",
            "files",
            "headers",
            "path",
            "view_args",
        ) and isinstance(fields, dict):
            flat.update(fields)
        else:
            flat[location] = fields
    return flat


def error_body(
    status: int,
    code: str,
    message: str,
    errors: dict[str, Any] | None = None,
    details: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The error shape with its texts in the reader's language (details: only what was
    marked for translation, e.g. a holiday's name; codes and values stay as they are)."""
    language = request_language()
    body: dict[str, Any] = {
        "code": code,
        "status": status,
        "message": i18n.translate(message, language),
        "errors": i18n.translate(errors or {}, language),
    }
    if details:
        body["details"] = i18n.translate_marked(details, language)
    return body


def error_response(
    status: int,
    code: str,
    message: str,
    errors: dict[str, Any] | None = None,
    details: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
):  # type: ignore[no-untyped-def]
    response = jsonify(error_body(status, code, message, errors, details))
    response.status_code = status
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


class Api(_Api):
    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error: HTTPException):  # type: ignore[override]
        status = error.code or 500
        data = getattr(error, "data", None) or {}
        errors = data.get("errors") or data.get("messages")
        message = data.get("message")
        if not message:
            if status == 422 and errors:
                message = SOME_FIELDS_INVALID
            elif status >= 500:
                message = INTERNAL_ERROR
            elif error.description and error.description != type(error).description:
                message = error.description  # a view's own words (abort(..., description=))
            else:
                message = _HTTP_MESSAGES.get(status) or error.description or error.name
        return error_response(
            status,
            _HTTP_CODES.get(status, error.name.lower().replace(" ", "_")),
            message,
            _flatten(errors) if errors else {},
            headers=data.get("headers"),
        )


def database_error_response(error: DBAPIError | StaleDataError):  # type: ignore[no-untyped-def]
    """The one answer for an error raised by the database or the ORM's version check."""
    if isinstance(error, StaleDataError):
        log.info("a row changed under a version check: %s", error)
        return error_response(
            409,
            "stale",
            N_("Someone else changed this at the same moment; load it again and retry."),
        )
    if isinstance(error, IntegrityError):
        log.info("integrity error turned into 409: %s", error.orig)
        if locking.sqlstate(error) == "23P01":
            # PostgreSQL's exclusion constraint on live bookings: the slot was taken meanwhile.
            return error_response(
                409, "booking_conflict", N_("This machine is already booked at that time.")
            )
        return error_response(409, "conflict", _HTTP_MESSAGES[409])
    retryable = locking.is_retryable(error)
    if isinstance(error, OperationalError) or retryable:
        if retryable and has_request_context():
            request.environ[RETRY_TRANSACTION] = True
        log.warning("database busy or unavailable: %s", error.orig)
        return error_response(
            503,
            "service_unavailable",
            _HTTP_MESSAGES[503],
            headers={"Retry-After": "2"},
        )
    log.info("database refused a value: %s", error.orig)
    # Values are checked against their columns before every flush (factoryshare.validation);
    # should the database still refuse one, name its column when it says which.
    message = N_("A value is out of the accepted range.")
    column = getattr(getattr(error.orig, "diag", None), "column_name", None)
    return error_response(422, "validation_failed", message, {column or "_schema": [message]})


def register_error_handlers(app: Flask, api: Api) -> None:
    @app.errorhandler(DomainError)
    def _domain_error(error: DomainError):  # type: ignore[no-untyped-def]
        return error_response(error.status, error.code, error.message, error.errors, error.details)

    @app.errorhandler(DBAPIError)
    def _database_error(error: DBAPIError):  # type: ignore[no-untyped-def]
        return database_error_response(error)

    @app.errorhandler(StaleDataError)
    def _stale_error(error: StaleDataError):  # type: ignore[no-untyped-def]
        return database_error_response(error)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):  # type: ignore[no-untyped-def]
        if isinstance(error, HTTPException):
            return api.handle_http_exception(error)
        log.exception("unhandled error")
        return error_response(500, "internal_error", INTERNAL_ERROR)
