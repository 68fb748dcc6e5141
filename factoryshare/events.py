"""Domain events: one area reacts to what another did without importing it.

A service calls `publish(session, "booking_freed", booking=b)` inside its transaction; every
subscriber listed here is called with the same session, so its work commits or rolls back
with the change that caused it. Subscribers are named as "module:function" and resolved on
first use; a module not in this build yet is skipped. The notifications people read are
subscribers too, one module per area in factoryshare/subscribers/.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

# event name -> subscribers, in the order they run.
SUBSCRIBERS: dict[str, list[str]] = {
    # A live booking stopped occupying its slot (cancelled, moved, expired, displaced).
    "booking_freed": ["factoryshare.services.waitlist:on_booking_freed"],
    # A manager turned down a held booking (payload: booking, reason, actor).
    "booking_rejected": ["factoryshare.subscribers.bookings:on_booking_rejected"],
    # A live booking moved to another slot (payload: booking, actor, old_machine_id,
    # old_start, old_end, reason: why, when the house moved it, e.g. a published plan).
    "booking_moved": ["factoryshare.subscribers.bookings:on_booking_moved"],
    # A live booking was cancelled by anyone (payload: booking, actor, reason).
    "booking_cancelled": ["factoryshare.subscribers.bookings:on_booking_cancelled"],
    # A booking was made (payload: booking, actor): a manager's for a member tells the member.
    "booking_created": ["factoryshare.subscribers.bookings:on_booking_created"],
    # A manager confirmed a held booking (payload: booking, actor).
    "booking_confirmed": ["factoryshare.subscribers.bookings:on_booking_confirmed"],
    # A hold ran out unconfirmed and was cancelled (payload: booking).
    "hold_expired": ["factoryshare.subscribers.bookings:on_hold_expired"],
    # A closure or a change of opening hours, slot grid or zone cancelled a live booking
    # (payload: booking, actor, reason, alternatives: up to three free slots).
    # A published run placed a production request (payload: request, run, actor, bookings).
    "request_placed": ["factoryshare.subscribers.scheduling:on_request_placed"],
    # A published run left an open request out (payload: request, run, actor, why: a kind
    # of solving.WHY_NOT_PLACED; without it the subscriber asks why_not_placed).
    "request_left_out": ["factoryshare.subscribers.scheduling:on_request_left_out"],
    # A step of a loan application on record (payload: application, decision, actor).
    "loan_decided": ["factoryshare.subscribers.financing:on_loan_decided"],
    # A product's fields or routing changed (payload: product, before snapshot, actor).
    "product_changed": ["factoryshare.services.permits:on_product_changed"],
    # A manager or admin rejected a member's permit entry (payload: permit, reason, actor);
    # the member's notification subscribes here.
    "permit_verification_rejected": [
        "factoryshare.subscribers.permits:on_permit_verification_rejected"
    ],
}


def _resolve(target: str) -> Callable[..., Any]:
    """The subscriber named `module:function`; a missing module or function raises (never a
    subscriber silently dropped by a rename)."""
    module_name, _, attr = target.partition(":")
    return getattr(importlib.import_module(module_name), attr)


def check_subscribers() -> None:
    """Resolve every subscriber once: the app, the worker and the scheduler call it at start,
    so a renamed subscriber fails there, not on the first event. (They are named by string
    because the services that publish are imported by the subscribers themselves.)"""
    for targets in SUBSCRIBERS.values():
        for target in targets:
            _resolve(target)


def publish(session: Session, event: str, **payload: Any) -> None:
    if event not in SUBSCRIBERS:
        raise LookupError(f"unknown event {event!r}")
    for target in SUBSCRIBERS[event]:
        _resolve(target)(session, **payload)
