"""The permit gate on bookings, production requests and the solver; halal review after changes."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from factoryshare.access import Actor
from factoryshare.errors import Conflict
from factoryshare.models import AuditEvent, Role
from factoryshare.models.permits import PermitStatus
from factoryshare.models.scheduling import RunStatus, ScheduleRun
from factoryshare.services import bookings, permits, production_requests, products, solving
from tests.factories.bookings import at, working_day

JAKARTA = ZoneInfo("Asia/Jakarta")
ADMIN = Actor(user_id=None, role=Role.admin)


@pytest.fixture()
def setting(db, make_machine, make_member, make_food_product, make_user):
    machine = make_machine(capabilities=["sewing"])
    member = make_member(house_id=machine.house_id)
    product = make_food_product(member=member)
    actor = Actor.of(make_user(Role.member, member=member))
    return machine, product, actor


def _book(db, actor, machine, product, day, start="09:00", end="11:00"):
    return bookings.create_booking(
        db,
        actor,
        machine_id=machine.id,
        start=at(day, start),
        end=at(day, end),
        product_id=product.id,
    )


def test_booking_a_food_product_without_permits_answers_permit_missing(db, setting):
    machine, product, actor = setting
    with pytest.raises(Conflict) as err:
        _book(db, actor, machine, product, working_day(10))
    assert err.value.code == "permit_missing"
    assert set(err.value.errors) == {"permits.food_registration", "permits.halal"}


def test_booking_a_food_product_with_valid_permits_succeeds(db, setting, make_permit):
    machine, product, actor = setting
    make_permit(product, "pirt")
    make_permit(product, "halal")
    assert _book(db, actor, machine, product, working_day(10)).product_id == product.id


def test_a_booking_without_a_product_is_not_gated(db, setting):
    machine, _product, actor = setting
    booking = bookings.create_booking(
        db,
        actor,
        machine_id=machine.id,
        start=at(working_day(10), "09:00"),
        end=at(working_day(10), "10:00"),
    )
    assert booking.product_id is None


def test_moving_a_booking_past_the_permits_last_day_is_refused(db, setting, make_permit):
    machine, product, actor = setting
    first, later = working_day(10), working_day(20)
    make_permit(product, "halal")
    make_permit(product, "pirt", expires_on=first + dt.timedelta(days=1))
    booking = _book(db, actor, machine, product, first)
    with pytest.raises(Conflict) as err:
        bookings.move_booking(
            db, actor, booking.id, start=at(later, "09:00"), end=at(later, "11:00")
        )
    assert err.value.code == "permit_missing"
    assert (first + dt.timedelta(days=1)).isoformat() in err.value.errors[
        "permits.food_registration"
    ][0]


def test_a_manager_override_lets_the_booking_through(db, setting, make_user, make_permit):
    machine, product, actor = setting
    make_permit(product, "halal")
    manager = Actor.of(make_user(Role.manager, houses=[machine.house]))
    day = working_day(10)
    permits.create_override(
        db,
        manager,
        {"product_id": product.id, "reason": "SPP-IRT dalam proses", "until": at(day, "17:00")},
    )
    assert _book(db, actor, machine, product, day).id is not None


def test_a_production_request_needs_permits_valid_until_its_due_date(db, setting, make_permit):
    _machine, product, actor = setting
    start = dt.datetime(2027, 1, 4, 1, 0, tzinfo=dt.UTC)
    data = {
        "product_id": product.id,
        "quantity": 10,
        "earliest_start": start,
        "due": start + dt.timedelta(days=5),
    }
    make_permit(product, "halal")
    make_permit(product, "pirt", issued_on=dt.date(2025, 6, 1), expires_on=dt.date(2027, 1, 6))
    with pytest.raises(Conflict) as err:
        production_requests.create_request(db, actor, data)
    assert err.value.code == "permit_missing"
    assert err.value.details["missing"][0]["lapse_on"] == "2027-01-06"
    request = production_requests.create_request(
        db, actor, {**data, "due": start + dt.timedelta(days=2)}
    )
    assert request.product_id == product.id


def test_the_solver_gets_a_hard_deadline_at_the_permits_lapse(db, setting, make_permit):
    machine, product, actor = setting
    monday = dt.datetime(2027, 1, 4, 8, 0, tzinfo=JAKARTA)
    make_permit(product, "halal")
    pirt = make_permit(
        product, "pirt", issued_on=dt.date(2025, 6, 1), expires_on=dt.date(2030, 6, 1)
    )
    request = production_requests.create_request(
        db,
        actor,
        {
            "product_id": product.id,
            "quantity": 10,
            "earliest_start": monday,
            "due": monday + dt.timedelta(days=5),
        },
    )
    # The P-IRT turns out to end on Tuesday 5 January (last valid day).
    pirt.expires_on = dt.date(2027, 1, 5)
    pirt.number = "2320101020123-27"
    db.flush()
    run = ScheduleRun(
        house_id=machine.house_id,
        horizon_start=monday.astimezone(dt.UTC),
        horizon_end=(monday + dt.timedelta(days=5)).astimezone(dt.UTC),
        time_limit_seconds=2,
        status=RunStatus.queued,
        attempts=0,
    )
    db.add(run)
    db.flush()
    problem = solving.build_problem(db, run)
    (job,) = [j for j in problem["jobs"] if j["id"] == f"request-{request.id}"]
    # Lapse: Wednesday 00:00 WIB = 40 hours after Monday 08:00 WIB.
    assert job["deadline"] == 40 * 60


def test_a_request_of_a_product_without_permit_requirements_has_no_deadline(
    db, make_production_request, make_machine
):
    make_machine(capabilities=["sewing"])
    request = make_production_request()
    assert (
        permits.deadline_minute(db, request.product, request.earliest_start, request.earliest_start)
        is None
    )


def test_changing_the_routing_puts_the_halal_certificate_in_review(
    db, setting, make_permit, make_capability
):
    _machine, product, actor = setting
    halal = make_permit(product, "halal")
    pirt = make_permit(product, "pirt")
    make_capability(code="frying", name="frying")
    products.update_product(
        db, actor, product.id, {"routing": [{"capability": "frying", "minutes_per_unit": 3}]}
    )
    assert halal.status is PermitStatus.needs_review
    assert "routing" in halal.review_reason
    assert pirt.status is PermitStatus.active
    assert db.scalars(
        select(AuditEvent.action).where(
            AuditEvent.object_type == "permits", AuditEvent.object_id == str(halal.id)
        )
    ).all() == ["permit.review_requested"]
    from factoryshare.models.notifications import Notification

    assert db.scalars(
        select(Notification.user_id).where(Notification.template == "permit_needs_review")
    ).all() == [actor.user_id]
    # ... and production is gated until the certificate is reviewed.
    assert [
        g["group"]
        for g in permits.check_gate(
            db, product, at(working_day(10), "09:00"), at(working_day(10), "10:00")
        )
    ] == ["halal"]


def test_renaming_a_product_leaves_its_halal_certificate_alone(db, setting, make_permit):
    _machine, product, actor = setting
    halal = make_permit(product, "halal")
    products.update_product(db, actor, product.id, {"name": "Dodol Garut premium"})
    assert halal.status is PermitStatus.active
