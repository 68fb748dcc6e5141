"""A weekly series that loses one week to another member's booking keeps the other weeks."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from factoryshare.access import Actor
from factoryshare.errors import Conflict
from factoryshare.models import AuditEvent, Role
from factoryshare.models.booking_extras import BookingSeries
from factoryshare.models.bookings import Booking
from factoryshare.services import booking_series, bookings
from tests.concurrency.test_double_booking import RaceHouse
from tests.factories.bookings import at, working_day

WEEKS = 4
LOST_WEEK = 2  # the third occurrence


def _rival_takes(
    engine, race: RaceHouse, contested: dt.datetime, length: dt.timedelta, taken: dict[str, int]
):  # type: ignore[no-untyped-def]
    """A stand-in for assert_machine_free that, once the slot at `contested` was found free,
    lets another member book it on another connection and commit, before the caller writes:
    only the exclusion constraint can refuse the caller then. The rival's id lands in `taken`.
    Patched in bookings.checks, where check_slot looks it up."""
    real_check = bookings.assert_machine_free

    def check_then_lose_the_race(session, machine_id, slot_start, slot_end, *args, **kwargs):
        real_check(session, machine_id, slot_start, slot_end, *args, **kwargs)
        if slot_start == contested and not taken:
            taken["id"] = 0  # once: the rival's own booking goes through this check too
            actor = Actor(user_id=None, role=Role.member, member_id=race.member_ids[1])
            with Session(engine, expire_on_commit=False) as other:
                taken["id"] = bookings.create_booking(
                    other,
                    actor,
                    machine_id=race.machine_id,
                    start=contested,
                    end=contested + length,
                ).id
                other.commit()

    return check_then_lose_the_race


def test_a_series_skipping_conflicts_loses_only_the_week_another_member_took_meanwhile(
    engine, is_postgres, password_hash, monkeypatch
):
    if not is_postgres:
        pytest.skip("needs PostgreSQL: SQLite serialises every writer, there is no race to lose")
    race = RaceHouse(engine, "series", password_hash)
    series_member, rival_member = race.member_ids[0], race.member_ids[1]
    day = working_day()
    start, end = at(day, "09:00"), at(day, "11:00")
    lost_start = start + dt.timedelta(weeks=LOST_WEEK)
    lost_end = end + dt.timedelta(weeks=LOST_WEEK)
    real_check = bookings.assert_machine_free
    rival: dict[str, int] = {}

    def check_then_lose_the_race(session, machine_id, slot_start, slot_end, *args, **kwargs):
        # The series finds the week free; before it inserts, another member books that slot
        # on another connection and commits, so only the exclusion constraint can refuse it.
        real_check(session, machine_id, slot_start, slot_end, *args, **kwargs)
        if slot_start == lost_start and not rival:
            rival["id"] = 0  # once: the rival's own booking goes through this check too
            actor = Actor(user_id=None, role=Role.member, member_id=rival_member)
            with Session(engine, expire_on_commit=False) as other:
                rival["id"] = bookings.create_booking(
                    other, actor, machine_id=race.machine_id, start=lost_start, end=lost_end
                ).id
                other.commit()

    monkeypatch.setattr(bookings.checks, "assert_machine_free", check_then_lose_the_race)
    series_id = None
    try:
        actor = Actor(user_id=None, role=Role.member, member_id=series_member)
        with Session(engine, expire_on_commit=False) as session:
            series, booked = booking_series.create_series(
                session,
                actor,
                machine_id=race.machine_id,
                start=start,
                end=end,
                until=day + dt.timedelta(weeks=WEEKS - 1),
                skip_conflicts=True,
            )
            # The transaction is still usable: it reads and commits.
            assert (
                session.scalar(
                    select(func.count()).select_from(Booking).where(Booking.series_id == series.id)
                )
                == WEEKS - 1
            )
            session.commit()
            series_id = series.id
        assert rival, "the rival booking was never made: the race did not happen"
        assert [s["date"] for s in series.skipped] == [
            (day + dt.timedelta(weeks=LOST_WEEK)).isoformat()
        ]
        assert series.skipped[0]["code"] == "booking_conflict"
        assert sorted(b.start_at for b in booked) == [
            start + dt.timedelta(weeks=w) for w in range(WEEKS) if w != LOST_WEEK
        ]
        with Session(engine) as s:
            live = s.scalars(
                select(Booking)
                .where(Booking.machine_id == race.machine_id)
                .order_by(Booking.start_at)
            ).all()
            assert [(b.member_id, b.start_at) for b in live] == [
                (rival_member if w == LOST_WEEK else series_member, start + dt.timedelta(weeks=w))
                for w in range(WEEKS)
            ]
            assert bookings.count_overlapping_live(s) == 0
    finally:
        with Session(engine) as s:
            if series_id is not None:
                booking_ids = [
                    str(i)
                    for i in s.scalars(select(Booking.id).where(Booking.series_id == series_id))
                ]
                s.execute(
                    delete(AuditEvent).where(
                        AuditEvent.object_type == "bookings", AuditEvent.object_id.in_(booking_ids)
                    )
                )
                s.execute(
                    delete(AuditEvent).where(
                        AuditEvent.object_type == "booking_series",
                        AuditEvent.object_id == str(series_id),
                    )
                )
                s.execute(delete(Booking).where(Booking.series_id == series_id))
                s.execute(delete(BookingSeries).where(BookingSeries.id == series_id))
            s.commit()
        race.remove()


def test_a_booking_that_loses_its_slot_to_another_connection_undoes_only_itself(
    engine, is_postgres, password_hash, monkeypatch
):
    if not is_postgres:
        pytest.skip("needs PostgreSQL: SQLite serialises every writer, there is no race to lose")
    race = RaceHouse(engine, "guarded", password_hash)
    day = working_day()
    first, contested = at(day, "09:00"), at(day, "13:00")
    half_hour = dt.timedelta(minutes=30)
    rival: dict[str, int] = {}
    check_then_lose_the_race = _rival_takes(engine, race, contested, half_hour, rival)

    monkeypatch.setattr(bookings.checks, "assert_machine_free", check_then_lose_the_race)
    try:
        actor = Actor(user_id=None, role=Role.member, member_id=race.member_ids[0])
        with Session(engine, expire_on_commit=False) as session:
            kept = bookings.create_booking(
                session, actor, machine_id=race.machine_id, start=first, end=first + half_hour
            )
            with pytest.raises(Conflict) as lost:
                bookings.create_booking(
                    session,
                    actor,
                    machine_id=race.machine_id,
                    start=contested,
                    end=contested + half_hour,
                )
            assert lost.value.code == "booking_conflict"
            # The same transaction goes on: the booking made before the lost one is kept.
            session.commit()
        with Session(engine) as s:
            live = s.scalars(
                select(Booking)
                .where(Booking.machine_id == race.machine_id)
                .order_by(Booking.start_at)
            ).all()
            assert [(b.id, b.member_id) for b in live] == [
                (kept.id, race.member_ids[0]),
                (rival["id"], race.member_ids[1]),
            ]
    finally:
        race.remove()


def test_a_move_that_loses_its_new_slot_to_another_connection_undoes_only_itself(
    engine, is_postgres, password_hash, monkeypatch
):
    if not is_postgres:
        pytest.skip("needs PostgreSQL: SQLite serialises every writer, there is no race to lose")
    race = RaceHouse(engine, "moved", password_hash)
    day = working_day()
    first, second, contested = at(day, "09:00"), at(day, "10:00"), at(day, "13:00")
    half_hour = dt.timedelta(minutes=30)
    rival: dict[str, int] = {}
    check_then_lose_the_race = _rival_takes(engine, race, contested, half_hour, rival)

    try:
        actor = Actor(user_id=None, role=Role.member, member_id=race.member_ids[0])
        with Session(engine, expire_on_commit=False) as session:
            kept = bookings.create_booking(
                session, actor, machine_id=race.machine_id, start=first, end=first + half_hour
            )
            moving = bookings.create_booking(
                session, actor, machine_id=race.machine_id, start=second, end=second + half_hour
            )
            kept_id, moving_id = kept.id, moving.id
            monkeypatch.setattr(bookings.checks, "assert_machine_free", check_then_lose_the_race)
            with pytest.raises(Conflict) as lost:
                bookings.move_booking(
                    session, actor, moving_id, start=contested, end=contested + half_hour
                )
            assert lost.value.code == "booking_conflict"
            # The same transaction goes on: both bookings are kept where they were.
            session.commit()
        with Session(engine) as s:
            live = s.scalars(
                select(Booking)
                .where(Booking.machine_id == race.machine_id)
                .order_by(Booking.start_at)
            ).all()
            assert [(b.id, b.start_at) for b in live] == [
                (kept_id, first),
                (moving_id, second),
                (rival["id"], contested),
            ]
    finally:
        race.remove()
