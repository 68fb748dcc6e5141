"""What waits for a house's manager today: the held bookings to confirm or reject, the schedule
runs ready to review, the downtimes of today and the permits to look after. One call gives the
counts the manager's home page shows (and GET /houses/{id}/agenda serves).

- held bookings: `waiting_holds` (held and not yet over);
- runs to review: the house's runs that succeeded and are not yet published or discarded;
- downtimes today: those of the house's machines overlapping today, the house's local day;
- permit warnings: permits of the house's members that are expired, expiring, need review or
  are pending (PERMIT_WARNING_STATES, permits.state), the entries waiting for the house to
  verify them, and the products a missing permit blocks now (permits.overview).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from factoryshare.access import Actor, managed_house
from factoryshare.db import utcnow
from factoryshare.models.bookings import Booking, BookingStatus
from factoryshare.models.scheduling import RunStatus, ScheduleRun
from factoryshare.services import bookings, calendar, downtimes, permits

# The permit states a manager should act on, the most pressing first.
PERMIT_WARNING_STATES = ("expired", "expiring", "needs_review", "pending")


def waiting_holds(
    session: Session, actor: Actor, house_id: int, *, now: dt.datetime | None = None
) -> list[Booking]:
    """The held bookings of a house that wait for its manager to confirm or reject them: held
    and not yet over (a hold whose time has passed can no longer be confirmed usefully; only a
    held booking can be rejected at all: bookings.reject_booking)."""
    now = now or utcnow()
    return list(
        session.scalars(
            bookings.booking_query(actor, house_id=house_id, status=BookingStatus.held, start=now)
        )
    )


def house_agenda(
    session: Session, actor: Actor, house_id: int, *, now: dt.datetime | None = None
) -> dict[str, Any]:
    """The counts of what waits for the house's manager (see the module docstring), with the
    local day they were taken on and the oldest held booking's hold expiry."""
    house = managed_house(session, actor, house_id)
    now = now or utcnow()
    zone = calendar.house_zone(house)
    today = now.astimezone(zone).date()
    day_start = dt.datetime.combine(today, dt.time(0), tzinfo=zone).astimezone(dt.UTC)
    day_end = dt.datetime.combine(today + dt.timedelta(days=1), dt.time(0), tzinfo=zone).astimezone(
        dt.UTC
    )
    held = waiting_holds(session, actor, house.id, now=now)
    expiries = [b.hold_expires_at for b in held if b.hold_expires_at is not None]
    runs_ready = (
        session.scalar(
            select(func.count())
            .select_from(ScheduleRun)
            .where(ScheduleRun.house_id == house.id, ScheduleRun.status == RunStatus.succeeded)
        )
        or 0
    )
    down = downtimes.downtimes_between(session, actor, house.id, day_start, day_end)
    summary = permits.overview(session, actor, house_id=house.id, now=now)
    by_state = {state: int(summary.get(state) or 0) for state in PERMIT_WARNING_STATES}
    waiting_verification = int((summary.get("verification") or {}).get("submitted") or 0)
    blocked = len(summary.get("blocked_products") or [])
    return {
        "house_id": house.id,
        "day": today,
        "held_bookings": len(held),
        "next_hold_expiry": min(expiries).astimezone(zone) if expiries else None,
        "runs_to_review": int(runs_ready),
        "downtimes_today": len(down),
        "permit_warnings": sum(by_state.values()),
        "permits_by_state": by_state,
        "permits_to_verify": waiting_verification,
        "blocked_products": blocked,
    }
