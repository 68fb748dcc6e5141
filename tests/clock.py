"""The tests' clock: a frozen instant the product reads through `factoryshare.clock`.

Every test runs at `START` (Tuesday 1 December 2026, 09:00 WIB; no Indonesian public holiday
that week) unless it moves the clock with `clock.set(...)` or `clock.advance(...)`, or is
marked `wall_clock`. Dates a test uses are then written relative to it (`clock.today()`,
`clock.weekday(...)`) or as fixed dates shortly after it, so that "in the past", "today" and
"expires in 30 days" mean the same on whatever day the suite runs.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

JAKARTA = ZoneInfo("Asia/Jakarta")
START = dt.datetime(2026, 12, 1, 9, 0, tzinfo=JAKARTA)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class FrozenClock:
    """A clock that stands still until a test moves it."""

    def __init__(self, start: dt.datetime = START) -> None:
        self._now = start.astimezone(dt.UTC)

    def now(self) -> dt.datetime:
        """The frozen instant, aware, in UTC (what `factoryshare.clock.now()` answers)."""
        return self._now

    def set(self, when: dt.datetime | dt.date, hhmm: str = "09:00") -> dt.datetime:
        """Stand at `when`; a date means `hhmm` WIB on that day."""
        if not isinstance(when, dt.datetime):
            when = self.at(when, hhmm)
        if when.tzinfo is None:
            raise ValueError("give the clock an aware datetime")
        self._now = when.astimezone(dt.UTC)
        return self._now

    def advance(self, delta: dt.timedelta | None = None, **units: float) -> dt.datetime:
        """Move forward by `delta` or by timedelta's keywords (`advance(minutes=16)`)."""
        self._now += (delta or dt.timedelta()) + dt.timedelta(**units)
        return self._now

    def today(self, zone: str | dt.tzinfo = JAKARTA) -> dt.date:
        """The date now in `zone` (WIB unless given)."""
        return self._now.astimezone(ZoneInfo(zone) if isinstance(zone, str) else zone).date()

    def weekday(self, name: str, weeks: int = 1, zone: str | dt.tzinfo = JAKARTA) -> dt.date:
        """The `name`d weekday (mon..sun) in the `weeks`-th week after this one (weeks=0: this
        week, which may be past)."""
        today = self.today(zone)
        monday = today - dt.timedelta(days=today.weekday())
        return monday + dt.timedelta(weeks=weeks, days=WEEKDAYS.index(name))

    @staticmethod
    def at(day: dt.date, hhmm: str, zone: str | dt.tzinfo = JAKARTA) -> dt.datetime:
        """`hhmm` local time on `day` in `zone`, in UTC."""
        hours, minutes = (int(x) for x in hhmm.split(":"))
        tz = ZoneInfo(zone) if isinstance(zone, str) else zone
        return dt.datetime.combine(day, dt.time(hours, minutes), tzinfo=tz).astimezone(dt.UTC)
