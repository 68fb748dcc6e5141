"""The one catalogue of error codes: every `code` an answer's error body can carry.

A code is stable and never changes with the reader's language; the message beside it does.
`DomainError` refuses a code that is not listed here, the API's own answers use only these,
and the OpenAPI document lists them (ErrorSchema.code), so a client can switch on them.
"""

from __future__ import annotations

CODES: dict[str, str] = {
    # Generic, by HTTP status (also what Flask, werkzeug and webargs raise themselves).
    "error": "a domain error without a more precise code",
    "bad_request": "the request could not be read",
    "invalid_json": "the body is not valid JSON (or holds a duplicate key, a NUL byte, a lone surrogate)",
    "unauthorized": "no valid sign-in",
    "forbidden": "the caller's role may not do this",
    "not_found": "no such object in the caller's scope",
    "method_not_allowed": "the path does not take this method",
    "conflict": "the action clashes with the current state",
    "precondition_failed": "a precondition of the request failed",
    "payload_too_large": "the body or file is above the limit",
    "unsupported_media_type": "the body's content type is not accepted",
    "validation_failed": "some fields are invalid: `errors` names each",
    "account_locked": "too many failed sign-ins: the account is locked for a while",
    "precondition_required": "the request needs a precondition header",
    "too_many_requests": "too many attempts: wait `details.retry_after` seconds",
    "internal_error": "an unexpected error on the server",
    "service_unavailable": "the database is busy or unavailable: retry after `Retry-After`",
    # Sign-in and requests.
    "invalid_credentials": "wrong e-mail or password",
    "invalid_token": "the token is unknown, expired or revoked",
    "account_inactive": "the account has been deactivated",
    "csrf_failed": "a page form without its CSRF token",
    "idempotency_in_progress": "a request with this Idempotency-Key is still running",
    "idempotency_key_reused": "this Idempotency-Key was used for a different request",
    # Concurrency.
    "stale": "someone else changed the object at the same moment: read it again",
    "invalid_transition": "the object is no longer in a state this action starts from",
    # Booking.
    "booking_conflict": "the machine is booked at that time",
    "series_conflicts": "some dates of a repeating booking are taken",
    "quota_exceeded": "the member's booking quota for the week would be exceeded",
    "too_far_ahead": "beyond how far ahead the house takes bookings",
    "in_the_past": "the time has already passed",
    "too_early": "too early for this step (e.g. completing before the booking ends)",
    "not_aligned": "the time is not on the house's slot grid",
    "outside_opening_hours": "the house is not open then",
    "house_closed": "the house is closed that day",
    "holiday": "a public holiday",
    "machine_downtime": "the machine is down for maintenance or repair then",
    "machine_unavailable": "the machine is not in service",
    "permit_missing": "the product lacks a permit it needs on that date (details.requirements)",
    "permit_unverified": "the product's permit is there but not verified yet (details.permit_ids)",
    "slot_free": "the slot is free: book it instead of waiting",
    "already_waiting": "the member already waits for this slot",
    # The house and its objects.
    "duplicate_house": "a house of this name exists",
    "duplicate_machine": "a machine of this code exists in the house",
    "duplicate_capability": "a capability of this code exists",
    "duplicate_product": "the member has a product of this name",
    "duplicate_permit_type": "a permit type of this code exists",
    "duplicate_nib": "a business (or an aggregator) with this NIB is registered",
    "duplicate_name": "an aggregator of this name exists",
    "duplicate_cluster": "the aggregator has a cluster of this name",
    "email_taken": "an account with this e-mail exists",
    "lender_name_taken": "a lender of this name exists",
    "house_in_use": "the house still has members, machines or bookings",
    "machine_in_use": "the machine still has bookings or plans",
    "machine_has_bookings": "the machine has live bookings in that time",
    "capability_in_use": "machines or products still use the capability",
    "product_in_use": "bookings or requests still use the product",
    "cluster_in_use": "the cluster still has applications or loans",
    "lender_in_use": "the lender still has applications or loans",
    "closure_overlap": "a closure of the house overlaps these days",
    "bookings_affected": "the change hits live bookings: preview them, then confirm",
    "document_storage_full": "the member's documents would exceed the storage cap",
    # Planning.
    "request_not_open": "the production request is not open",
    "request_not_cancellable": "the production request can no longer be withdrawn",
    "run_not_solved": "the schedule run has no solution to publish",
    "stale_run": "the published schedule changed since the run was solved: run it again",
    "horizon_passed": "the run's horizon has already begun",
    # Financing.
    "cluster_loan_open": "the member's cluster has an open application or a live loan",
    "same_approver": "the second approval must come from another person",
    "beyond_approved_amount": "more than the approved amount",
    "nothing_outstanding": "nothing is left to repay",
    "installments_due_first": "installments already due must be paid first",
    "installment_partly_paid": "the installment is partly paid",
}


def check(code: str) -> str:
    """`code` if it is in the catalogue; ValueError otherwise (a programming error)."""
    if code not in CODES:
        raise ValueError(f"error code {code!r} is not in factoryshare.error_codes.CODES")
    return code
