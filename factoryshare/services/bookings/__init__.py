"""Booking machine time: the checks a booking must pass, holds, prices, quotas, moves,
cancellation and the manager's confirm / complete / no-show.

Two live bookings of one machine never overlap. On PostgreSQL an exclusion constraint makes
the database refuse the second one whatever the timing (a violation becomes the same 409
`booking_conflict`); on SQLite every write transaction starts with BEGIN IMMEDIATE, so the
overlap check (`slot_facts`) and the insert run serialised. The insert runs in a SAVEPOINT
of its own (`flush_guarded`), so a booking that loses its slot undoes only itself.

A member's weekly quota has no row to lock: the count and the insert run one at a time per
member and week (`locking.advisory_lock` in checks.py's quota check, before counting).

Error codes (all 409 unless noted): booking_conflict, outside_opening_hours, holiday,
house_closed, machine_downtime, machine_unavailable, quota_exceeded, too_far_ahead,
in_the_past, invalid_transition, too_early (complete before the start, no-show before the start
plus the house's grace); `not_aligned` is a 422 (the input itself is malformed for the
house: times off the house's slot grid), as is an end not after its start.

Every change of state (move, cancel, confirm, complete, no-show, a hold expiring) first locks
the booking's row and reads its state again (factoryshare/locking.py): of two conflicting
changes at once, one wins and the other answers 409 `invalid_transition` with the state the
winner left.

The package by area (callers import from the package, which re-exports every public name):
- common: the longest booking, the bookings' scope rule, a moment in the house's zone, prices,
  and the guarded write of a booking (`flush_guarded`);
- checks: the slot's facts, times, grid, calendar, overlap and quota checks (`check_slot`);
- lifecycle: create, move, cancel, reject, confirm, complete, no-show, holds expiring;
- listing: one booking, lists and pages in the caller's scope, the overlap count;
- windows: free windows, alternative slots, a house's availability (free windows per machine);
- quotas: a house's weekly quotas, read and replaced.
"""

from __future__ import annotations

from factoryshare.services.bookings.checks import (
    Closed,
    Down,
    SlotFacts,
    assert_machine_free,
    check_alignment,
    check_calendar,
    check_slot,
    check_times,
    hours_booked,
    slot_facts,
)
from factoryshare.services.bookings.common import (
    LONGEST_BOOKING,
    MAX_BOOKING_HOURS,
    flush_guarded,
    house_moment,
    price_for,
)
from factoryshare.services.bookings.lifecycle import (
    cancel_booking,
    cancel_loaded_booking,
    complete_booking,
    confirm_booking,
    create_booking,
    expire_holds,
    mark_no_show,
    move_booking,
    move_loaded_booking,
    reject_booking,
)
from factoryshare.services.bookings.listing import (
    booking_query,
    count_overlapping_live,
    get_booking,
    list_bookings,
    page_of_bookings,
    upcoming_and_recent,
)
from factoryshare.services.bookings.quotas import (
    house_quotas,
    replace_quotas,
)
from factoryshare.services.bookings.windows import (
    alternative_slots,
    availability,
    free_windows,
    free_windows_of,
)

__all__ = [
    "LONGEST_BOOKING",
    "MAX_BOOKING_HOURS",
    "Closed",
    "Down",
    "SlotFacts",
    "alternative_slots",
    "assert_machine_free",
    "availability",
    "booking_query",
    "cancel_booking",
    "cancel_loaded_booking",
    "check_alignment",
    "check_calendar",
    "check_slot",
    "check_times",
    "complete_booking",
    "confirm_booking",
    "count_overlapping_live",
    "create_booking",
    "expire_holds",
    "flush_guarded",
    "free_windows",
    "free_windows_of",
    "get_booking",
    "hours_booked",
    "house_moment",
    "house_quotas",
    "list_bookings",
    "mark_no_show",
    "move_booking",
    "move_loaded_booking",
    "page_of_bookings",
    "price_for",
    "reject_booking",
    "replace_quotas",
    "slot_facts",
    "upcoming_and_recent",
]
