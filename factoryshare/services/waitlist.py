"""The waitlist: a member waits for a machine slot that is taken, and is told when it frees.

Rules:
- Only a slot that could be booked but for other bookings can be waited for: it must be in
  the future, on the house's slot boundaries, inside opening hours, not on a holiday, closure
  or downtime, and at least one live booking must overlap it (a free slot is simply booked).
- When a live booking stops occupying time (cancelled, moved, expired, released), the
  entries on that machine overlapping the freed time are looked at in the order they were
  made; the first whose whole slot is now free is told and marked `notified`. One member per
  freed slot, so two members are never sent racing for the same time; the others keep
  waiting and are told when a slot they want frees again.
- Telling does not reserve anything: the member books the slot as usual, first come.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from factoryshare import audit
from factoryshare.access import (
    Actor,
    get_scoped,
    scoped,
)
from factoryshare.db import utcnow
from factoryshare.errors import Conflict, Forbidden, ValidationFailed
from factoryshare.i18n import N_
from factoryshare.models import Machine, Member, Role, User
from factoryshare.models.booking_extras import WaitlistEntry, WaitStatus
from factoryshare.models.bookings import LIVE_STATUSES, Booking
from factoryshare.services import bookings, calendar, notifications


def _member_for(session: Session, actor: Actor, machine: Machine, member_id: int | None) -> int:
    if actor.role is Role.member:
        if member_id is not None and member_id != actor.member_id:
            raise Forbidden(N_("Members wait for themselves only."))
        assert actor.member_id is not None
        return actor.member_id
    if not actor.manages(machine.house_id):
        raise Forbidden(N_("You may only add members to waitlists of houses you manage."))
    member = session.get(Member, member_id) if isinstance(member_id, int) else None
    if member is None or member.house_id != machine.house_id:
        raise ValidationFailed(
            N_("Say which member of this house is waiting."),
            errors={"member_id": [N_("Required: a member of this machine's house.")]},
        )
    return member.id


def _taken(session: Session, machine_id: int, start: dt.datetime, end: dt.datetime) -> bool:
    return (
        session.scalars(
            select(Booking.id)
            .where(
                Booking.machine_id == machine_id,
                Booking.status.in_(LIVE_STATUSES),
                Booking.start_at < end,
                Booking.end_at > start,
            )
            .limit(1)
        ).first()
        is not None
    )


def join_waitlist(
    session: Session,
    actor: Actor,
    *,
    machine_id: int,
    start: dt.datetime,
    end: dt.datetime,
    member_id: int | None = None,
    now: dt.datetime | None = None,
) -> WaitlistEntry:
    actor.require(Role.member, Role.manager, Role.admin)
    now = now or utcnow()
    machine = get_scoped(session, actor, Machine, machine_id)
    member = _member_for(session, actor, machine, member_id)
    house = machine.house
    bookings.check_times(start, end)
    bookings.check_alignment(house, start, end)
    if start < now:
        raise Conflict(N_("That time has already passed."), code="in_the_past")
    bookings.check_calendar(session, house, machine, start, end)
    if not _taken(session, machine.id, start, end):
        raise Conflict(N_("That slot is free: book it instead of waiting."), code="slot_free")
    duplicate = session.scalars(
        select(WaitlistEntry.id).where(
            WaitlistEntry.machine_id == machine.id,
            WaitlistEntry.member_id == member,
            WaitlistEntry.status == WaitStatus.waiting,
            WaitlistEntry.start_at == start,
            WaitlistEntry.end_at == end,
        )
    ).first()
    if duplicate is not None:
        raise Conflict(
            N_("You are already waiting for this slot."),
            code="already_waiting",
            details={"waitlist_entry_id": duplicate},
        )
    entry = WaitlistEntry(
        machine_id=machine.id,
        member_id=member,
        start_at=start,
        end_at=end,
        status=WaitStatus.waiting,
        created_at=now,
        created_by_id=actor.user_id,
    )
    session.add(entry)
    session.flush()
    audit.record(session, actor, "waitlist.joined", entry, after=audit.snapshot(entry))
    return entry


def list_entries(
    session: Session, actor: Actor, *, machine_id: int | None = None, status: str | None = None
) -> Any:
    stmt = scoped(actor, WaitlistEntry)
    if machine_id is not None:
        stmt = stmt.where(WaitlistEntry.machine_id == machine_id)
    if status is not None:
        stmt = stmt.where(WaitlistEntry.status == WaitStatus(status))
    # Each entry is shown in its house's time: machines and houses read with the list.
    return stmt.order_by(WaitlistEntry.start_at, WaitlistEntry.id).options(
        selectinload(WaitlistEntry.machine).selectinload(Machine.house)
    )


def get_entry(session: Session, actor: Actor, entry_id: int) -> WaitlistEntry:
    return get_scoped(session, actor, WaitlistEntry, entry_id)


def leave_waitlist(session: Session, actor: Actor, entry_id: int) -> WaitlistEntry:
    entry = get_entry(session, actor, entry_id)
    if entry.status is WaitStatus.cancelled:
        raise Conflict(N_("You already left this waitlist."), code="invalid_transition")
    before = audit.snapshot(entry)
    entry.status = WaitStatus.cancelled
    session.flush()
    audit.record(session, actor, "waitlist.left", entry, before=before, after=audit.snapshot(entry))
    return entry


def positions(session: Session, entries: list[WaitlistEntry]) -> dict[int, int | None]:
    """The place of each entry in the queue for its slot (1: told first when it frees; None
    once it is not waiting), for a page of entries in one statement: the entries waiting on
    their machines over the span they cover. Ahead of an entry is every entry waiting for an
    overlapping slot of its machine that joined before it (by time, then by id)."""
    waiting = [e for e in entries if e.status is WaitStatus.waiting]
    placed: dict[int, int | None] = {e.id: None for e in entries}
    if not waiting:
        return placed
    queue = session.scalars(
        select(WaitlistEntry).where(
            WaitlistEntry.machine_id.in_({e.machine_id for e in waiting}),
            WaitlistEntry.status == WaitStatus.waiting,
            WaitlistEntry.start_at < max(e.end_at for e in waiting),
            WaitlistEntry.end_at > min(e.start_at for e in waiting),
        )
    ).all()
    for entry in waiting:
        placed[entry.id] = 1 + sum(
            1
            for other in queue
            if other.machine_id == entry.machine_id
            and other.start_at < entry.end_at
            and other.end_at > entry.start_at
            and (other.created_at, other.id) < (entry.created_at, entry.id)
        )
    return placed


def on_booking_freed(
    session: Session,
    *,
    booking: Booking,
    start: dt.datetime,
    end: dt.datetime,
    now: dt.datetime | None = None,
    **_: Any,
) -> WaitlistEntry | None:
    """Tell the first waiting member whose whole slot `start`–`end` freed up (see the rules)."""
    now = now or utcnow()
    candidates = session.scalars(
        select(WaitlistEntry)
        .where(
            WaitlistEntry.machine_id == booking.machine_id,
            WaitlistEntry.status == WaitStatus.waiting,
            WaitlistEntry.start_at < end,
            WaitlistEntry.end_at > start,
            WaitlistEntry.start_at > now,
        )
        .order_by(WaitlistEntry.created_at, WaitlistEntry.id)
    ).all()
    session.flush()  # the freeing change must be visible to the overlap query below
    for entry in candidates:
        if _taken(session, entry.machine_id, entry.start_at, entry.end_at):
            continue
        if calendar.machine_downtimes(session, entry.machine_id, entry.start_at, entry.end_at):
            continue
        entry.status = WaitStatus.notified
        entry.notified_at = now
        session.flush()
        _tell(session, entry)
        return entry
    return None


def _tell(session: Session, entry: WaitlistEntry) -> None:
    user_ids = list(
        session.scalars(select(User.id).where(User.member_id == entry.member_id, User.is_active))
    )
    if not user_ids:
        return
    house = entry.machine.house
    zone = calendar.house_zone(house)
    notifications.notify(
        session,
        user_ids=user_ids,
        template="waitlist_slot_free",
        context={
            "machine": entry.machine.name,
            "house": house.name,
            "timezone": house.timezone,
            "start": entry.start_at.astimezone(zone).isoformat(),
            "end": entry.end_at.astimezone(zone).isoformat(),
            "machine_id": entry.machine_id,
            "waitlist_entry_id": entry.id,
        },
        key=f"waitlist:{entry.id}",
    )
