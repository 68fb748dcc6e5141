"""Booking rules as a member and a manager see them."""

from __future__ import annotations

import datetime as dt

import pytest

from factoryshare.access import Actor
from factoryshare.errors import Conflict, Forbidden, ValidationFailed
from factoryshare.models import HouseClosure, MachineStatus, Role
from factoryshare.models.bookings import Booking, BookingStatus
from factoryshare.services import bookings
from tests.factories.bookings import at, working_day


@pytest.fixture()
def machine(make_machine):
    return make_machine(hourly_rate=50_000)


@pytest.fixture()
def member_actor(make_member, make_user, machine):
    member = make_member(house_id=machine.house_id)
    return Actor.of(make_user(Role.member, member=member))


@pytest.fixture()
def manager_actor(make_user, machine):
    return Actor.of(make_user(Role.manager, houses=[machine.house]))


def book(db, actor, machine, start, end, **kw):
    return bookings.create_booking(db, actor, machine_id=machine.id, start=start, end=end, **kw)


def test_a_member_books_a_free_slot_and_pays_the_rate_for_its_duration(db, machine, member_actor):
    day = working_day()
    b = book(db, member_actor, machine, at(day, "09:00"), at(day, "10:30"))
    assert b.status is BookingStatus.confirmed
    assert b.price == 75_000
    assert b.hourly_rate == 50_000
    assert b.member_id == member_actor.member_id


def test_the_price_rounds_half_to_even_rupiah(make_machine):
    m = make_machine(hourly_rate=1)
    start = dt.datetime(2026, 12, 1, 1, tzinfo=dt.UTC)
    assert bookings.price_for(m, start, start + dt.timedelta(minutes=30)) == 0  # 0.5 -> 0
    m.hourly_rate = 3
    assert bookings.price_for(m, start, start + dt.timedelta(minutes=30)) == 2  # 1.5 -> 2
    m.hourly_rate = 125_000
    assert bookings.price_for(m, start, start + dt.timedelta(minutes=90)) == 187_500


def test_a_member_cannot_book_a_slot_that_overlaps_a_live_booking(db, machine, member_actor):
    day = working_day()
    book(db, member_actor, machine, at(day, "09:00"), at(day, "10:00"))
    with pytest.raises(Conflict) as exc:
        book(db, member_actor, machine, at(day, "09:30"), at(day, "11:00"))
    assert exc.value.code == "booking_conflict"
    # Touching end-to-start is fine.
    book(db, member_actor, machine, at(day, "10:00"), at(day, "11:00"))


def test_a_cancelled_booking_frees_its_slot(db, machine, member_actor):
    day = working_day()
    b = book(db, member_actor, machine, at(day, "09:00"), at(day, "10:00"))
    bookings.cancel_booking(db, member_actor, b.id)
    assert b.status is BookingStatus.cancelled
    book(db, member_actor, machine, at(day, "09:00"), at(day, "10:00"))


@pytest.mark.parametrize(
    ("start", "end", "code"),
    [("06:00", "08:30", "outside_opening_hours"), ("16:30", "17:30", "outside_opening_hours")],
)
def test_a_member_cannot_book_outside_opening_hours(db, machine, member_actor, start, end, code):
    day = working_day()
    with pytest.raises(Conflict) as exc:
        book(db, member_actor, machine, at(day, start), at(day, end))
    assert exc.value.code == code


def test_a_member_cannot_book_on_a_public_holiday(db, machine, member_actor):
    day = dt.date(2026, 12, 25)  # Christmas, a Friday
    now = at(dt.date(2026, 12, 1), "08:00")
    with pytest.raises(Conflict) as exc:
        bookings.create_booking(
            db,
            member_actor,
            machine_id=machine.id,
            start=at(day, "09:00"),
            end=at(day, "10:00"),
            now=now,
        )
    assert exc.value.code == "holiday"


def test_a_member_cannot_book_on_a_house_closure_day(db, machine, member_actor):
    day = working_day()
    db.add(HouseClosure(house_id=machine.house_id, start_on=day, end_on=day, reason="Stock opname"))
    db.flush()
    with pytest.raises(Conflict) as exc:
        book(db, member_actor, machine, at(day, "09:00"), at(day, "10:00"))
    assert exc.value.code == "house_closed"


def test_a_member_cannot_book_a_machine_during_its_downtime(
    db, machine, member_actor, make_downtime
):
    day = working_day()
    make_downtime(machine=machine, start_at=at(day, "09:30"), end_at=at(day, "12:00"))
    with pytest.raises(Conflict) as exc:
        book(db, member_actor, machine, at(day, "09:00"), at(day, "10:00"))
    assert exc.value.code == "machine_downtime"


def test_a_machine_in_maintenance_cannot_be_booked(db, machine, member_actor):
    machine.status = MachineStatus.maintenance
    day = working_day()
    with pytest.raises(Conflict) as exc:
        book(db, member_actor, machine, at(day, "09:00"), at(day, "10:00"))
    assert exc.value.code == "machine_unavailable"


def test_a_member_cannot_book_in_the_past_or_too_far_ahead(clock, db, machine, member_actor):
    past = clock.today() - dt.timedelta(days=7)
    with pytest.raises(Conflict) as exc:
        book(db, member_actor, machine, at(past, "09:00"), at(past, "10:00"))
    assert exc.value.code == "in_the_past"
    far = working_day(days_ahead=machine.house.max_days_ahead + 5)
    with pytest.raises(Conflict) as exc:
        book(db, member_actor, machine, at(far, "09:00"), at(far, "10:00"))
    assert exc.value.code == "too_far_ahead"


def test_times_off_the_house_slot_grid_are_refused_naming_the_field(db, machine, member_actor):
    day = working_day()
    with pytest.raises(ValidationFailed) as exc:
        book(db, member_actor, machine, at(day, "09:10"), at(day, "10:00"))
    assert exc.value.code == "not_aligned"
    assert "start" in exc.value.errors
    with pytest.raises(ValidationFailed) as exc:
        book(db, member_actor, machine, at(day, "10:00"), at(day, "09:00"))
    assert "end" in exc.value.errors


def test_a_weekly_quota_stops_a_member_and_says_how_many_hours_are_left(
    db, machine, member_actor, make_booking_quota
):
    cap = machine.capabilities[0]
    make_booking_quota(house=machine.house, capability=cap, hours_per_week=3)
    day = working_day()
    book(db, member_actor, machine, at(day, "09:00"), at(day, "11:00"))
    with pytest.raises(Conflict) as exc:
        book(db, member_actor, machine, at(day, "13:00"), at(day, "15:00"))
    assert exc.value.code == "quota_exceeded"
    assert exc.value.details["hours_left"] == 1
    book(db, member_actor, machine, at(day, "13:00"), at(day, "14:00"))


def test_a_house_requiring_confirmation_holds_a_member_booking_until_a_manager_confirms(
    db, machine, member_actor, manager_actor
):
    machine.house.requires_confirmation = True
    machine.house.hold_minutes = 60
    day = working_day()
    b = book(db, member_actor, machine, at(day, "09:00"), at(day, "10:00"))
    assert b.status is BookingStatus.held
    assert b.hold_expires_at is not None
    with pytest.raises(Forbidden):
        bookings.confirm_booking(db, member_actor, b.id)
    bookings.confirm_booking(db, manager_actor, b.id)
    assert b.status is BookingStatus.confirmed
    assert b.hold_expires_at is None


def test_an_expired_hold_is_cancelled_and_its_slot_freed(db, machine, member_actor):
    machine.house.requires_confirmation = True
    machine.house.hold_minutes = 30
    day = working_day()
    b = book(db, member_actor, machine, at(day, "09:00"), at(day, "10:00"))
    assert bookings.expire_holds(db, b.hold_expires_at - dt.timedelta(minutes=1)) == 0
    assert bookings.expire_holds(db, b.hold_expires_at + dt.timedelta(minutes=1)) == 1
    assert b.status is BookingStatus.cancelled
    assert b.cancelled_reason == "hold expired"
    book(db, member_actor, machine, at(day, "09:00"), at(day, "10:00"))


def test_a_manager_books_on_behalf_of_a_member_of_the_house_only(
    db, machine, manager_actor, make_member
):
    day = working_day()
    member = make_member(house_id=machine.house_id)
    b = book(db, manager_actor, machine, at(day, "09:00"), at(day, "10:00"), member_id=member.id)
    assert b.member_id == member.id
    stranger = make_member()
    with pytest.raises(ValidationFailed) as exc:
        book(db, manager_actor, machine, at(day, "11:00"), at(day, "12:00"), member_id=stranger.id)
    assert "member_id" in exc.value.errors


def test_moving_a_booking_applies_the_same_checks_and_reprices_it(db, machine, member_actor):
    day = working_day()
    a = book(db, member_actor, machine, at(day, "09:00"), at(day, "10:00"))
    book(db, member_actor, machine, at(day, "11:00"), at(day, "12:00"))
    with pytest.raises(Conflict) as exc:
        bookings.move_booking(db, member_actor, a.id, start=at(day, "10:30"), end=at(day, "11:30"))
    assert exc.value.code == "booking_conflict"
    bookings.move_booking(db, member_actor, a.id, start=at(day, "13:00"), end=at(day, "15:00"))
    assert (a.start_at, a.price) == (at(day, "13:00"), 100_000)
    # Moving within its own old slot does not clash with itself.
    bookings.move_booking(db, member_actor, a.id, start=at(day, "13:30"), end=at(day, "15:00"))


def test_a_manager_marks_completed_and_no_show_but_not_twice(
    db, machine, member_actor, manager_actor
):
    day = working_day()
    a = book(db, member_actor, machine, at(day, "09:00"), at(day, "10:00"))
    b = book(db, member_actor, machine, at(day, "10:00"), at(day, "11:00"))
    later = at(day, "10:15")  # a has started; b is 15 minutes (the house's grace) late
    bookings.complete_booking(db, manager_actor, a.id, now=later)
    bookings.mark_no_show(db, manager_actor, b.id, now=later)
    assert (a.status, b.status) == (BookingStatus.completed, BookingStatus.no_show)
    with pytest.raises(Conflict) as exc:
        bookings.cancel_booking(db, member_actor, a.id)
    assert exc.value.code == "invalid_transition"


def test_members_see_only_their_own_bookings(db, machine, member_actor, make_booking, make_user):
    mine = book(db, member_actor, machine, at(working_day(), "09:00"), at(working_day(), "10:00"))
    other = make_booking(
        machine=machine, start_at=at(working_day(), "12:00"), end_at=at(working_day(), "13:00")
    )
    assert [b.id for b in bookings.list_bookings(db, member_actor)] == [mine.id]
    outsider = Actor.of(make_user(Role.manager))
    assert bookings.list_bookings(db, outsider) == []
    admin = Actor.of(make_user(Role.admin))
    assert {b.id for b in bookings.list_bookings(db, admin)} >= {mine.id, other.id}
    assert db.query(Booking).count() >= 2


def test_a_hold_expires_no_later_than_the_start_of_the_slot_it_holds(db, machine, member_actor):
    machine.house.requires_confirmation = True
    machine.house.hold_minutes = 60 * 24 * 30
    day = working_day()
    b = book(db, member_actor, machine, at(day, "09:00"), at(day, "10:00"))
    assert b.hold_expires_at == b.start_at


def test_a_members_bookings_are_upcoming_until_they_end_and_only_the_latest_past_ones_are_listed(
    db, clock, make_machine, make_member, make_user, make_booking
):
    machine = make_machine()
    member = make_member(house_id=machine.house_id)
    me = Actor.of(make_user(Role.member, member=member))
    now = clock.now()
    hour = dt.timedelta(hours=1)
    past = [
        make_booking(
            machine=machine,
            member=member,
            start_at=now - (n + 2) * hour,
            end_at=now - (n + 1) * hour,
        )
        for n in range(3)
    ]
    under_way = make_booking(machine=machine, member=member, start_at=now - hour, end_at=now + hour)
    later = make_booking(
        machine=machine, member=member, start_at=now + 2 * hour, end_at=now + 3 * hour
    )
    make_booking(machine=machine, start_at=now + 4 * hour, end_at=now + 5 * hour)  # someone else's

    upcoming, recent = bookings.upcoming_and_recent(db, me, recent=2)
    assert [b.id for b in upcoming] == [under_way.id, later.id]
    assert [b.id for b in recent] == [past[0].id, past[1].id]  # the latest first, two of three
