"""Production houses: their settings, closures and the holiday calendar they follow.

Every signed-in user reads houses (members must see them to book). Admins open and remove
houses; an admin or a manager of the house changes its settings and closures. Opening hours
are a weekday map of local ("HH:MM", "HH:MM") intervals; they are validated here so that the
calendar never meets a malformed day.

The package by area (callers import from the package, which re-exports every public name):
- settings: open, read, list, change and remove a house; its settings validated (opening
  hours, zone, no-show grace, frozen window, slot grid); who may change it;
- calendar_changes: what a closure or a change of the opening hours, slot grid or zone does
  to the live bookings it leaves outside the new calendar (refused, or cancelled with their
  members told and a re-plan queued), and a dry run of it;
- closures: a house's closures added, listed and removed, and the days of a year it is shut.
"""

from __future__ import annotations

from factoryshare.services.houses.calendar_changes import (
    AFFECTED_CHOICES,
    CalendarChange,
    bookings_outside,
    change_name,
    check_affected,
    live_bookings,
    on_slot_grid,
    refuse_or_keep,
    settle_change,
)
from factoryshare.services.houses.closures import (
    MAX_CLOSURE_DAYS,
    add_closure,
    close_house,
    closed_days,
    delete_closure,
    list_closures,
)
from factoryshare.services.houses.settings import (
    CALENDAR_SETTINGS,
    MAX_FROZEN_HOURS,
    MAX_NO_SHOW_GRACE_MINUTES,
    SETTINGS,
    change_house,
    create_house,
    delete_house,
    get_house,
    list_houses,
    require_manager,
    update_house,
    validate_opening_hours,
)

__all__ = [
    "AFFECTED_CHOICES",
    "CALENDAR_SETTINGS",
    "MAX_CLOSURE_DAYS",
    "MAX_FROZEN_HOURS",
    "MAX_NO_SHOW_GRACE_MINUTES",
    "SETTINGS",
    "CalendarChange",
    "add_closure",
    "bookings_outside",
    "change_house",
    "change_name",
    "check_affected",
    "close_house",
    "closed_days",
    "create_house",
    "delete_closure",
    "delete_house",
    "get_house",
    "list_closures",
    "list_houses",
    "live_bookings",
    "on_slot_grid",
    "refuse_or_keep",
    "require_manager",
    "settle_change",
    "update_house",
    "validate_opening_hours",
]
