"""The member's pages' week: Monday 3 March 2031, 08:00 WIB (no holiday that week; Nyepi falls
on Monday 24 March). `fix_clock` stands the tests' frozen clock (tests/clock.py) there; a test
file's `clock` fixture calls it."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from tests.clock import FrozenClock

JAKARTA = ZoneInfo("Asia/Jakarta")
MONDAY = dt.date(2031, 3, 3)
NOW = dt.datetime(2031, 3, 3, 8, 0, tzinfo=JAKARTA).astimezone(dt.UTC)
NYEPI = dt.date(2031, 3, 24)


def fix_clock(clock: FrozenClock) -> FrozenClock:
    """The product's clock at NOW (the pages, the bookings and the estimates alike)."""
    clock.set(NOW)
    return clock
