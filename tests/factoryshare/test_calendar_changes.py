"""A closure, a change of opening hours, of the slot grid or of the zone over live bookings:
preview them, refuse the change naming them, or cancel them (members told with alternatives,
solver work re-planned), as a downtime does."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from factoryshare.access import Actor
from factoryshare.errors import Conflict, ValidationFailed
from factoryshare.models import HouseClosure, Member, Role
from factoryshare.models.bookings import BookingSource, BookingStatus
from factoryshare.models.notifications import Notification
from factoryshare.models.scheduling import RunStatus, ScheduleAssignment, ScheduleRun
from factoryshare.services import bookings, calendar, houses
from tests.factories.bookings import at, working_day

SHORT_HOURS = {day: [["08:00", "12:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}


@pytest.fixture()
def scene(db, make_machine, make_member, make_user, make_booking):
    machine = make_machine(capabilities=["sewing"])
    spare = make_machine(house=machine.house, capabilities=["sewing"])
    member = make_member(house_id=machine.house_id)
    member_user = make_user(Role.member, member=member)
    manager = Actor.of(make_user(Role.manager, houses=[machine.house]))
    day = working_day()

    def booking(start: str, end: str, *, on=None, **kw):  # type: ignore[no-untyped-def]
        return make_booking(
            machine=machine,
            member=member,
            start_at=at(on or day, start),
            end_at=at(on or day, end),
            **kw,
        )

    return machine, spare, member_user, manager, day, booking


def _solver_booking(db, make_production_request, make_product, machine, member, booking):
    """A booking a published schedule run placed (source solver, linked by its assignment)."""
    request = make_production_request(
        earliest_start=booking.start_at - dt.timedelta(days=1),
        due=booking.end_at + dt.timedelta(days=3),
        product=make_product(member=member, routing=[("sewing", 15, 5)]),
    )
    run = ScheduleRun(
        house_id=machine.house_id,
        horizon_start=booking.start_at,
        horizon_end=booking.end_at,
        time_limit_seconds=1,
        status=RunStatus.published,
        attempts=1,
    )
    run.assignments = [
        ScheduleAssignment(
            operation_id=request.operations[0].id,
            machine_id=machine.id,
            start_at=booking.start_at,
            end_at=booking.end_at,
            booking_id=booking.id,
        )
    ]
    db.add(run)
    db.flush()
    return request


def _notes(db, user):
    return list(
        db.scalars(
            select(Notification).where(Notification.user_id == user.id).order_by(Notification.id)
        )
    )


# --- what a change hits ---------------------------------------------------------------------


def _closure(db, manager, house, day, **kw):  # type: ignore[no-untyped-def]
    return houses.close_house(
        db, manager, house.id, start_on=day, end_on=day, reason="renovasi", **kw
    )


def _settings(values):  # type: ignore[no-untyped-def]
    def change(db, manager, house, day, **kw):  # type: ignore[no-untyped-def]
        return houses.change_house(db, manager, house.id, values, **kw)

    return change


CHANGES = {
    # name: (the change, (start, end, next working day?) of the booking it hits, of one it spares)
    "closure": (_closure, ("09:00", "10:00", False), ("09:00", "10:00", True)),
    "opening_hours": (
        _settings({"opening_hours": SHORT_HOURS}),
        ("14:00", "15:00", False),
        ("09:00", "10:00", False),
    ),
    "slot_minutes": (
        _settings({"slot_minutes": 60}),
        ("09:30", "10:30", False),
        ("11:00", "12:00", False),
    ),
    # 16:00-17:00 WIB is 17:00-18:00 WITA: after closing time in the new zone.
    "timezone": (
        _settings({"timezone": "Asia/Makassar"}),
        ("16:00", "17:00", False),
        ("09:00", "10:00", False),
    ),
}


NEW_VALUES = {"opening_hours": SHORT_HOURS, "slot_minutes": 60, "timezone": "Asia/Makassar"}


def _apply(name, db, manager, house, day, **kw):  # type: ignore[no-untyped-def]
    return CHANGES[name][0](db, manager, house, day, **kw)


def _next_working(day):  # type: ignore[no-untyped-def]
    day += dt.timedelta(days=1)
    while day.weekday() > 4 or calendar.holiday_name(day) is not None:
        day += dt.timedelta(days=1)
    return day


def _make_pair(name, booking, day):  # type: ignore[no-untyped-def]
    pair = []
    for start, end, next_day in CHANGES[name][1:]:
        pair.append(booking(start, end, on=_next_working(day) if next_day else day))
    return pair


def _calendar_of(house):  # type: ignore[no-untyped-def]
    return (house.timezone, house.opening_hours, house.slot_minutes)


def _closures(db, house):  # type: ignore[no-untyped-def]
    return db.scalars(select(HouseClosure).where(HouseClosure.house_id == house.id)).all()


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_a_calendar_change_preview_lists_the_bookings_it_hits_and_changes_nothing(
    db, scene, change
):
    machine, _, member_user, manager, day, booking = scene
    house = machine.house
    hit, kept = _make_pair(change, booking, day)
    before = _calendar_of(house)

    result = _apply(change, db, manager, house, day, dry_run=True)

    assert result.dry_run
    assert [b.id for b in result.bookings] == [hit.id]
    assert result.why[hit.id] in ("house_closed", "outside_opening_hours", "not_aligned")
    db.expire_all()
    assert hit.status is BookingStatus.confirmed and kept.status is BookingStatus.confirmed
    assert _calendar_of(house) == before
    assert _closures(db, house) == []
    assert _notes(db, member_user) == []


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_a_calendar_change_over_live_bookings_is_refused_by_default_naming_them(db, scene, change):
    machine, _, member_user, manager, day, booking = scene
    house = machine.house
    hit, kept = _make_pair(change, booking, day)
    before = _calendar_of(house)

    with pytest.raises(Conflict) as exc:
        _apply(change, db, manager, house, day)

    assert exc.value.code == "bookings_affected"
    assert [b["booking_id"] for b in exc.value.details["bookings"]] == [hit.id]
    assert f"#{hit.id}" in exc.value.message
    db.expire_all()
    assert hit.status is BookingStatus.confirmed
    assert _calendar_of(house) == before
    assert _closures(db, house) == []
    assert _notes(db, member_user) == []


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_a_calendar_change_with_cancel_cancels_the_hit_bookings_and_tells_the_member_with_alternatives(
    db, scene, change
):
    machine, _, member_user, manager, day, booking = scene
    house = machine.house
    hit, kept = _make_pair(change, booking, day)

    result = _apply(change, db, manager, house, day, affected="cancel")

    assert [(a.booking.id, a.action) for a in result.affected] == [(hit.id, "cancelled")]
    assert hit.status is BookingStatus.cancelled and hit.cancelled_reason
    assert kept.status is BookingStatus.confirmed
    [note] = _notes(db, member_user)
    assert note.template == "booking_calendar_change"
    assert note.context["booking_id"] == hit.id and note.context["change"] == change
    assert note.context["action"] == "cancelled"
    assert 1 <= len(note.context["alternatives"]) <= 3
    # Each alternative offered is bookable under the new calendar.
    for alt_machine, start, end in result.affected[0].alternatives:
        bookings.check_alignment(house, start, end)
        bookings.check_calendar(db, house, alt_machine, start, end)
    assert result.replan is None  # nothing the solver placed was hit
    if change == "closure":
        assert len(_closures(db, house)) == 1
    else:
        assert getattr(house, change) == NEW_VALUES[change]


def test_a_closure_with_cancel_frees_the_days_and_names_its_reason_to_the_member(db, scene):
    machine, _, member_user, manager, day, booking = scene
    hit = booking("09:00", "10:00")
    houses.close_house(
        db,
        manager,
        machine.house_id,
        start_on=day,
        end_on=day,
        reason="renovasi atap",
        affected="cancel",
    )
    assert hit.cancelled_reason == "house closed: renovasi atap"
    assert hit.status is BookingStatus.cancelled
    [note] = _notes(db, member_user)
    assert note.context["closure_start"] == day.isoformat()
    assert "renovasi atap" in note.body
    # No alternative falls on the closed day.
    for slot in note.context["alternatives"]:
        assert not slot["start"].startswith(day.isoformat())


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_a_calendar_change_that_cancels_solver_placed_work_queues_a_replan(
    db, scene, change, make_production_request, make_product, make_member
):
    machine, _, member_user, manager, day, booking = scene
    hit, _ = _make_pair(change, booking, day)
    hit.source = BookingSource.solver
    db.flush()
    request = _solver_booking(
        db, make_production_request, make_product, machine, db.get(Member, hit.member_id), hit
    )

    result = _apply(change, db, manager, machine.house, day, affected="cancel")

    assert result.replan is not None and result.replan.purpose == "replan"
    assert result.replan.status is RunStatus.queued
    assert result.replan.policies["requests"] == [request.id]
    assert "downtime_id" not in result.replan.policies


def test_a_booking_kept_through_a_downtime_is_not_hit_by_a_change_of_hours(
    db, scene, make_downtime
):
    machine, _, _, manager, day, booking = scene
    kept = booking("09:00", "10:00")
    make_downtime(machine=machine, start_at=at(day, "08:00"), end_at=at(day, "12:00"))
    result = houses.change_house(
        db, manager, machine.house_id, {"opening_hours": SHORT_HOURS}, affected="cancel"
    )
    assert result.bookings == [] and kept.status is BookingStatus.confirmed


def test_a_change_of_other_settings_does_not_look_at_the_bookings(db, scene):
    machine, _, _, manager, day, booking = scene
    booking("09:30", "10:30")
    house = houses.update_house(db, manager, machine.house_id, {"hold_minutes": 60})
    assert house.hold_minutes == 60


def test_past_bookings_are_not_hit_by_a_calendar_change(db, scene):
    machine, _, _, manager, day, booking = scene
    booking("14:00", "15:00")
    after_it = at(day, "16:00")
    result = houses.change_house(
        db, manager, machine.house_id, {"opening_hours": SHORT_HOURS}, now=after_it
    )
    assert result.bookings == []


# --- zones ------------------------------------------------------------------------------------


@pytest.mark.parametrize("zone", ["Europe/London", "Asia/Bandung", "Asia/Ujung_Pandang", "UTC"])
def test_a_house_cannot_keep_a_zone_outside_indonesia(db, scene, zone):
    machine, _, _, manager, _, _ = scene
    with pytest.raises(ValidationFailed) as exc:
        houses.update_house(db, manager, machine.house_id, {"timezone": zone})
    assert "timezone" in exc.value.errors


@pytest.mark.parametrize(
    "zone", ["Asia/Jakarta", "Asia/Pontianak", "Asia/Makassar", "Asia/Jayapura"]
)
def test_a_house_may_keep_each_of_indonesias_zones(db, make_user, zone):
    admin = Actor.of(make_user(Role.admin))
    house = houses.create_house(
        db, admin, {"name": f"RPB {zone}", "timezone": zone, "opening_hours": SHORT_HOURS}
    )
    assert house.timezone == zone


def test_a_new_house_in_europe_london_is_refused(db, make_user):
    admin = Actor.of(make_user(Role.admin))
    with pytest.raises(ValidationFailed) as exc:
        houses.create_house(
            db,
            admin,
            {"name": "RPB London", "timezone": "Europe/London", "opening_hours": SHORT_HOURS},
        )
    assert "timezone" in exc.value.errors
