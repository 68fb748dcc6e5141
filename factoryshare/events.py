"""Domain events: one area reacts to what another did without importing it.

A service calls `publish(session, "booking_freed", booking=b)` inside its transaction; every
subscriber listed here is called with the same session, so its work commits or rolls back
with the change that caused it. Subscribers are named as "module:function" and resolved on
first use; a module not in this build yet is skipped.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

# event name -> subscribers, in the order they run.
SUBSCRIBERS: dict[str, list[str]] = {
    # A live booking stopped occupying its slot (cancelled, moved, expired, displaced).
    "booking_freed": ["factoryshare.services.waitlist:on_booking_freed"],
    # A product's fields or routing changed (payload: product, before snapshot, actor).
    "product_changed": ["factoryshare.services.permits:on_product_changed"],
}


def _resolve(target: str) -> Callable[..., Any] | None:
    module_name, _, attr = target.partition(":")
    if importlib.util.find_spec(module_name) is None:
        return None
    return getattr(importlib.import_module(module_name), attr)


def publish(session: Session, event: str, **payload: Any) -> None:
    if event not in SUBSCRIBERS:
        raise LookupError(f"unknown event {event!r}")
    for target in SUBSCRIBERS[event]:
        handler = _resolve(target)
        if handler is not None:
            handler(session, **payload)
