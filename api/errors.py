"""The one JSON error shape of the whole API, and the handlers that produce it.

    {"code": "booking_conflict", "status": 409, "message": "...", "errors": {"field": ["..."]}}

`code` is stable and machine-readable, `message` is for people, `errors` names fields.
No stack trace ever reaches a client.

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
from flask import Flask, has_request_context, jsonify, request
from flask_smorest import Api as _Api
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from factoryshare import locking
from factoryshare.errors import DomainError

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


class ErrorSchema(ma.Schema):
    code = ma.fields.String(metadata={"description": "stable machine-readable error code"})
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
        if location in ("json", "query", "querystring", "form", "files", "headers", "path", "view_args") and isinstance(fields, dict):
            flat.update(fields)
        else:
            flat[location] = fields
    return flat


def error_body(status: int, code: str, message: str, errors: dict[str, Any] | None = None,
               details: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "status": status, "message": message, "errors": errors or {}}
    if details:
        body["details"] = details
    return body


def error_response(status: int, code: str, message: str, errors: dict[str, Any] | None = None,
                   details: dict[str, Any] | None = None, headers: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
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
                message = "Some fields are invalid."
            elif status >= 500:
                message = "Something went wrong on our side; it has been logged."
            else:
                message = error.description or error.name
        return error_response(
            status,
            _HTTP_CODES.get(status, error.name.lower().replace(" ", "_")),
            message,
            _flatten(errors) if errors else {},
            headers=data.get("headers"),
        )


def _sqlstate(error: DBAPIError) -> str | None:
    orig = getattr(error, "orig", None)
    return getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)


def database_error_response(error: DBAPIError | StaleDataError):  # type: ignore[no-untyped-def]
    """The one answer for an error raised by the database or the ORM's version check."""
    if isinstance(error, StaleDataError):
        log.info("a row changed under a version check: %s", error)
        return error_response(409, "stale", "Someone else changed this at the same moment; "
                                            "load it again and retry.")
    if isinstance(error, IntegrityError):
        log.info("integrity error turned into 409: %s", error.orig)
        if _sqlstate(error) == "23P01":
            # PostgreSQL's exclusion constraint on live bookings: the slot was taken meanwhile.
            return error_response(409, "booking_conflict",
                                  "This machine is already booked at that time.")
        return error_response(409, "conflict", "This change clashes with existing data.")
    if isinstance(error, OperationalError) or locking.is_retryable(error):
        if locking.is_retryable(error) and has_request_context():
            request.environ[RETRY_TRANSACTION] = True
        log.warning("database busy or unavailable: %s", error.orig)
        return error_response(
            503, "service_unavailable", "The service is busy; please try again in a moment.",
            headers={"Retry-After": "2"},
        )
    log.info("database refused a value: %s", error.orig)
    # Values are checked against their columns before every flush (factoryshare.validation);
    # should the database still refuse one, name its column when it says which.
    message = "A value is out of the accepted range."
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
        return error_response(500, "internal_error", "Something went wrong on our side; it has been logged.")
