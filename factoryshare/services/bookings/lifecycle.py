"""A booking's life: created (held or confirmed), moved, cancelled, rejected, confirmed,
completed, marked a no-show, or its hold expired. Every change of state locks the booking's
row and reads its state again first (factoryshare/locking.py).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, contains_eager

from factoryshare import audit, i18n, locking
from factoryshare.access import Actor, get_scoped, scope_filter
from factoryshare.db import MAX_ID, utcnow
from factoryshare.errors import Conflict, Forbidden, NotFound, ValidationFailed
from factoryshare.events import publish
from factoryshare.i18n import N_
from factoryshare.models import Machine, Member, Product, ProductionHouse, Role
from factoryshare.models.bookings import LIVE_STATUSES, Booking, BookingSource, BookingStatus
from factoryshare.services import calendar
from factoryshare.services.bookings.checks import check_slot
from factoryshare.services.bookings.common import flush_guarded, house_moment, price_for


def _resolve_member(session: Session, actor: Actor, machine: Machine, member_id: int | None) -> int:
    if actor.role is Role.member:
        if member_id is not None and member_id != actor.member_id:
            raise Forbidden(N_("Members book for themselves only."))
        assert actor.member_id is not None
        return actor.member_id
    if actor.role not in (Role.manager, Role.admin):
        raise Forbidden(N_("Your role may not book machines."))
    if not actor.manages(machine.house_id):
        raise Forbidden(N_("You may only book machines of houses you manage."))
    if member_id is None:
        raise ValidationFailed(
            N_("Say which member the booking is for."),
            errors={"member_id": [N_("Required for managers.")]},
        )
    member = session.get(Member, member_id) if isinstance(member_id, int) else None
    if member is None or member.house_id != machine.house_id:
        raise ValidationFailed(
            N_("That member is not registered with this machine's house."),
            errors={"member_id": [N_("Not a member of this house.")]},
        )
    return member.id


def create_booking(
    session: Session,
    actor: Actor,
    *,
    machine_id: int,
    start: dt.datetime,
    end: dt.datetime,
    member_id: int | None = None,
    product_id: int | None = None,
    note: str | None = None,
    source: BookingSource = BookingSource.direct,
    series_id: int | None = None,
    now: dt.datetime | None = None,
    savepoint: bool = True,
) -> Booking:
    """`savepoint`: the insert runs in a SAVEPOINT of its own (`flush_guarded`), so that a
    caller booking several slots goes on after one lost to a concurrent booking. A caller
    whose transaction ends with the refusal anyway (one booking per request) passes False:
    a lost race still answers booking_conflict, and the whole transaction is rolled back."""
    actor.require(Role.member, Role.manager, Role.admin)
    now = now or utcnow()
    machine = _machine_held(session, actor, machine_id)
    member = _resolve_member(session, actor, machine, member_id)
    if product_id is not None:
        product = session.get(Product, product_id) if isinstance(product_id, int) else None
        if product is None or product.member_id != member:
            raise ValidationFailed(
                N_("That product does not belong to the member."),
                errors={"product_id": [N_("Unknown product for this member.")]},
            )
    check_slot(
        session,
        machine,
        member,
        start,
        end,
        now=now,
        product=product if product_id is not None else None,
        held=True,
    )
    house = machine.house
    held = house.requires_confirmation and actor.role is Role.member
    booking = Booking(
        machine_id=machine.id,
        machine=machine,
        member_id=member,
        product_id=product_id,
        start_at=start,
        end_at=end,
        status=BookingStatus.held if held else BookingStatus.confirmed,
        source=source,
        hourly_rate=machine.hourly_rate,
        price=price_for(machine, start, end),
        note=note or "",
        # A hold never outlives the start of the slot it holds.
        hold_expires_at=min(now + dt.timedelta(minutes=house.hold_minutes), start)
        if held
        else None,
        created_by_id=actor.user_id,
        series_id=series_id,
        created_at=now,
        updated_at=now,
    )
    flush_guarded(session, lambda: session.add(booking), savepoint=savepoint)
    audit.record(session, actor, "booking.created", booking, after=audit.snapshot(booking))
    publish(session, "booking_created", booking=booking, actor=actor)
    return booking


@functools.cache
def _machine_held_statement() -> Any:
    """_machine_held's statement without the caller's scope, built once with a bound
    parameter (building it for every booking cost more than the database's answer)."""
    return (
        select(Machine)
        .join(Machine.house)
        .where(Machine.id == bindparam("machine_id"))
        .options(contains_eager(Machine.house))
        .with_for_update(read=True, of=ProductionHouse)
        .execution_options(populate_existing=True)
    )


def _machine_held(session: Session, actor: Actor, machine_id: int) -> Machine:
    """The machine in the caller's scope (NotFound otherwise) with its house, the house's row
    share-locked and read after the lock (calendar.hold_calendar's lock) in the same statement."""
    name = i18n.label(Machine)
    if not isinstance(machine_id, int) or not 0 < machine_id <= MAX_ID:
        raise NotFound(N_("%(name)s %(object_id)s was not found.", name=name, object_id=machine_id))
    machine: Machine | None = session.scalars(
        _machine_held_statement().where(scope_filter(actor, Machine)),
        {"machine_id": machine_id},
    ).first()
    if machine is None:
        raise NotFound(N_("%(name)s %(object_id)s was not found.", name=name, object_id=machine_id))
    return machine


def _booking_for_change(session: Session, actor: Actor, booking_id: int) -> Booking:
    """The booking in the caller's scope, its row locked and its state read after the lock."""
    return locking.for_update(session, actor, Booking, booking_id)


def _may_change(actor: Actor, booking: Booking) -> None:
    if actor.role is Role.member and booking.member_id == actor.member_id:
        return
    if actor.manages(booking.machine.house_id):
        return
    raise Forbidden(N_("You may not change this booking."))


def _free(session: Session, booking: Booking, start: dt.datetime, end: dt.datetime) -> None:
    publish(session, "booking_freed", booking=booking, start=start, end=end)


def move_booking(
    session: Session,
    actor: Actor,
    booking_id: int,
    *,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    machine_id: int | None = None,
    note: str | None = None,
    now: dt.datetime | None = None,
) -> Booking:
    actor.require(Role.member, Role.manager, Role.admin)
    now = now or utcnow()
    booking = _booking_for_change(session, actor, booking_id)
    _may_change(actor, booking)
    locking.require_state(
        booking,
        LIVE_STATUSES,
        N_("A %(status)s booking cannot be changed.", status=i18n.status(booking.status)),
        action="move",
    )
    before = audit.snapshot(booking)
    new_start = start or booking.start_at
    new_end = end or booking.end_at
    machine = booking.machine
    if machine_id is not None and machine_id != booking.machine_id:
        machine = get_scoped(session, actor, Machine, machine_id)
        if machine.house_id != booking.machine.house_id:
            raise ValidationFailed(
                N_("A booking can only move to a machine of the same house."),
                errors={"machine_id": [N_("Must be a machine of the same house.")]},
            )
    return move_loaded_booking(
        session, actor, booking, machine, new_start, new_end, now=now, note=note, before=before
    )


def move_loaded_booking(
    session: Session,
    actor: Actor,
    booking: Booking,
    machine: Machine,
    new_start: dt.datetime,
    new_end: dt.datetime,
    *,
    now: dt.datetime,
    note: str | None = None,
    before: dict[str, Any] | None = None,
    placed_by_plan: bool = False,
    on_grid: bool = True,
    reason: str | None = None,
    status: BookingStatus | None = None,
) -> Booking:
    """Move a live booking (locked by the caller) after the same checks as a new booking:
    one audit event `booking.move`, and the events `booking_freed` (its old slot) and
    `booking_moved` (to tell the member). A move_booking and a published plan both come here.

    A held booking keeps waiting for the manager's answer: its hold lasts the house's
    `hold_minutes` again from the move, as when the slot was first asked for, and never
    outlives the new start (a hold is the house's time to say yes to *this* slot).

    `status`: the state the booking takes with its new slot (a published plan parks the
    bookings it moves outside the live states while it applies, so that one may take
    another's old slot).
    """
    before = before if before is not None else audit.snapshot(booking)
    moved = (new_start, new_end, machine.id) != (
        booking.start_at,
        booking.end_at,
        booking.machine_id,
    )
    if moved:
        product = (
            session.get(Product, booking.product_id) if booking.product_id is not None else None
        )
        check_slot(
            session,
            machine,
            booking.member_id,
            new_start,
            new_end,
            now=now,
            product=product,
            exclude_booking_id=booking.id,
            placed_by_plan=placed_by_plan,
            on_grid=on_grid,
        )
    old = (booking.machine_id, booking.start_at, booking.end_at)

    def stage() -> None:
        # Set inside the SAVEPOINT, so a move that loses its new slot undoes only itself.
        if status is not None:
            booking.status = status
        if moved:
            booking.start_at, booking.end_at = new_start, new_end
            booking.machine_id = machine.id
            booking.machine = machine
            booking.hourly_rate = machine.hourly_rate
            booking.price = price_for(machine, new_start, new_end)
            if booking.status is BookingStatus.held:
                booking.hold_expires_at = min(
                    now + dt.timedelta(minutes=machine.house.hold_minutes), new_start
                )
        if note is not None:
            booking.note = note
        booking.updated_at = now

    flush_guarded(session, stage)
    if moved:
        _free(session, booking, old[1], old[2])
    audit.record(
        session, actor, "booking.moved", booking, before=before, after=audit.snapshot(booking)
    )
    if moved:
        publish(
            session,
            "booking_moved",
            booking=booking,
            actor=actor,
            old_machine_id=old[0],
            old_start=old[1],
            old_end=old[2],
            reason=reason,
        )
    return booking


def cancel_booking(
    session: Session, actor: Actor, booking_id: int, *, reason: str | None = None
) -> Booking:
    actor.require(Role.member, Role.manager, Role.admin)
    booking = _booking_for_change(session, actor, booking_id)
    _may_change(actor, booking)
    return cancel_loaded_booking(session, actor, booking, reason or N_("cancelled"))


def reject_booking(session: Session, actor: Actor, booking_id: int, *, reason: str) -> Booking:
    """A house's manager turns down a held booking: it is cancelled with the reason given.

    Only a hold can be rejected (a confirmed booking is cancelled); the state is checked after
    the row lock, so a booking confirmed a moment earlier is not rejected behind its back.
    """
    actor.require(Role.manager, Role.admin)
    booking = _booking_for_change(session, actor, booking_id)
    if not actor.manages(booking.machine.house_id):
        raise Forbidden(N_("Only the house's managers may do this."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(
            N_("Say why the booking is rejected."),
            errors={"reason": [N_("Give a reason for the member.")]},
        )
    locking.require_state(
        booking,
        (BookingStatus.held,),
        N_(
            "A %(status)s booking cannot be rejected; only a held one can.",
            status=i18n.status(booking.status),
        ),
        action="reject",
    )
    cancel_loaded_booking(session, actor, booking, reason)
    # The member hears why (factoryshare/events.py routes it to the notifications).
    publish(session, "booking_rejected", booking=booking, reason=reason, actor=actor)
    return booking


def cancel_loaded_booking(session: Session, actor: Actor, booking: Booking, reason: str) -> Booking:
    """Cancel a booking the caller has loaded already (a downtime's, a re-plan's): audited,
    event `booking_cancelled`; one no longer live is refused (InvalidTransition)."""
    # Callers may hand in a booking they read without a lock (a downtime, a re-plan): lock it
    # and look again, so that a booking cancelled or finished meanwhile is not cancelled twice.
    locking.refresh_for_update(session, booking)
    locking.require_state(
        booking,
        LIVE_STATUSES,
        N_("A %(status)s booking cannot be cancelled.", status=i18n.status(booking.status)),
        action="cancel",
    )
    before = audit.snapshot(booking)
    booking.status = BookingStatus.cancelled
    booking.cancelled_reason = reason[:300]
    booking.hold_expires_at = None
    booking.updated_at = utcnow()
    session.flush()
    _free(session, booking, booking.start_at, booking.end_at)
    audit.record(
        session, actor, "booking.cancelled", booking, before=before, after=audit.snapshot(booking)
    )
    publish(session, "booking_cancelled", booking=booking, actor=actor, reason=reason)
    return booking


def _transition(
    session: Session,
    actor: Actor,
    booking_id: int,
    allowed_from: tuple[BookingStatus, ...],
    to: BookingStatus,
    step: str,
    audited: str,
    *,
    now: dt.datetime | None = None,
    not_before: Callable[[Booking], dt.datetime] | None = None,
) -> Booking:
    """A manager's step from `allowed_from` to `to`: `step` is what a refusal names as the
    step tried (the API's `details.action`: confirm, complete, no_show), `audited` the audit
    action it records (`booking.<past tense>`)."""
    actor.require(Role.manager, Role.admin)
    now = now or utcnow()
    booking = _booking_for_change(session, actor, booking_id)
    if not actor.manages(booking.machine.house_id):
        raise Forbidden(N_("Only the house's managers may do this."))
    locking.require_state(
        booking,
        allowed_from,
        N_(
            "A %(status)s booking cannot become %(to)s.",
            status=i18n.status(booking.status),
            to=i18n.status(to),
        ),
        action=step,
    )
    if not_before is not None and now < (earliest := not_before(booking)):
        house = booking.machine.house
        raise Conflict(
            N_(
                "This booking cannot be marked %(value)s before %(when)s.",
                value=i18n.status(to),
                when=house_moment(house, earliest),
            ),
            code="too_early",
            details={
                "earliest": earliest.astimezone(calendar.house_zone(house)).isoformat(),
                "status": booking.status.value,
            },
        )
    before = audit.snapshot(booking)
    booking.status = to
    booking.hold_expires_at = None
    booking.updated_at = now
    session.flush()
    audit.record(session, actor, audited, booking, before=before, after=audit.snapshot(booking))
    return booking


def confirm_booking(session: Session, actor: Actor, booking_id: int) -> Booking:
    booking = _transition(
        session,
        actor,
        booking_id,
        (BookingStatus.held,),
        BookingStatus.confirmed,
        "confirm",
        "booking.confirmed",
    )
    publish(session, "booking_confirmed", booking=booking, actor=actor)
    return booking


def complete_booking(
    session: Session, actor: Actor, booking_id: int, *, now: dt.datetime | None = None
) -> Booking:
    """Completed once it has started (never ahead: a completed booking releases loan money)."""
    from factoryshare.services.production_requests import done_when_complete

    booking = _transition(
        session,
        actor,
        booking_id,
        (BookingStatus.confirmed,),
        BookingStatus.completed,
        "complete",
        "booking.completed",
        now=now,
        not_before=lambda b: b.start_at,
    )
    # The last booking of a request's last lot makes the request done.
    done_when_complete(session, actor, booking.id)
    return booking


def mark_no_show(
    session: Session, actor: Actor, booking_id: int, *, now: dt.datetime | None = None
) -> Booking:
    """A no-show once the member is the house's grace (`no_show_grace_minutes`) late."""
    return _transition(
        session,
        actor,
        booking_id,
        (BookingStatus.confirmed,),
        BookingStatus.no_show,
        "no_show",
        "booking.marked_no_show",
        now=now,
        not_before=lambda b: (
            b.start_at + dt.timedelta(minutes=b.machine.house.no_show_grace_minutes)
        ),
    )


def expire_holds(session: Session, now: dt.datetime | None = None) -> int:
    """Cancel every hold whose period ran out; returns how many expired."""
    now = now or utcnow()
    # A hold being confirmed or cancelled at this very moment is locked: skip it; if it is
    # still an expired hold afterwards, the next run cancels it.
    expired = session.scalars(
        select(Booking)
        .where(
            Booking.status == BookingStatus.held,
            Booking.hold_expires_at.is_not(None),
            Booking.hold_expires_at <= now,
        )
        .order_by(Booking.id)
        .with_for_update(of=Booking, skip_locked=True)
        .execution_options(populate_existing=True)
    ).all()
    system = Actor.system()
    for booking in expired:
        cancel_loaded_booking(session, system, booking, N_("hold expired"))
        publish(session, "hold_expired", booking=booking)
    return len(expired)
