"""Signing in through the login form, as a browser does, with the CSRF token of the page."""

from __future__ import annotations

import datetime as dt
import re

from factoryshare import clock
from factoryshare.services import calendar
from tests.conftest import TEST_PASSWORD

_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf(client, url: str = "/login") -> str:  # type: ignore[no-untyped-def]
    page = client.get(url)
    match = _TOKEN.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {url}"
    return match.group(1)


def sign_in(client, user, password: str = TEST_PASSWORD, **extra):  # type: ignore[no-untyped-def]
    return client.post(
        "/login",
        data={"email": user.email, "password": password, "csrf_token": csrf(client), **extra},
    )


def next_working_day(days_ahead: int = 2) -> dt.date:
    """A Monday-to-Friday day at least `days_ahead` days from now (the product's
    clock, frozen in tests) that is no public holiday."""
    day = clock.now().date() + dt.timedelta(days=days_ahead)
    while day.weekday() >= 5 or calendar.holiday_name(day) is not None:
        day += dt.timedelta(days=1)
    return day
