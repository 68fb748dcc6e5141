"""A state change starts from the state the object is in now, never from an older copy.

Each service reads the object's state again after taking its lock (factoryshare/locking.py):
a change made elsewhere since this session read the object (another request, another worker)
is seen, and an action that no longer fits answers 409 `invalid_transition` with the action
and the status found. The change "made elsewhere" is written here with plain SQL behind the
session's back, which is what another transaction's commit looks like to it.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select, text

from factoryshare.access import Actor
from factoryshare.errors import Conflict, Forbidden, ValidationFailed
from factoryshare.models import AuditEvent, Role
from factoryshare.models.bookings import Booking, BookingStatus
from factoryshare.models.financing import LoanStatus
from factoryshare.models.scheduling import RunStatus, ScheduleAssignment, ScheduleRun
from factoryshare.services import bookings, loans, scheduling
from tests.factories.bookings import at, working_day

ADMIN = Actor(user_id=None, role=Role.admin)


def _behind_the_sessions_back(db, table: str, row_id: int, status: str) -> None:
    db.connection().execute(
        text(f"UPDATE {table} SET status = :status WHERE id = :id"),
        {"status": status, "id": row_id},
    )


def _audited(db, action: str, object_id: int) -> int:
    return (
        db.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == action, AuditEvent.object_id == str(object_id))
        )
        or 0
    )


# --- bookings -------------------------------------------------------------------------------


@pytest.fixture()
def held(db, make_house, make_machine, make_member, make_user):  # type: ignore[no-untyped-def]
    """A member's hold at a house that confirms bookings, the member and a manager."""
    house = make_house(requires_confirmation=True)
    machine = make_machine(house=house)
    member_actor = Actor(
        user_id=None, role=Role.member, member_id=make_member(house_id=house.id).id
    )
    manager_actor = Actor.of(make_user(Role.manager, houses=[house]))
    day = working_day()
    booking = bookings.create_booking(
        db, member_actor, machine_id=machine.id, start=at(day, "09:00"), end=at(day, "10:00")
    )
    assert booking.status is BookingStatus.held
    return booking, member_actor, manager_actor


def test_a_manager_cannot_confirm_a_hold_the_member_cancelled_since_the_manager_read_it(db, held):
    booking, _member, manager = held
    _behind_the_sessions_back(db, "bookings", booking.id, "cancelled")

    with pytest.raises(Conflict) as exc:
        bookings.confirm_booking(db, manager, booking.id)

    assert exc.value.code == "invalid_transition"
    assert exc.value.details == {"action": "confirm", "status": "cancelled"}
    assert booking.status is BookingStatus.cancelled
    assert _audited(db, "booking.confirmed", booking.id) == 0


def test_a_manager_cannot_reject_a_hold_confirmed_since_the_manager_read_it(db, held):
    booking, _member, manager = held
    _behind_the_sessions_back(db, "bookings", booking.id, "confirmed")

    with pytest.raises(Conflict) as exc:
        bookings.reject_booking(db, manager, booking.id, reason="Mesin dipakai pelatihan")

    assert exc.value.code == "invalid_transition"
    assert exc.value.details == {"action": "reject", "status": "confirmed"}
    assert booking.status is BookingStatus.confirmed


def test_rejecting_a_hold_cancels_it_with_the_managers_reason(db, held):
    booking, member, manager = held

    with pytest.raises(ValidationFailed) as no_reason:
        bookings.reject_booking(db, manager, booking.id, reason="  ")
    with pytest.raises(Forbidden):
        bookings.reject_booking(db, member, booking.id, reason="saya sendiri")
    rejected = bookings.reject_booking(db, manager, booking.id, reason="Mesin dipakai pelatihan")

    assert "reason" in no_reason.value.errors
    assert rejected.status is BookingStatus.cancelled
    assert rejected.cancelled_reason == "Mesin dipakai pelatihan"


def test_a_member_cannot_move_or_cancel_a_booking_the_house_completed_since_it_was_read(db, held):
    booking, member, _manager = held
    _behind_the_sessions_back(db, "bookings", booking.id, "completed")
    day = working_day()

    with pytest.raises(Conflict) as moved:
        bookings.move_booking(db, member, booking.id, start=at(day, "11:00"), end=at(day, "12:00"))
    with pytest.raises(Conflict) as cancelled:
        bookings.cancel_booking(db, member, booking.id)

    assert (moved.value.code, moved.value.details["action"]) == ("invalid_transition", "move")
    assert (cancelled.value.code, cancelled.value.details["action"]) == (
        "invalid_transition",
        "cancel",
    )
    assert (booking.status, booking.start_at) == (BookingStatus.completed, at(day, "09:00"))


def test_a_booking_in_the_wrong_state_answers_invalid_transition_for_every_action(db, held):
    booking, member, manager = held
    with pytest.raises(Conflict) as completing_a_hold:
        bookings.complete_booking(db, manager, booking.id)
    bookings.confirm_booking(db, manager, booking.id)
    with pytest.raises(Conflict) as confirming_twice:
        bookings.confirm_booking(db, manager, booking.id)
    bookings.cancel_booking(db, member, booking.id)
    with pytest.raises(Conflict) as cancelling_twice:
        bookings.cancel_booking(db, member, booking.id)
    with pytest.raises(Conflict) as no_show_of_a_cancelled:
        bookings.mark_no_show(db, manager, booking.id)

    refused = [completing_a_hold, confirming_twice, cancelling_twice, no_show_of_a_cancelled]
    assert [(e.value.code, e.value.details["status"]) for e in refused] == [
        ("invalid_transition", "held"),
        ("invalid_transition", "confirmed"),
        ("invalid_transition", "cancelled"),
        ("invalid_transition", "cancelled"),
    ]


def test_a_booking_the_member_cancelled_since_a_downtime_or_re_plan_read_it_is_not_cancelled_again(
    db, held
):
    booking, _member, manager = held
    _behind_the_sessions_back(db, "bookings", booking.id, "cancelled")

    with pytest.raises(Conflict) as exc:
        # What a downtime or a re-plan does with each live booking it found a moment ago.
        bookings.cancel_loaded_booking(db, manager, booking, "machine downtime")

    assert (exc.value.code, exc.value.details["status"]) == ("invalid_transition", "cancelled")
    assert booking.cancelled_reason is None
    assert _audited(db, "booking.cancelled", booking.id) == 0


# --- loan applications ----------------------------------------------------------------------


@pytest.fixture()
def submitted(db, make_aggregator, make_cluster, make_member, make_user):  # type: ignore[no-untyped-def]
    aggregator = make_aggregator(approval_limit=500_000_000)
    chair = make_member()
    cluster = make_cluster(aggregator=aggregator, members=[chair], chair_member_id=chair.id)
    app = loans.create(
        db,
        ADMIN,
        cluster_id=cluster.id,
        requested_amount=20_000_000,
        tenor_months=12,
        on=dt.date(2026, 1, 10),
    )
    loans.submit(db, ADMIN, app.id)
    return app, Actor.of(make_user(Role.aggregator, aggregator=aggregator))


def test_an_application_rejected_since_the_endorser_read_it_cannot_be_approved(db, submitted):
    app, endorser = submitted
    _behind_the_sessions_back(db, "loan_applications", app.id, "rejected")

    with pytest.raises(Conflict) as exc:
        loans.approve(db, endorser, app.id)

    assert exc.value.code == "invalid_transition"
    assert exc.value.details == {"action": "approved", "status": "rejected"}
    assert app.status is LoanStatus.rejected and app.approved_by_id is None
    assert _audited(db, "loan_application.approved", app.id) == 0


def test_an_application_approved_since_it_was_read_cannot_be_rejected_sent_back_or_edited(
    db, submitted
):
    app, endorser = submitted
    _behind_the_sessions_back(db, "loan_applications", app.id, "approved")

    refused = []
    for action in (
        lambda: loans.reject(db, endorser, app.id, "no"),
        lambda: loans.request_changes(db, endorser, app.id, "again"),
        lambda: loans.update(db, ADMIN, app.id, tenor_months=6),
        lambda: loans.submit(db, ADMIN, app.id),
    ):
        with pytest.raises(Conflict) as exc:
            action()
        refused.append((exc.value.code, exc.value.details["status"]))

    assert refused == [("invalid_transition", "approved")] * 4
    assert app.status is LoanStatus.approved and app.tenor_months == 12


def test_a_lender_decision_needs_an_approved_application(db, submitted):
    app, _endorser = submitted
    with pytest.raises(Conflict) as exc:
        loans.lender_decision(db, ADMIN, app.id, True)
    assert (exc.value.code, exc.value.details) == (
        "invalid_transition",
        {"action": "lender_approved", "status": "submitted"},
    )


# --- schedule runs --------------------------------------------------------------------------


@pytest.fixture()
def succeeded_run(
    db,
    make_house,
    make_machine,
    make_product,
    make_member,  # type: ignore[no-untyped-def]
    make_production_request,
    make_user,
):
    house = make_house()
    machine = make_machine(house=house, capabilities=["sewing"])
    member = make_member(house_id=house.id)
    day = working_day()
    request = make_production_request(
        quantity=9,
        earliest_start=at(day, "08:00"),
        due=at(day, "17:00"),
        product=make_product(member=member, routing=[("sewing", 15, 5)]),
    )
    run = ScheduleRun(
        house_id=house.id,
        horizon_start=at(day, "08:00"),
        horizon_end=at(day, "17:00"),
        time_limit_seconds=1,
        status=RunStatus.succeeded,
        attempts=1,
    )
    run.assignments = [
        ScheduleAssignment(
            operation_id=op.id,
            machine_id=machine.id,
            start_at=at(day, "09:00"),
            end_at=at(day, "10:00"),
        )
        for op in request.operations
    ]
    db.add(run)
    db.flush()
    return run, machine, Actor.of(make_user(Role.manager, houses=[house]))


def _bookings_of(db, machine) -> int:
    return (
        db.scalar(select(func.count()).select_from(Booking).where(Booking.machine_id == machine.id))
        or 0
    )


def test_a_run_discarded_since_the_manager_read_it_cannot_be_published(db, succeeded_run):
    run, machine, manager = succeeded_run
    _behind_the_sessions_back(db, "schedule_runs", run.id, "discarded")

    with pytest.raises(Conflict) as exc:
        scheduling.publish_run(db, manager, run.id)

    assert (exc.value.code, exc.value.details) == (
        "invalid_transition",
        {"action": "publish", "status": "discarded"},
    )
    assert run.status is RunStatus.discarded
    assert _bookings_of(db, machine) == 0


def test_a_run_published_since_the_manager_read_it_cannot_be_discarded(db, succeeded_run):
    run, machine, manager = succeeded_run
    _behind_the_sessions_back(db, "schedule_runs", run.id, "published")

    with pytest.raises(Conflict) as exc:
        scheduling.discard_run(db, manager, run.id)

    assert (exc.value.code, exc.value.details) == (
        "invalid_transition",
        {"action": "discard", "status": "published"},
    )
    assert run.status is RunStatus.published
    assert _audited(db, "schedule_run.discarded", run.id) == 0


def test_a_published_run_cannot_be_published_again_nor_discarded(db, succeeded_run):
    run, machine, manager = succeeded_run
    scheduling.publish_run(db, manager, run.id)
    refused = []
    for action in (scheduling.publish_run, scheduling.discard_run):
        with pytest.raises(Conflict) as exc:
            action(db, manager, run.id)
        refused.append((exc.value.code, exc.value.details["action"]))
    assert refused == [("invalid_transition", "publish"), ("invalid_transition", "discard")]
    assert _bookings_of(db, machine) == 1
