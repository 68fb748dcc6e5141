"""Bookings: the member hears of every change of its booking it did not make itself.

Confirmed or held for it by a manager, confirmed, rejected (with the reason), moved (from
where to where, by whom, why), cancelled (by whom, why: a manager, a downtime, a closure, a
published plan), its hold ran out, or a change of the house's calendar cancelled it. A member
cancelling or moving its own booking is told nothing: it made the change.

A cancellation or a move is told generically (`generic=True`): the specific message of the
same booking in the same transaction (a rejection, a downtime's, a closure's, a hold that
ran out) takes its place, so one change is one message (factoryshare/services/notifications.py).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from factoryshare.access import Actor
from factoryshare.models import Machine
from factoryshare.models.bookings import Booking, BookingStatus
from factoryshare.services.notifications import notify
from factoryshare.subscribers import booking_context, by, member_users, people


def _tell(
    session: Session,
    booking: Booking,
    actor: Actor | None,
    template: str,
    key: str | None,
    generic: bool = False,
    **extra: Any,
) -> None:
    user_ids = people(member_users(session, [booking.member_id]), actor)
    if not user_ids:
        return
    context = {**booking_context(booking), **by(session, actor), **extra}
    notify(session, user_ids=user_ids, template=template, context=context, key=key, generic=generic)


def on_booking_created(
    session: Session, *, booking: Booking, actor: Actor | None = None, **_: Any
) -> None:
    """A manager booked for the member: confirmed, or held until the house confirms it."""
    if booking.status is BookingStatus.confirmed:
        _tell(session, booking, actor, "booking_confirmed", f"booking:{booking.id}:confirmed")
    elif booking.status is BookingStatus.held:
        _tell(
            session,
            booking,
            actor,
            "booking_held",
            f"booking:{booking.id}:held",
            expires_at=booking.hold_expires_at,
        )


def on_booking_confirmed(
    session: Session, *, booking: Booking, actor: Actor | None = None, **_: Any
) -> None:
    _tell(session, booking, actor, "booking_confirmed", f"booking:{booking.id}:confirmed")


def on_booking_rejected(
    session: Session,
    *,
    booking: Booking,
    reason: str | None = None,
    actor: Actor | None = None,
    **_: Any,
) -> None:
    _tell(
        session,
        booking,
        actor,
        "booking_rejected",
        f"booking:{booking.id}:rejected",
        reason=reason or booking.cancelled_reason,
    )


def on_booking_cancelled(
    session: Session,
    *,
    booking: Booking,
    actor: Actor | None = None,
    reason: str | None = None,
    **_: Any,
) -> None:
    # The default reason of a cancel without one says nothing the subject does not.
    reason = reason or booking.cancelled_reason
    _tell(
        session,
        booking,
        actor,
        "booking_cancelled",
        f"booking:{booking.id}:cancelled",
        generic=True,
        reason=None if reason == "cancelled" else reason,
    )


def on_booking_moved(
    session: Session,
    *,
    booking: Booking,
    actor: Actor | None = None,
    old_start: Any = None,
    old_end: Any = None,
    old_machine_id: int | None = None,
    reason: str | None = None,
    **_: Any,
) -> None:
    if old_start is None or old_end is None:
        return  # nothing to say it moved from
    old_machine = None
    if old_machine_id is not None and old_machine_id != booking.machine_id:
        machine = session.get(Machine, old_machine_id)
        old_machine = machine.name if machine is not None else None
    _tell(
        session,
        booking,
        actor,
        "booking_moved",
        None,
        generic=True,
        old_start=old_start,
        old_end=old_end,
        old_machine=old_machine,
        reason=reason,
    )


def on_hold_expired(session: Session, *, booking: Booking, **_: Any) -> None:
    _tell(session, booking, None, "hold_expired", f"booking:{booking.id}:hold_expired")
