"""The member's pages' week: Monday 15 February 2027, 08:00 WIB (no holiday that week; Nyepi
falls on Monday 8 March). `fix_clock` stands the tests' frozen clock (tests/clock.py) there; a test
file's `clock` fixture calls it."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from tests.clock import FrozenClock

JAKARTA = ZoneInfo("Asia/Jakarta")
MONDAY = dt.date(2027, 2, 15)
NOW = dt.datetime(2027, 2, 15, 8, 0, tzinfo=JAKARTA).astimezone(dt.UTC)
NYEPI = dt.date(2027, 3, 8)


def fix_clock(clock: FrozenClock) -> FrozenClock:
    """The product's clock at NOW (the pages, the bookings and the estimates alike)."""
    clock.set(NOW)
    return clock
