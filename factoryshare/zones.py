"""Indonesia's time zones: the one table of their names (Keppres 41/1987).

A house keeps one of the canonical IANA names below; times are shown with WIB, WITA or WIT
(Waktu Indonesia Barat / Tengah / Timur). Any other zone is named by its UTC offset at the
moment shown, and an offset of +7, +8 or +9 hours gets the Indonesian name too.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from factoryshare import clock

# The zones a house may keep.
INDONESIAN_ZONES = ("Asia/Jakarta", "Asia/Pontianak", "Asia/Makassar", "Asia/Jayapura")

ABBREVIATIONS = {
    "Asia/Jakarta": "WIB",
    "Asia/Pontianak": "WIB",
    "Asia/Makassar": "WITA",
    "Asia/Ujung_Pandang": "WITA",  # the old name of Asia/Makassar
    "Asia/Jayapura": "WIT",
}
_BY_OFFSET = {7 * 60: "WIB", 8 * 60: "WITA", 9 * 60: "WIT"}


def abbreviation(tz: str | dt.tzinfo, at: dt.datetime | None = None) -> str:
    """WIB, WITA or WIT for an Indonesian zone; otherwise `UTC+hh:mm` at `at` (default now)."""
    name = tz if isinstance(tz, str) else getattr(tz, "key", str(tz))
    if name in ABBREVIATIONS:
        return ABBREVIATIONS[name]
    try:
        zone = ZoneInfo(name) if isinstance(tz, str) else tz
    except (ZoneInfoNotFoundError, ValueError):
        zone = dt.UTC
    offset = (at or clock.now()).astimezone(zone).utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    if minutes in _BY_OFFSET:
        return _BY_OFFSET[minutes]
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
