"""Changes of a house's calendar (a closure, its opening hours, slot grid or zone) and the
live bookings they leave outside it: handled like a downtime's
(factoryshare/services/downtimes.py).

A change finds the house's live bookings not yet over (`live_bookings`, locked as they are
read), writes itself in a SAVEPOINT and asks which of them the new calendar refuses
(`bookings_outside`); on a dry run or a refusal (`affected="refuse"`: 409 bookings_affected
naming them) the SAVEPOINT is rolled back (`refuse_or_keep`); else the hit bookings are
cancelled, each member told with alternative slots, and solver-placed work queued for a
re-plan (`settle_change`).
"""

from __future__ import annotations

import bisect
import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from factoryshare.access import Actor
from factoryshare.errors import Conflict, ValidationFailed
from factoryshare.i18n import N_
from factoryshare.models import HouseClosure, Machine, ProductionHouse
from factoryshare.models.bookings import LIVE_STATUSES, Booking
from factoryshare.services import bookings as booking_service
from factoryshare.services import calendar, downtimes

# What a closure or a change of settings.CALENDAR_SETTINGS does to the live bookings it leaves outside
# the new calendar: `refuse` the change (409 bookings_affected, naming them) or `cancel` them.
AFFECTED_CHOICES = ("refuse", "cancel")


@dataclass
class CalendarChange:
    """What a closure or a change of a house's calendar did, or on a dry run would do, to the
    live bookings it leaves outside the new calendar."""

    house: ProductionHouse
    dry_run: bool
    # closure, opening_hours, slot_minutes, timezone, calendar (several at once) or "" (none)
    change: str
    # The zone of the new calendar: the bookings' times read in it.
    timezone: str
    # The live bookings outside the new calendar, and why each is:
    # not_aligned, house_closed, holiday or outside_opening_hours.
    bookings: list[Booking] = field(default_factory=list)
    why: dict[int, str] = field(default_factory=dict)
    closure: HouseClosure | None = None
    # When applied: each booking cancelled, with the alternatives its member was told about.
    affected: list[downtimes.AffectedBooking] = field(default_factory=list)
    replan: Any = None


def check_affected(affected: str) -> None:
    """422 naming `affected` unless it is one of AFFECTED_CHOICES."""
    if affected not in AFFECTED_CHOICES:
        raise ValidationFailed(
            N_("Choose refuse or cancel."), errors={"affected": [N_("refuse or cancel")]}
        )


def change_name(kinds: list[str]) -> str:
    """The name of a change of the calendar settings `kinds`: the one setting, or `calendar`
    for several at once ("" for none)."""
    if not kinds:
        return ""
    return kinds[0] if len(kinds) == 1 else "calendar"


def _why_outside(session: Session, house: ProductionHouse, booking: Booking) -> str:
    zone = calendar.house_zone(house)
    day = booking.start_at.astimezone(zone).date()
    last = (booking.end_at - dt.timedelta(microseconds=1)).astimezone(zone).date()
    why = "outside_opening_hours"
    while day <= last:
        if calendar.closure_on(session, house, day) is not None:
            return "house_closed"
        if calendar.holiday_name(day) is not None:
            why = "holiday"
        day += dt.timedelta(days=1)
    return why


def live_bookings(
    session: Session,
    house: ProductionHouse,
    now: dt.datetime,
    *,
    within: tuple[dt.datetime, dt.datetime] | None = None,
) -> list[Booking]:
    """The house's live bookings not yet over (overlapping `within`, if given), locked as they
    are read (as a downtime's are): one cancelled meanwhile drops out of the list."""
    stmt = (
        select(Booking)
        .join(Machine, Machine.id == Booking.machine_id)
        .where(
            Machine.house_id == house.id, Booking.status.in_(LIVE_STATUSES), Booking.end_at > now
        )
    )
    if within is not None:
        stmt = stmt.where(Booking.start_at < within[1], Booking.end_at > within[0])
    return list(
        session.scalars(
            stmt.order_by(Booking.start_at, Booking.id)
            .with_for_update(of=Booking)
            # What a change's answer names of each booking: its machine and member.
            .options(selectinload(Booking.machine), selectinload(Booking.member))
        )
    )


def on_slot_grid(house: ProductionHouse, booking: Booking) -> bool:
    """Whether the booking lies on the house's slot grid as it now stands."""
    try:
        booking_service.check_alignment(house, booking.start_at, booking.end_at)
    except ValidationFailed:
        return False
    return True


def bookings_outside(
    session: Session, house: ProductionHouse, live: list[Booking], *, on_grid_before: set[int]
) -> tuple[list[Booking], dict[int, str]]:
    """Those of `live` the calendar as it now stands in this transaction refuses, with why:
    the checks a new booking meets (bookings.check_alignment; calendar.open_windows as in
    bookings.check_calendar). Only a booking that was on the slot grid before (its id in
    `on_grid_before`) can fall off it: a plan's booking placed off the grid is not hit by a
    change of the hours. A machine's downtimes are not the calendar's business: a booking kept
    through a downtime stays kept."""
    if not live:
        return [], {}
    windows = calendar.open_windows(
        session, house, min(b.start_at for b in live), max(b.end_at for b in live)
    )
    starts = [w[0] for w in windows]
    why: dict[int, str] = {}
    for b in live:
        if b.id in on_grid_before and not on_slot_grid(house, b):
            why[b.id] = "not_aligned"
            continue
        i = bisect.bisect_right(starts, b.start_at) - 1
        if i < 0 or b.end_at > windows[i][1]:
            why[b.id] = _why_outside(session, house, b)
    return [b for b in live if b.id in why], why


def _booking_facts(change: CalendarChange) -> list[dict[str, Any]]:
    zone = ZoneInfo(change.timezone)
    return [
        {
            "booking_id": b.id,
            "member_id": b.member_id,
            "machine_id": b.machine_id,
            "machine": b.machine.name,
            "start": b.start_at.astimezone(zone).isoformat(),
            "end": b.end_at.astimezone(zone).isoformat(),
            "source": b.source.value,
            "why": change.why[b.id],
        }
        for b in change.bookings
    ]


def refuse_or_keep(savepoint: Any, change: CalendarChange, affected: str) -> None:
    """Undo the change written in `savepoint` on a dry run or when it is refused; keep it
    otherwise."""
    if change.dry_run:
        savepoint.rollback()
        return
    if change.bookings and affected == "refuse":
        facts = _booking_facts(change)
        savepoint.rollback()
        names = ", ".join(f"#{f['booking_id']}" for f in facts)
        raise Conflict(
            N_(
                "%(count)s live booking(s) would fall outside the new calendar: %(names)s. "
                "Preview them with dry_run=true, or apply with affected=cancel to cancel them "
                "and tell their members.",
                count=len(facts),
                names=names,
            ),
            code="bookings_affected",
            details={"bookings": facts},
        )
    savepoint.commit()


def settle_change(
    session: Session,
    actor: Actor,
    change: CalendarChange,
    *,
    reason: str,
    key: str,
    now: dt.datetime,
    cause: dict[str, Any],
    context: dict[str, Any],
) -> None:
    """Cancel the hit bookings, tell each member with alternatives, queue a re-plan."""
    if not change.bookings:
        return
    house = change.house
    zone = calendar.house_zone(house)

    def local_day_start(b: Booking) -> dt.datetime:
        day = b.start_at.astimezone(zone).date()
        return dt.datetime.combine(day, dt.time(0), tzinfo=zone).astimezone(dt.UTC)

    def notify(item: downtimes.AffectedBooking) -> None:
        downtimes.notify_affected(
            session,
            item,
            template="booking_calendar_change",
            key=f"{key}:booking:{item.booking.id}",
            context={"change": change.change, "house": house.name, **context},
        )

    change.affected = downtimes.settle_hit_bookings(
        session,
        actor,
        change.bookings,
        cancel_reason=reason,
        search_from=local_day_start,
        notify=notify,
        now=now,
    )
    from factoryshare.services import scheduling

    change.replan = scheduling.queue_replan(
        session, actor, None, change.bookings, now=now, house_id=house.id, cause=cause
    )
