"""Two live bookings of one machine never overlap, whatever the timing."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from factoryshare.access import Actor
from factoryshare.errors import Conflict
from factoryshare.models import (
    ApiToken,
    AuditEvent,
    Capability,
    Machine,
    Member,
    ProductionHouse,
    Role,
    Sector,
    User,
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


def test_twenty_members_posting_the_same_slot_over_http_get_one_201_and_nineteen_409s(
    engine, is_postgres, settings, password_hash
):
    if not is_postgres:
        pytest.skip("needs PostgreSQL: SQLite serialises every writer, there is no race to lose")
    from api import create_app

    with Session(engine, expire_on_commit=False) as s:
        house = ProductionHouse(name="Race House HTTP", timezone="Asia/Jakarta",
                                opening_hours=HOURS, slot_minutes=30)
        cap = Capability(code="race_sewing_http", name="race sewing over http")
        machine = Machine(house=house, code="RH-1", name="Race HTTP", hourly_rate=10_000,
                          capabilities=[cap])
        s.add(machine)
        s.flush()
        members = [
            Member(house_id=house.id, business_name=f"UD Race HTTP {i}", nib=f"98{i:011d}",
                   owner_name="Race", owner_nik=f"3202{i:012d}", sector=Sector.fashion)
            for i in range(20)
        ]
        s.add_all(members)
        s.flush()
        users = [User(email=f"race-http-{i}@example.id", name=f"Race {i}",
                      password_hash=password_hash, role=Role.member, member_id=m.id,
                      language="id", is_active=True, failed_logins=0)
                 for i, m in enumerate(members)]
        s.add_all(users)
        s.flush()
        tokens = []
        for user in users:
            token = secrets.token_urlsafe(32)
            s.add(ApiToken(user_id=user.id, token_hash=hashlib.sha256(token.encode()).hexdigest(),
                           expires_at=dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=1)))
            tokens.append(token)
        s.commit()
        house_id, cap_id, machine_id = house.id, cap.id, machine.id
        member_ids, user_ids = [m.id for m in members], [u.id for u in users]
    # The app commits for real here: each request is its own transaction, as in production.
    app = create_app(settings, session_factory=sessionmaker(bind=engine, expire_on_commit=False))
    day = working_day()
    body = {"machine_id": machine_id, "start": at(day, "09:00").isoformat(),
            "end": at(day, "10:00").isoformat()}
    barrier = threading.Barrier(20)
    answers: list[tuple[int, str | None]] = []
    lock = threading.Lock()

    def client(token: str) -> None:
        http = app.test_client()
        barrier.wait()
        response = http.post("/api/v1/bookings", json=body,
                             headers={"Authorization": f"Bearer {token}"})
        with lock:
            answers.append((response.status_code, (response.get_json() or {}).get("code")))

    threads = [threading.Thread(target=client, args=(t,)) for t in tokens]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert sorted(answers, key=lambda a: a[0]) == (
            [(201, None)] + [(409, "booking_conflict")] * 19)
        with Session(engine) as s:
            assert s.scalar(select(func.count()).select_from(Booking)
                            .where(Booking.machine_id == machine_id)) == 1
    finally:
        with Session(engine) as s:
            booking_ids = [str(i) for i in s.scalars(select(Booking.id).where(Booking.machine_id == machine_id))]
            s.execute(delete(AuditEvent).where(AuditEvent.object_type == "bookings",
                                               AuditEvent.object_id.in_(booking_ids)))
            s.execute(delete(Booking).where(Booking.machine_id == machine_id))
            s.execute(delete(ApiToken).where(ApiToken.user_id.in_(user_ids)))
            s.execute(delete(User).where(User.id.in_(user_ids)))
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
