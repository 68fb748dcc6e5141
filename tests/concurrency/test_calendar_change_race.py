"""A booking made while a closure is being made cannot slip into the closed days unseen: the
closure locks the house's row before it lists the bookings, a booking takes a shared lock on
it before it checks the calendar (calendar.hold_calendar)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import delete, select, text
from sqlalchemy.orm import Session

from factoryshare.access import Actor
from factoryshare.errors import Conflict
from factoryshare.models import (
    AuditEvent,
    Capability,
    HouseClosure,
    Machine,
    Member,
    ProductionHouse,
    Sector,
)
from factoryshare.models.bookings import Booking
from factoryshare.services import bookings, houses
from tests.factories.bookings import at, working_day

HOURS = {d: [["08:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}


@pytest.fixture()
def race_house(engine, is_postgres):  # type: ignore[no-untyped-def]
    if not is_postgres:
        pytest.skip("needs PostgreSQL: SQLite serialises every writer, there is no race to lose")
    with Session(engine, expire_on_commit=False) as s:
        house = ProductionHouse(
            name="Race House Closure", timezone="Asia/Jakarta", opening_hours=HOURS, slot_minutes=30
        )
        cap = Capability(code="race_closure_sewing", name="race closure sewing")
        machine = Machine(
            house=house, code="R-CLOSURE", name="Race", hourly_rate=10_000, capabilities=[cap]
        )
        s.add(machine)
        s.flush()
        member = Member(
            house_id=house.id,
            business_name="UD Race Closure",
            nib="9100000000001",
            owner_name="Race",
            owner_nik="3200000000000001",
            sector=Sector.fashion,
        )
        s.add(member)
        s.commit()
        ids = house.id, machine.id, member.id, cap.id
    yield ids
    house_id, machine_id, member_id, cap_id = ids
    with Session(engine) as s:
        booking_ids = [
            str(i) for i in s.scalars(select(Booking.id).where(Booking.machine_id == machine_id))
        ]
        closure_ids = [
            str(i)
            for i in s.scalars(select(HouseClosure.id).where(HouseClosure.house_id == house_id))
        ]
        s.execute(
            delete(AuditEvent).where(
                AuditEvent.object_type == "bookings", AuditEvent.object_id.in_(booking_ids)
            )
        )
        s.execute(
            delete(AuditEvent).where(
                AuditEvent.object_type == "house_closures", AuditEvent.object_id.in_(closure_ids)
            )
        )
        s.execute(delete(Booking).where(Booking.machine_id == machine_id))
        s.execute(delete(HouseClosure).where(HouseClosure.house_id == house_id))
        s.execute(delete(Member).where(Member.id == member_id))
        s.execute(delete(Machine).where(Machine.id == machine_id))
        s.execute(delete(ProductionHouse).where(ProductionHouse.id == house_id))
        s.execute(delete(Capability).where(Capability.id == cap_id))
        s.commit()


def _waiting_for_a_lock(engine, thread: threading.Thread) -> bool:  # type: ignore[no-untyped-def]
    """Wait until the thread has finished or another connection waits for a lock."""
    with engine.connect() as conn:
        for _ in range(2000):
            if not thread.is_alive():
                return False
            waiting = conn.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND datname = current_database()"
                )
            ).scalar()
            if waiting:
                return True
            # pg_stat_activity is read once per transaction: end it, so the next look is new.
            conn.rollback()
            thread.join(timeout=0.005)
    return False


def test_a_booking_made_while_a_closure_is_written_is_checked_against_the_closure(
    engine, race_house
):
    house_id, machine_id, member_id, _ = race_house
    day = working_day()
    system = Actor.system()
    answers: list = []

    def book() -> None:
        with Session(engine) as s:
            try:
                bookings.create_booking(
                    s,
                    system,
                    machine_id=machine_id,
                    member_id=member_id,
                    start=at(day, "09:00"),
                    end=at(day, "10:00"),
                )
                s.commit()
                answers.append("booked")
            except Conflict as exc:
                s.rollback()
                answers.append(exc.code)

    with Session(engine) as closing:
        houses.close_house(closing, system, house_id, start_on=day, end_on=day, reason="renovasi")
        booker = threading.Thread(target=book)
        booker.start()
        waited = _waiting_for_a_lock(engine, booker)
        closing.commit()
    booker.join(timeout=60)

    assert waited, "the booking did not wait for the closure being written"
    assert answers == ["house_closed"]
    with Session(engine) as s:
        assert s.scalars(select(Booking).where(Booking.machine_id == machine_id)).all() == []


def test_a_closure_written_while_a_booking_is_made_sees_that_booking(engine, race_house):
    house_id, machine_id, member_id, _ = race_house
    day = working_day()
    system = Actor.system()
    answers: list = []

    def close() -> None:
        with Session(engine) as s:
            try:
                houses.close_house(s, system, house_id, start_on=day, end_on=day)
                s.commit()
                answers.append("closed")
            except Conflict as exc:
                s.rollback()
                answers.append((exc.code, [b["booking_id"] for b in exc.details["bookings"]]))

    with Session(engine) as booking_session:
        booking = bookings.create_booking(
            booking_session,
            system,
            machine_id=machine_id,
            member_id=member_id,
            start=at(day, "09:00"),
            end=at(day, "10:00"),
        )
        closer = threading.Thread(target=close)
        closer.start()
        waited = _waiting_for_a_lock(engine, closer)
        booking_session.commit()
        booking_id = booking.id
    closer.join(timeout=60)

    assert waited, "the closure did not wait for the booking being made"
    assert answers == [("bookings_affected", [booking_id])]
