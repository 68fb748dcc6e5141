"""Two live bookings of one machine never overlap, whatever the timing."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from factoryshare.access import Actor
from factoryshare.errors import Conflict
from factoryshare.models import (
    AuditEvent,
    Capability,
    Machine,
    Member,
    ProductionHouse,
    Role,
    Sector,
)
from factoryshare.models.bookings import Booking
from factoryshare.services import bookings
from tests.factories.bookings import at, working_day

HOURS = {d: [["08:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}


def test_twenty_clients_booking_the_same_slot_get_one_success_and_nineteen_conflicts(
    engine, is_postgres
):
    if not is_postgres:
        pytest.skip("needs PostgreSQL: SQLite serialises every writer, there is no race to lose")
    with Session(engine, expire_on_commit=False) as s:
        house = ProductionHouse(name="Race House H5", timezone="Asia/Jakarta",
                                opening_hours=HOURS, slot_minutes=30)
        cap = Capability(code="race_sewing_h5", name="race sewing")
        machine = Machine(house=house, code="R-1", name="Race", hourly_rate=10_000,
                          capabilities=[cap])
        s.add(machine)
        s.flush()
        members = [
            Member(house_id=house.id, business_name=f"UD Race {i}", nib=f"99{i:011d}",
                   owner_name="Race", owner_nik=f"3201{i:012d}", sector=Sector.fashion)
            for i in range(20)
        ]
        s.add_all(members)
        s.commit()
        ids = (house.id, cap.id, machine.id, [m.id for m in members])
    house_id, cap_id, machine_id, member_ids = ids
    day = working_day()
    start, end = at(day, "09:00"), at(day, "10:00")
    barrier = threading.Barrier(20)
    outcomes: list[str] = []
    lock = threading.Lock()

    def client(member_id: int) -> None:
        actor = Actor(user_id=None, role=Role.member, member_id=member_id)
        with Session(engine, expire_on_commit=False) as session:
            barrier.wait()
            try:
                bookings.create_booking(session, actor, machine_id=machine_id, start=start, end=end)
                session.commit()
                result = "created"
            except Conflict as exc:
                session.rollback()
                result = exc.code
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=client, args=(m,)) for m in member_ids]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert sorted(outcomes) == ["booking_conflict"] * 19 + ["created"]
        with Session(engine) as s:
            assert s.scalar(select(func.count()).select_from(Booking)
                            .where(Booking.machine_id == machine_id)) == 1
    finally:
        with Session(engine) as s:
            booking_ids = [str(i) for i in s.scalars(select(Booking.id).where(Booking.machine_id == machine_id))]
            s.execute(delete(AuditEvent).where(AuditEvent.object_type == "bookings",
                                               AuditEvent.object_id.in_(booking_ids)))
            s.execute(delete(Booking).where(Booking.machine_id == machine_id))
            s.execute(delete(Member).where(Member.id.in_(member_ids)))
            s.execute(delete(Machine).where(Machine.id == machine_id))
            s.execute(delete(ProductionHouse).where(ProductionHouse.id == house_id))
            s.execute(delete(Capability).where(Capability.id == cap_id))
            s.commit()


ranges = st.lists(
    st.tuples(st.integers(min_value=0, max_value=16), st.integers(min_value=1, max_value=6),
              st.booleans()),
    min_size=1, max_size=12,
)


@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ranges)
def test_random_overlapping_bookings_never_leave_two_live_bookings_overlapping(
    db, make_machine, make_member, attempts
):
    machine = make_machine()
    actor = Actor(user_id=None, role=Role.member,
                  member_id=make_member(house_id=machine.house_id).id)
    day = working_day()
    opening = at(day, "08:00")
    made: list[Booking] = []
    for slot, length, cancel_one in attempts:
        start = opening + dt.timedelta(minutes=30 * slot)
        end = min(start + dt.timedelta(minutes=30 * length), at(day, "17:00"))
        try:
            made.append(bookings.create_booking(db, actor, machine_id=machine.id,
                                                start=start, end=end))
        except Conflict as exc:
            assert exc.code == "booking_conflict"
        if cancel_one and made:
            booking = made.pop(0)
            bookings.cancel_booking(db, actor, booking.id)
    live = db.scalars(select(Booking).where(Booking.machine_id == machine.id,
                                            Booking.status.in_(("held", "confirmed")))).all()
    for a in live:
        for b in live:
            if a.id < b.id:
                assert a.end_at <= b.start_at or b.end_at <= a.start_at
    assert bookings.count_overlapping_live(db) == 0
