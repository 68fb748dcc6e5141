"""The daily permit watch: states, reminders sent once, bookings and loans at risk flagged once."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from factoryshare.access import Actor
from factoryshare.jobs.registry import DAILY_AT, JOBS
from factoryshare.models import Role
from factoryshare.models.financing import LoanPlanLink
from factoryshare.models.notifications import Notification
from factoryshare.models.permits import PermitFlag
from factoryshare.services import bookings, permits
from tests.factories.bookings import at, working_day

JAKARTA = ZoneInfo("Asia/Jakarta")


def _morning(day: dt.date, hour: int = 8) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=JAKARTA).astimezone(dt.UTC)


def _messages(db, template, user_id=None):
    stmt = select(func.count()).select_from(Notification).where(Notification.template == template)
    if user_id is not None:
        stmt = stmt.where(Notification.user_id == user_id)
    return db.scalar(stmt)


@pytest.fixture()
def people(db, make_machine, make_member, make_food_product, make_user):
    machine = make_machine(capabilities=["sewing"])
    member = make_member(house_id=machine.house_id)
    product = make_food_product(member=member)
    owner = make_user(Role.member, member=member)
    manager = make_user(Role.manager, houses=[machine.house])
    return machine, product, owner, manager


def test_permit_watch_is_a_daily_job_at_seven_house_time():
    assert "permit_watch" in JOBS and DAILY_AT["permit_watch"] == dt.time(7, 0)


def test_a_reminder_goes_to_member_and_manager_once_however_often_the_watch_runs(
    db, people, make_permit
):
    _machine, product, owner, manager = people
    today = dt.date(2027, 1, 4)
    permit = make_permit(
        product, "pirt", issued_on=dt.date(2025, 6, 1), expires_on=today + dt.timedelta(days=30)
    )
    for hour in (8, 9, 15):
        permits.run_watch(db, _morning(today, hour))
    assert _messages(db, "permit_expiring", owner.id) == 1
    assert _messages(db, "permit_expiring", manager.id) == 1
    # 90 was passed over (the permit was entered with 30 days left): only 7 remains.
    assert permit.reminders_sent == [90, 30]
    assert permit.last_state == "expiring"
    permits.run_watch(db, _morning(today + dt.timedelta(days=23)))
    permits.run_watch(db, _morning(today + dt.timedelta(days=24)))
    assert _messages(db, "permit_expiring", owner.id) == 2
    assert permit.reminders_sent == [90, 30, 7]


def test_the_90_30_and_7_day_reminders_are_each_sent_on_their_day(db, people, make_permit):
    _machine, product, owner, _manager = people
    expiry = dt.date(2030, 9, 30)
    make_permit(product, "pirt", issued_on=dt.date(2025, 10, 1), expires_on=expiry)
    sent_on = []
    day = expiry - dt.timedelta(days=100)
    while day <= expiry:
        before = _messages(db, "permit_expiring", owner.id)
        permits.run_watch(db, _morning(day))
        if _messages(db, "permit_expiring", owner.id) > before:
            sent_on.append((expiry - day).days)
        day += dt.timedelta(days=1)
    assert sent_on == [90, 30, 7]


def test_before_seven_house_time_the_watch_leaves_the_house_alone(db, people, make_permit):
    _machine, product, owner, _manager = people
    today = dt.date(2027, 1, 4)
    make_permit(
        product, "pirt", issued_on=dt.date(2025, 6, 1), expires_on=today + dt.timedelta(days=5)
    )
    permits.run_watch(db, _morning(today, 6))
    assert _messages(db, "permit_expiring", owner.id) == 0
    permits.run_watch(db, _morning(today, 7))
    assert _messages(db, "permit_expiring", owner.id) == 1


def test_a_future_booking_after_the_lapse_is_flagged_once_and_both_are_told(
    db, people, make_permit
):
    machine, product, owner, manager = people
    day = working_day(20)
    make_permit(product, "halal")
    pirt = make_permit(product, "pirt")
    booking = bookings.create_booking(
        db,
        Actor.of(owner),
        machine_id=machine.id,
        start=at(day, "09:00"),
        end=at(day, "11:00"),
        product_id=product.id,
    )
    # The P-IRT actually ends earlier than first entered.
    pirt.expires_on = day - dt.timedelta(days=3)
    pirt.number = f"2320101020123-{pirt.expires_on.year % 100:02d}"
    db.flush()
    now = _morning(day - dt.timedelta(days=15))
    first = permits.run_watch(db, now)
    second = permits.run_watch(db, now + dt.timedelta(hours=1))
    assert first["bookings_flagged"] == 1 and second["bookings_flagged"] == 0
    (flag,) = db.scalars(select(PermitFlag).where(PermitFlag.subject == "booking")).all()
    assert (flag.subject_id, flag.permit_id, flag.lapse_on) == (
        booking.id,
        pirt.id,
        pirt.expires_on,
    )
    assert _messages(db, "permit_booking_at_risk", owner.id) == 1
    assert _messages(db, "permit_booking_at_risk", manager.id) == 1


def test_a_loan_financing_a_booking_after_the_lapse_is_flagged_to_the_aggregator(
    clock, db, people, make_permit, make_cluster, make_loan, make_user
):
    machine, product, owner, _manager = people
    day = working_day(20)
    make_permit(product, "halal")
    pirt = make_permit(product, "pirt")
    booking = bookings.create_booking(
        db,
        Actor.of(owner),
        machine_id=machine.id,
        start=at(day, "09:00"),
        end=at(day, "11:00"),
        product_id=product.id,
    )
    member = product.member
    cluster = make_cluster(members=[member], chair_member_id=member.id)
    aggregator_user = make_user(Role.aggregator, aggregator_id=cluster.aggregator_id)
    loan = make_loan(cluster, until="approved", on=clock.today())
    db.add(LoanPlanLink(loan_application_id=loan.id, booking_id=booking.id))
    pirt.expires_on = day - dt.timedelta(days=3)
    pirt.number = f"2320101020123-{pirt.expires_on.year % 100:02d}"
    db.flush()
    now = _morning(day - dt.timedelta(days=15))
    assert permits.run_watch(db, now)["loans_flagged"] == 1
    assert permits.run_watch(db, now)["loans_flagged"] == 0
    assert _messages(db, "permit_loan_at_risk", aggregator_user.id) == 1
