"""link_financing and release_unfunded_holds: right bookings, run twice with the same result."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from factoryshare.access import Actor
from factoryshare.jobs.runner import run_job
from factoryshare.models import Role
from factoryshare.models.bookings import BookingStatus
from factoryshare.models.financing import LoanPlanLink
from factoryshare.models.jobs import JobStatus
from factoryshare.models.notifications import Notification
from factoryshare.services import loans

ADMIN = Actor(user_id=None, role=Role.admin)
NOW = dt.datetime(2026, 2, 1, 3, 0, tzinfo=dt.UTC)
START = dt.datetime(2026, 3, 6, 1, 0, tzinfo=dt.UTC)


def _cluster_with_plan(
    db, make_house, make_machine, make_member, make_cluster, make_product, make_booking, make_user
):
    house = make_house()
    machine = make_machine(house=house)
    chair = make_member(house=house)
    cluster = make_cluster(members=[chair], chair_member_id=chair.id, house_id=house.id)
    product = make_product(member=chair)
    planned = make_booking(
        machine=machine,
        member=chair,
        product_id=product.id,
        start_at=START,
        end_at=START + dt.timedelta(hours=1),
        status=BookingStatus.held,
    )
    user = make_user(Role.member, member=chair)
    app = loans.create(
        db,
        ADMIN,
        cluster_id=cluster.id,
        requested_amount=1_000_000,
        tenor_months=12,
        on=dt.date(2026, 1, 10),
    )
    loans.set_plan(db, ADMIN, app.id, booking_ids=[planned.id], material_costs={chair.id: 500_000})
    loans.submit(db, ADMIN, app.id)
    return {
        "app": app,
        "machine": machine,
        "chair": chair,
        "product": product,
        "planned": planned,
        "user": user,
        "cluster": cluster,
    }


def _links(db, app):
    return sorted(
        (link.booking_id, link.linked_by)
        for link in db.scalars(
            select(LoanPlanLink).where(
                LoanPlanLink.loan_application_id == app.id, LoanPlanLink.booking_id.is_not(None)
            )
        )
    )


def test_a_members_new_booking_of_a_financed_product_is_linked_to_the_loan_once(
    db,
    tmp_path,
    make_house,
    make_machine,
    make_member,
    make_cluster,
    make_product,
    make_booking,
    make_user,
):
    s = _cluster_with_plan(
        db,
        make_house,
        make_machine,
        make_member,
        make_cluster,
        make_product,
        make_booking,
        make_user,
    )
    loans.approve(db, ADMIN, s["app"].id)
    later = START + dt.timedelta(days=1)
    new = make_booking(
        machine=s["machine"],
        member=s["chair"],
        product_id=s["product"].id,
        start_at=later,
        end_at=later + dt.timedelta(hours=2),
    )
    other_product = make_booking(
        machine=s["machine"],
        member=s["chair"],
        start_at=later + dt.timedelta(hours=3),
        end_at=later + dt.timedelta(hours=4),
    )
    outsider = make_booking(product_id=s["product"].id)

    first = run_job(db, "link_financing", lock_dir=tmp_path, now=NOW)
    second = run_job(db, "link_financing", lock_dir=tmp_path, now=NOW)

    assert first.status is JobStatus.succeeded and first.counts["linked"] == 1
    assert second.counts["linked"] == 0
    assert _links(db, s["app"]) == [(s["planned"].id, "plan"), (new.id, "job")]
    assert other_product.id not in dict(_links(db, s["app"]))
    assert outsider.id not in dict(_links(db, s["app"]))


def test_nothing_is_linked_to_an_application_that_is_not_yet_approved(
    db,
    tmp_path,
    make_house,
    make_machine,
    make_member,
    make_cluster,
    make_product,
    make_booking,
    make_user,
):
    s = _cluster_with_plan(
        db,
        make_house,
        make_machine,
        make_member,
        make_cluster,
        make_product,
        make_booking,
        make_user,
    )
    make_booking(
        machine=s["machine"],
        member=s["chair"],
        product_id=s["product"].id,
        start_at=START + dt.timedelta(days=1),
        end_at=START + dt.timedelta(days=1, hours=1),
    )

    assert run_job(db, "link_financing", lock_dir=tmp_path, now=NOW).counts["linked"] == 0


def test_a_rejected_application_releases_its_held_slots_and_tells_the_member_once(
    db,
    tmp_path,
    make_house,
    make_machine,
    make_member,
    make_cluster,
    make_product,
    make_booking,
    make_user,
):
    s = _cluster_with_plan(
        db,
        make_house,
        make_machine,
        make_member,
        make_cluster,
        make_product,
        make_booking,
        make_user,
    )
    later = START + dt.timedelta(days=1)
    confirmed = make_booking(
        machine=s["machine"],
        member=s["chair"],
        product_id=s["product"].id,
        start_at=later,
        end_at=later + dt.timedelta(hours=1),
    )
    loans.reject(db, ADMIN, s["app"].id, "The plan is not convincing.")

    first = run_job(db, "release_unfunded_holds", lock_dir=tmp_path, now=NOW)
    second = run_job(db, "release_unfunded_holds", lock_dir=tmp_path, now=NOW)

    assert first.counts == {"released": 1, "notified": 1}
    assert second.counts == {"released": 0, "notified": 0}
    assert s["planned"].status is BookingStatus.cancelled
    assert "financing" in s["planned"].cancelled_reason
    assert confirmed.status is BookingStatus.confirmed
    # The chair also hears of the application's steps (loan_submitted, loan_decision); of its
    # booking it hears once.
    notes = db.scalars(
        select(Notification).where(
            Notification.user_id == s["user"].id, Notification.template.like("booking%")
        )
    ).all()
    assert len(notes) == 1 and notes[0].template == "booking_cancelled"


def test_held_slots_of_an_application_still_under_review_are_kept(
    db,
    tmp_path,
    make_house,
    make_machine,
    make_member,
    make_cluster,
    make_product,
    make_booking,
    make_user,
):
    s = _cluster_with_plan(
        db,
        make_house,
        make_machine,
        make_member,
        make_cluster,
        make_product,
        make_booking,
        make_user,
    )

    assert run_job(db, "release_unfunded_holds", lock_dir=tmp_path, now=NOW).counts["released"] == 0
    assert s["planned"].status is BookingStatus.held


def test_a_held_slot_whose_loan_is_still_undecided_at_the_houses_deadline_is_released_and_the_member_told(
    db,
    tmp_path,
    make_house,
    make_machine,
    make_member,
    make_cluster,
    make_product,
    make_booking,
    make_user,
):
    s = _cluster_with_plan(
        db,
        make_house,
        make_machine,
        make_member,
        make_cluster,
        make_product,
        make_booking,
        make_user,
    )
    s["machine"].house.financing_decision_days = 30
    db.flush()
    # 33 days before the slot: still inside the time the house gives for a decision.
    assert run_job(db, "release_unfunded_holds", lock_dir=tmp_path, now=NOW).counts["released"] == 0
    assert s["planned"].status is BookingStatus.held
    past_deadline = START - dt.timedelta(days=29)
    first = run_job(db, "release_unfunded_holds", lock_dir=tmp_path, now=past_deadline)
    second = run_job(db, "release_unfunded_holds", lock_dir=tmp_path, now=past_deadline)
    assert first.counts == {"released": 1, "notified": 1}
    assert second.counts == {"released": 0, "notified": 0}
    assert s["planned"].status is BookingStatus.cancelled
    assert "not decided" in s["planned"].cancelled_reason
    # The chair also hears of the application's steps (loan_submitted, loan_decision); of its
    # booking it hears once.
    notes = db.scalars(
        select(Notification).where(
            Notification.user_id == s["user"].id, Notification.template.like("booking%")
        )
    ).all()
    assert len(notes) == 1 and "deadline" in notes[0].context["reason"]


def test_without_a_house_deadline_an_undecided_loan_keeps_its_held_slot(
    db,
    tmp_path,
    make_house,
    make_machine,
    make_member,
    make_cluster,
    make_product,
    make_booking,
    make_user,
):
    s = _cluster_with_plan(
        db,
        make_house,
        make_machine,
        make_member,
        make_cluster,
        make_product,
        make_booking,
        make_user,
    )
    late = START - dt.timedelta(days=1)
    assert (
        run_job(db, "release_unfunded_holds", lock_dir=tmp_path, now=late).counts["released"] == 0
    )
    assert s["planned"].status is BookingStatus.held
