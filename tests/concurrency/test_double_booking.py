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

from factoryshare import clock as product_clock
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


class RaceHouse:
    """A house with one machine and twenty members (each with a signed-in user), committed for
    real so that concurrent sessions see it; `remove()` deletes all of it and its bookings."""

    def __init__(self, engine, tag: str, password_hash: str) -> None:  # type: ignore[no-untyped-def]
        self.engine = engine
        with Session(engine, expire_on_commit=False) as s:
            house = ProductionHouse(
                name=f"Race House {tag}",
                timezone="Asia/Jakarta",
                opening_hours=HOURS,
                slot_minutes=30,
            )
            cap = Capability(code=f"race_sewing_{tag}", name=f"race sewing {tag}")
            machine = Machine(
                house=house, code=f"R-{tag}", name="Race", hourly_rate=10_000, capabilities=[cap]
            )
            s.add(machine)
            s.flush()
            members = [
                Member(
                    house_id=house.id,
                    business_name=f"UD Race {tag} {i}",
                    nib=f"9{len(tag)}{i:011d}",
                    owner_name="Race",
                    owner_nik=f"320{len(tag)}{i:012d}",
                    sector=Sector.fashion,
                )
                for i in range(20)
            ]
            s.add_all(members)
            s.flush()
            users = [
                User(
                    email=f"race-{tag}-{i}@example.id",
                    name=f"Race {i}",
                    password_hash=password_hash,
                    role=Role.member,
                    member_id=m.id,
                    language="id",
                    is_active=True,
                    failed_logins=0,
                )
                for i, m in enumerate(members)
            ]
            s.add_all(users)
            s.flush()
            self.tokens = []
            for user in users:
                token = secrets.token_urlsafe(32)
                s.add(
                    ApiToken(
                        user_id=user.id,
                        token_hash=hashlib.sha256(token.encode()).hexdigest(),
                        expires_at=product_clock.now() + dt.timedelta(hours=1),
                    )
                )
                self.tokens.append(token)
            s.commit()
            self.house_id, self.cap_id, self.machine_id = house.id, cap.id, machine.id
            self.member_ids, self.user_ids = [m.id for m in members], [u.id for u in users]

    def bookings_held(self) -> int:
        with Session(self.engine) as s:
            return (
                s.scalar(
                    select(func.count())
                    .select_from(Booking)
                    .where(Booking.machine_id == self.machine_id)
                )
                or 0
            )

    def remove(self) -> None:
        with Session(self.engine) as s:
            booking_ids = [
                str(i)
                for i in s.scalars(select(Booking.id).where(Booking.machine_id == self.machine_id))
            ]
            s.execute(
                delete(AuditEvent).where(
                    AuditEvent.object_type == "bookings", AuditEvent.object_id.in_(booking_ids)
                )
            )
            s.execute(delete(Booking).where(Booking.machine_id == self.machine_id))
            s.execute(delete(ApiToken).where(ApiToken.user_id.in_(self.user_ids)))
            s.execute(delete(User).where(User.id.in_(self.user_ids)))
            s.execute(delete(Member).where(Member.id.in_(self.member_ids)))
            s.execute(delete(Machine).where(Machine.id == self.machine_id))
            s.execute(delete(ProductionHouse).where(ProductionHouse.id == self.house_id))
            s.execute(delete(Capability).where(Capability.id == self.cap_id))
            s.commit()


def _all_at_once(work, arguments) -> list:  # type: ignore[no-untyped-def]
    """Run `work(argument)` in one thread per argument, all released together; the answers."""
    barrier = threading.Barrier(len(arguments))
    answers: list = []
    lock = threading.Lock()

    def run(argument) -> None:  # type: ignore[no-untyped-def]
        barrier.wait()
        answer = work(argument)
        with lock:
            answers.append(answer)

    threads = [threading.Thread(target=run, args=(a,)) for a in arguments]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return answers


def test_twenty_clients_booking_the_same_slot_get_one_success_and_nineteen_conflicts(
    engine, is_postgres, password_hash
):
    if not is_postgres:
        pytest.skip("needs PostgreSQL: SQLite serialises every writer, there is no race to lose")
    race = RaceHouse(engine, "svc", password_hash)
    day = working_day()
    start, end = at(day, "09:00"), at(day, "10:00")

    def client(member_id: int) -> str:
        actor = Actor(user_id=None, role=Role.member, member_id=member_id)
        with Session(engine, expire_on_commit=False) as session:
            try:
                bookings.create_booking(
                    session, actor, machine_id=race.machine_id, start=start, end=end
                )
                session.commit()
                return "created"
            except Conflict as exc:
                session.rollback()
                return exc.code

    try:
        outcomes = _all_at_once(client, race.member_ids)
        assert sorted(outcomes) == ["booking_conflict"] * 19 + ["created"]
        assert race.bookings_held() == 1
    finally:
        race.remove()


def test_twenty_members_posting_the_same_slot_over_http_get_one_201_and_nineteen_409s(
    engine, is_postgres, settings, password_hash
):
    if not is_postgres:
        pytest.skip("needs PostgreSQL: SQLite serialises every writer, there is no race to lose")
    from api import create_app

    race = RaceHouse(engine, "http", password_hash)
    # The app commits for real here: each request is its own transaction, as in production.
    app = create_app(settings, session_factory=sessionmaker(bind=engine, expire_on_commit=False))
    day = working_day()
    body = {
        "machine_id": race.machine_id,
        "start": at(day, "09:00").isoformat(),
        "end": at(day, "10:00").isoformat(),
    }

    def client(token: str) -> tuple[int, str | None]:
        response = app.test_client().post(
            "/api/v1/bookings", json=body, headers={"Authorization": f"Bearer {token}"}
        )
        return response.status_code, (response.get_json() or {}).get("code")

    try:
        answers = _all_at_once(client, race.tokens)
        assert sorted(answers, key=lambda a: a[0]) == (
            [(201, None)] + [(409, "booking_conflict")] * 19
        )
        assert race.bookings_held() == 1
    finally:
        race.remove()


ranges = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=16), st.integers(min_value=1, max_value=6), st.booleans()
    ),
    min_size=1,
    max_size=12,
)


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ranges)
def test_random_overlapping_bookings_never_leave_two_live_bookings_overlapping(
    db, make_machine, make_member, attempts
):
    machine = make_machine()
    actor = Actor(
        user_id=None, role=Role.member, member_id=make_member(house_id=machine.house_id).id
    )
    day = working_day()
    opening = at(day, "08:00")
    made: list[Booking] = []
    for slot, length, cancel_one in attempts:
        start = opening + dt.timedelta(minutes=30 * slot)
        end = min(start + dt.timedelta(minutes=30 * length), at(day, "17:00"))
        try:
            made.append(
                bookings.create_booking(db, actor, machine_id=machine.id, start=start, end=end)
            )
        except Conflict as exc:
            assert exc.code == "booking_conflict"
        if cancel_one and made:
            booking = made.pop(0)
            bookings.cancel_booking(db, actor, booking.id)
    live = db.scalars(
        select(Booking).where(
            Booking.machine_id == machine.id, Booking.status.in_(("held", "confirmed"))
        )
    ).all()
    for a in live:
        for b in live:
            if a.id < b.id:
                assert a.end_at <= b.start_at or b.end_at <= a.start_at
    assert bookings.count_overlapping_live(db) == 0
