"""Domain errors: each has a stable machine-readable code and an HTTP-like status.

Services raise these; the API turns them into the one JSON error shape, the CLI prints them.

Every text in an error is for people, so it is marked for translation with
`factoryshare.i18n.N_` (the message and each field's messages alike):

    raise ValidationFailed(N_("The end must be after the start."),
                           errors={"end": [N_("Must be after the start.")]})
    raise Conflict(N_("You can book at most %(days)s days ahead.", days=n), code="too_far_ahead")

The API says them in the reader's language when it renders the error (api/errors.py); `code`
never changes with the language.
"""

from __future__ import annotations

from typing import Any

from factoryshare import error_codes


class DomainError(Exception):
    code = "error"
    status = 400

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        errors: dict[str, Any] | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = error_codes.check(code)
        self.errors = errors or {}
        self.details = details or {}


class ValidationFailed(DomainError):
    """Input breaks a rule; `errors` maps each field to what is wrong with it."""

    code = "validation_failed"
    status = 422


class NotFound(DomainError):
    """The object does not exist or lies outside the caller's scope (never says which)."""

    code = "not_found"
    status = 404


class Forbidden(DomainError):
    """The caller's role may not do this."""

    code = "forbidden"
    status = 403


class Unauthorized(DomainError):
    code = "unauthorized"
    status = 401


class Conflict(DomainError):
    """The action clashes with the current state (a taken slot, a wrong workflow state)."""

    code = "conflict"
    status = 409


class Locked(DomainError):
    code = "account_locked"
    status = 423


class InvalidTransition(Conflict):
    """The object is no longer in a state this action starts from (often: someone else changed
    it a moment ago). `details["status"]` is the state it is in now."""

    code = "invalid_transition"
