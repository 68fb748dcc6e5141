"""A booking's lifecycle as the house lives it: completed and no-show only once it started
(a no-show after the house's grace), a rejection the member hears about with its reason, and a
held booking's hold that moves with it. Every clock here is fixed (services take `now=`)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from factoryshare import events
from factoryshare.access import Actor
from factoryshare.errors import Conflict, ValidationFailed
from factoryshare.jobs.runner import run_job
from factoryshare.models import AuditEvent, Role
from factoryshare.models.bookings import BookingStatus
from factoryshare.models.notifications import Notification
from factoryshare.services import bookings, houses, loans
from tests.factories.bookings import at, working_day

ADMIN = Actor(user_id=None, role=Role.admin)


@pytest.fixture()
def confirmed(db, make_house, make_machine, make_member, make_user):  # type: ignore[no-untyped-def]
    """A confirmed booking 09:00-10:00 WIB on a working day, and the house's manager."""
    house = make_house()
    machine = make_machine(house=house)
    member = Actor(user_id=None, role=Role.member, member_id=make_member(house_id=house.id).id)
    manager = Actor.of(make_user(Role.manager, houses=[house]))
    day = working_day()
    before = at(day, "08:00")
    booking = bookings.create_booking(
        db,
        member,
        machine_id=machine.id,
        start=at(day, "09:00"),
        end=at(day, "10:00"),
        now=before - dt.timedelta(days=1),
    )
    return booking, manager, day


def _audited(db, booking, action):
    return db.scalar(
        select(func.count())
        .select_from(AuditEvent)
        .where(
            AuditEvent.object_type == "bookings",
            AuditEvent.object_id == str(booking.id),
            AuditEvent.action == action,
        )
    )


def test_a_booking_cannot_be_completed_before_it_starts_and_nothing_changes(db, confirmed):
    booking, manager, day = confirmed

    with pytest.raises(Conflict) as exc:
        bookings.complete_booking(db, manager, booking.id, now=at(day, "08:59"))

    assert exc.value.code == "too_early"
    # The earliest moment, in the house's own zone (WIB).
    assert exc.value.details["earliest"] == f"{day.isoformat()}T09:00:00+07:00"
    assert booking.status is BookingStatus.confirmed
    assert _audited(db, booking, "booking.completed") == 0


def test_a_booking_is_completed_from_its_start(db, confirmed):
    booking, manager, day = confirmed

    bookings.complete_booking(db, manager, booking.id, now=at(day, "09:00"))

    assert booking.status is BookingStatus.completed


def test_a_no_show_is_marked_only_after_the_start_plus_the_houses_grace(db, confirmed):
    booking, manager, day = confirmed
    house = booking.machine.house
    assert house.no_show_grace_minutes == 15  # the default
    houses.update_house(db, manager, house.id, {"no_show_grace_minutes": 20})

    with pytest.raises(Conflict) as exc:
        bookings.mark_no_show(db, manager, booking.id, now=at(day, "09:19"))
    assert exc.value.code == "too_early"
    assert exc.value.details["earliest"] == f"{day.isoformat()}T09:20:00+07:00"
    assert booking.status is BookingStatus.confirmed

    bookings.mark_no_show(db, manager, booking.id, now=at(day, "09:20"))
    assert booking.status is BookingStatus.no_show


def test_a_houses_manager_sets_the_no_show_grace_and_a_negative_one_is_refused_naming_it(
    db, confirmed
):
    booking, manager, _day = confirmed
    house = booking.machine.house

    with pytest.raises(ValidationFailed) as exc:
        houses.update_house(db, manager, house.id, {"no_show_grace_minutes": -5})
    assert "no_show_grace_minutes" in exc.value.errors
    assert (
        houses.update_house(
            db, manager, house.id, {"no_show_grace_minutes": 0}
        ).no_show_grace_minutes
        == 0
    )


def test_link_financing_releases_nothing_for_a_booking_not_yet_started(
    db,
    tmp_path,
    make_house,
    make_machine,
    make_member,
    make_cluster,
    make_product,
    make_user,
    make_lender,
):
    house = make_house()
    machine = make_machine(house=house, hourly_rate=100_000)
    chair = make_member(house=house)
    cluster = make_cluster(members=[chair], chair_member_id=chair.id, house_id=house.id)
    product = make_product(member=chair)
    member = Actor(user_id=None, role=Role.member, member_id=chair.id)
    manager = Actor.of(make_user(Role.manager, houses=[house]))
    lender = Actor.of(make_user(Role.lender, lender=make_lender()))
    day = working_day()
    today = at(day, "08:00") - dt.timedelta(days=1)
    tomorrow = bookings.create_booking(
        db,
        member,
        machine_id=machine.id,
        product_id=product.id,
        start=at(day, "09:00"),
        end=at(day, "12:00"),
        now=today,
    )
    app = loans.create(
        db,
        ADMIN,
        cluster_id=cluster.id,
        requested_amount=1_000_000,
        tenor_months=12,
        on=today.date(),
        lender_id=lender.lender_id,
    )
    loans.set_plan(db, ADMIN, app.id, booking_ids=[tomorrow.id], material_costs={chair.id: 500_000})
    loans.submit(db, ADMIN, app.id)
    loans.approve(db, ADMIN, app.id)
    loans.lender_decision(db, lender, app.id, approved=True, reference="KUR/2026/0777")
    loans.disburse(db, lender, app.id, amount=100_000)

    # The manager tries to complete tomorrow's booking today: refused, so no money is earned.
    with pytest.raises(Conflict) as exc:
        bookings.complete_booking(db, manager, tomorrow.id, now=today)
    assert exc.value.code == "too_early"
    released = run_job(db, "link_financing", lock_dir=tmp_path, now=today)

    assert released.counts["tranches_released"] == 0
    assert loans.disbursed_total(db, app) == 100_000


def test_a_rejected_hold_tells_the_member_why(
    db, monkeypatch, make_house, make_machine, make_member, make_user
):
    heard: list[tuple[int, str]] = []
    monkeypatch.setitem(
        events.SUBSCRIBERS,
        "booking_rejected",
        [*events.SUBSCRIBERS["booking_rejected"], f"{__name__}:_hear_rejection"],
    )
    monkeypatch.setattr(f"{__name__}._HEARD", heard)
    house = make_house(requires_confirmation=True)
    machine = make_machine(house=house)
    member_user = make_user(Role.member, member=make_member(house_id=house.id))
    member = Actor.of(member_user)
    manager = Actor.of(make_user(Role.manager, houses=[house]))
    day = working_day()
    hold = bookings.create_booking(
        db,
        member,
        machine_id=machine.id,
        start=at(day, "09:00"),
        end=at(day, "10:00"),
        now=at(day, "08:00") - dt.timedelta(days=1),
    )

    bookings.reject_booking(db, manager, hold.id, reason="The kiln is reserved for a school visit.")

    assert hold.status is BookingStatus.cancelled
    assert hold.cancelled_reason == "The kiln is reserved for a school visit."
    assert heard == [(hold.id, "The kiln is reserved for a school visit.")]
    # The notifications subscribe to the event: the member is told, with the reason.
    told = db.scalars(
        select(Notification).where(
            Notification.user_id == member_user.id, Notification.template == "booking_rejected"
        )
    ).all()
    assert len(told) == 1 and "school visit" in str(told[0].context)


_HEARD: list[tuple[int, str]] = []


def _hear_rejection(session, *, booking, reason, **_payload):  # type: ignore[no-untyped-def]
    _HEARD.append((booking.id, reason))


def test_moving_a_held_booking_moves_its_hold_expiry_with_it(
    db, make_house, make_machine, make_member
):
    house = make_house(requires_confirmation=True, hold_minutes=120)
    machine = make_machine(house=house)
    member = Actor(user_id=None, role=Role.member, member_id=make_member(house_id=house.id).id)
    day = working_day()
    # Asked for at 08:00 for 09:00: the hold ends at the slot's start, 09:00.
    hold = bookings.create_booking(
        db,
        member,
        machine_id=machine.id,
        start=at(day, "09:00"),
        end=at(day, "10:00"),
        now=at(day, "08:00"),
    )
    assert hold.hold_expires_at == at(day, "09:00")

    # Moved at 08:30 to the afternoon: held again for the house's two hours from the move,
    # as a new request for that slot would be, not expiring at the old slot's start.
    bookings.move_booking(
        db, member, hold.id, start=at(day, "14:00"), end=at(day, "15:00"), now=at(day, "08:30")
    )
    assert (hold.status, hold.hold_expires_at) == (BookingStatus.held, at(day, "10:30"))

    # Moved at 09:00 to 10:00: the hold never outlives the start of the slot it holds.
    bookings.move_booking(
        db, member, hold.id, start=at(day, "10:00"), end=at(day, "11:00"), now=at(day, "09:00")
    )
    assert hold.hold_expires_at == at(day, "10:00")
