"""A downtime over live bookings: cancel or keep them, offer alternatives, notify."""

from __future__ import annotations

import pytest

from factoryshare.access import Actor
from factoryshare.errors import Forbidden, NotFound
from factoryshare.models import Role
from factoryshare.models.bookings import BookingStatus
from factoryshare.services import bookings, downtimes
from tests.factories.bookings import at, working_day


@pytest.fixture()
def scene(db, make_machine, make_member, make_user):
    machine = make_machine(capabilities=["sewing"])
    spare = make_machine(house=machine.house, capabilities=["sewing"])
    member = make_member(house_id=machine.house_id)
    member_actor = Actor.of(make_user(Role.member, member=member))
    manager = Actor.of(make_user(Role.manager, houses=[machine.house]))
    return machine, spare, member_actor, manager


def test_a_downtime_with_cancel_cancels_the_hit_bookings_and_offers_three_alternatives(db, scene):
    machine, spare, member_actor, manager = scene
    day = working_day()
    hit = bookings.create_booking(
        db, member_actor, machine_id=machine.id, start=at(day, "09:00"), end=at(day, "10:00")
    )
    untouched = bookings.create_booking(
        db, member_actor, machine_id=machine.id, start=at(day, "14:00"), end=at(day, "15:00")
    )
    result = downtimes.record_downtime(
        db,
        manager,
        machine_id=machine.id,
        start=at(day, "08:00"),
        end=at(day, "12:00"),
        kind="breakdown",
        reason="Motor rusak",
        affected="cancel",
    )
    assert [a.booking.id for a in result.affected] == [hit.id]
    assert hit.status is BookingStatus.cancelled
    assert untouched.status is BookingStatus.confirmed
    alternatives = result.affected[0].alternatives
    assert 1 <= len(alternatives) <= 3
    for _m, start, end in alternatives:
        assert start >= at(day, "12:00")
        assert end - start == hit.end_at - hit.start_at
    # The spare machine is free right after the downtime ends.
    assert (spare.id, at(day, "12:00")) in [(m.id, s) for m, s, _ in alternatives]
    # The slot is now refused for new bookings.
    with pytest.raises(Exception) as exc:
        bookings.create_booking(
            db, member_actor, machine_id=machine.id, start=at(day, "09:00"), end=at(day, "10:00")
        )
    assert getattr(exc.value, "code", None) == "machine_downtime"


def test_a_downtime_with_keep_leaves_the_bookings_live(db, scene):
    machine, _, member_actor, manager = scene
    day = working_day()
    hit = bookings.create_booking(
        db, member_actor, machine_id=machine.id, start=at(day, "09:00"), end=at(day, "10:00")
    )
    result = downtimes.record_downtime(
        db,
        manager,
        machine_id=machine.id,
        start=at(day, "09:30"),
        end=at(day, "11:00"),
        affected="keep",
    )
    assert [(a.booking.id, a.action) for a in result.affected] == [(hit.id, "kept")]
    assert hit.status is BookingStatus.confirmed


def test_a_member_cannot_record_a_downtime(db, scene):
    machine, _, member_actor, _ = scene
    day = working_day()
    with pytest.raises(Forbidden):
        downtimes.record_downtime(
            db, member_actor, machine_id=machine.id, start=at(day, "09:00"), end=at(day, "10:00")
        )


def test_each_affected_member_is_notified_once_per_booking(db, scene):
    from sqlalchemy import select

    from factoryshare.models.notifications import Notification

    machine, _, member_actor, manager = scene
    day = working_day()
    hit = bookings.create_booking(
        db, member_actor, machine_id=machine.id, start=at(day, "09:00"), end=at(day, "10:00")
    )
    result = downtimes.record_downtime(
        db,
        manager,
        machine_id=machine.id,
        start=at(day, "08:00"),
        end=at(day, "12:00"),
        reason="Servis",
        affected="cancel",
    )
    sent = db.scalars(
        select(Notification).where(Notification.user_id == member_actor.user_id)
    ).all()
    assert [n.key for n in sent] == [f"downtime:{result.downtime.id}:booking:{hit.id}"]


def test_a_downtime_over_members_own_bookings_queues_no_replan_and_another_house_finds_none(
    db, scene, make_user, make_house
):
    machine, _spare, member_actor, manager = scene
    day = working_day()
    bookings.create_booking(
        db, member_actor, machine_id=machine.id, start=at(day, "09:00"), end=at(day, "10:00")
    )
    result = downtimes.record_downtime(
        db,
        manager,
        machine_id=machine.id,
        start=at(day, "08:00"),
        end=at(day, "12:00"),
        kind="breakdown",
        reason="Motor rusak",
        affected="keep",
    )
    # Only solver-planned work is re-planned; a member's own booking is the member's to move.
    assert downtimes.replan_run(db, manager, result.downtime.id) is None
    elsewhere = Actor.of(make_user(Role.manager, houses=[make_house()]))
    with pytest.raises(NotFound):
        downtimes.replan_run(db, elsewhere, result.downtime.id)


def test_the_upcoming_downtimes_leave_out_those_already_over(db, scene, make_downtime):
    machine, _spare, _member_actor, manager = scene
    day = working_day()
    over = make_downtime(machine=machine, start_at=at(day, "08:00"), end_at=at(day, "10:00"))
    later = make_downtime(machine=machine, start_at=at(day, "13:00"), end_at=at(day, "15:00"))
    listed = db.scalars(
        downtimes.list_downtimes(
            db, manager, house_id=machine.house_id, ending_after=at(day, "12:00")
        )
    ).all()
    assert [d.id for d in listed] == [later.id]
    assert over.id not in [d.id for d in listed]
