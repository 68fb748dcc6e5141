"""Factories for bookings, downtimes and quotas, plus helpers that pick bookable times."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session

from factoryshare import clock
from factoryshare.models import Capability, Downtime, DowntimeKind, Machine
from factoryshare.models.bookings import Booking, BookingQuota, BookingStatus
from factoryshare.services import calendar


def working_day(days_ahead: int = 7, tz: str = "Asia/Jakarta") -> dt.date:
    """The first Monday-to-Friday local date at least `days_ahead` days from today (the
    product's clock, frozen in tests) that is not an Indonesian holiday or cuti bersama."""
    day = clock.now().astimezone(ZoneInfo(tz)).date() + dt.timedelta(days=days_ahead)
    while day.weekday() > 4 or calendar.holiday_name(day) is not None:
        day += dt.timedelta(days=1)
    return day


def at(day: dt.date, hhmm: str, tz: str = "Asia/Jakarta") -> dt.datetime:
    """Local wall-clock time `hhmm` on `day` in zone `tz`, as an aware UTC datetime."""
    hours, minutes = (int(p) for p in hhmm.split(":"))
    local = dt.datetime.combine(day, dt.time(hours, minutes), tzinfo=ZoneInfo(tz))
    return local.astimezone(dt.UTC)


@pytest.fixture()
def make_booking(db: Session, make_machine, make_member) -> Callable[..., Booking]:  # type: ignore[no-untyped-def]
    def make(**overrides: Any) -> Booking:
        machine = overrides.pop("machine", None)
        if machine is None and "machine_id" not in overrides:
            machine = make_machine()
        if machine is not None:
            overrides["machine_id"] = machine.id
        member = overrides.pop("member", None)
        if member is None and "member_id" not in overrides:
            house_id = machine.house_id if machine is not None else None
            member = make_member(house_id=house_id) if house_id else make_member()
        if member is not None:
            overrides["member_id"] = member.id
        day = working_day()
        values: dict[str, Any] = {
            "start_at": at(day, "09:00"),
            "end_at": at(day, "10:00"),
            "status": BookingStatus.confirmed,
            "price": 50_000,
            "hourly_rate": 50_000,
            "note": "",
        }
        values.update(overrides)
        obj = Booking(**values)
        db.add(obj)
        db.flush()
        return obj

    return make


@pytest.fixture()
def make_downtime(db: Session, make_machine) -> Callable[..., Downtime]:  # type: ignore[no-untyped-def]
    def make(**overrides: Any) -> Downtime:
        machine: Machine | None = overrides.pop("machine", None)
        if machine is None and "machine_id" not in overrides:
            machine = make_machine()
        if machine is not None:
            overrides["machine_id"] = machine.id
        day = working_day()
        values: dict[str, Any] = {
            "start_at": at(day, "08:00"),
            "end_at": at(day, "12:00"),
            "kind": DowntimeKind.maintenance,
            "reason": "Servis rutin",
        }
        values.update(overrides)
        obj = Downtime(**values)
        db.add(obj)
        db.flush()
        return obj

    return make


@pytest.fixture()
def make_booking_quota(db: Session, make_house, make_capability) -> Callable[..., BookingQuota]:  # type: ignore[no-untyped-def]
    def make(**overrides: Any) -> BookingQuota:
        house = overrides.pop("house", None)
        if house is None and "house_id" not in overrides:
            house = make_house()
        if house is not None:
            overrides["house_id"] = house.id
        capability: Capability | None = overrides.pop("capability", None)
        if capability is None and "capability_id" not in overrides:
            capability = make_capability(code="sewing", name="sewing")
        if capability is not None:
            overrides["capability_id"] = capability.id
        values: dict[str, Any] = {"hours_per_week": 4}
        values.update(overrides)
        obj = BookingQuota(**values)
        db.add(obj)
        db.flush()
        return obj

    return make
