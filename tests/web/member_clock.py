"""A fixed clock for the member's pages: Monday 3 March 2031, 08:00 WIB (no holiday that week;
Nyepi falls on Monday 24 March). Patches `utcnow` where the member's pages and the services
they call read it."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

JAKARTA = ZoneInfo("Asia/Jakarta")
MONDAY = dt.date(2031, 3, 3)
NOW = dt.datetime(2031, 3, 3, 8, 0, tzinfo=JAKARTA).astimezone(dt.UTC)
NYEPI = dt.date(2031, 3, 24)


class Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def at(self, day: dt.date, hhmm: str) -> dt.datetime:
        hours, minutes = (int(x) for x in hhmm.split(":"))
        return dt.datetime.combine(day, dt.time(hours, minutes), tzinfo=JAKARTA).astimezone(dt.UTC)


def fix_clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The clock of the member's pages and their services, fixed at NOW (a test's `clock`
    fixture calls this)."""
    from api.web import member
    from factoryshare.services import request_estimate, slot_grid
    from factoryshare.services.bookings import lifecycle, listing, windows

    fixed = Clock(NOW)
    # The bookings package reads the clock in these three of its modules.
    for module in (member, lifecycle, listing, windows, slot_grid, request_estimate):
        monkeypatch.setattr(module, "utcnow", lambda: fixed.now)
    return fixed
