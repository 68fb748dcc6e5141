"""Who hears of which change: every change reaches the people it concerns who did not make it,
in their own language, with the facts of the change; the one who made it hears nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from factoryshare.access import Actor
from factoryshare.events import publish
from factoryshare.models import Role
from factoryshare.models.bookings import BookingStatus
from factoryshare.models.notifications import Notification
from factoryshare.models.scheduling import ProductionRequest, RequestStatus
from factoryshare.services import bookings, downtimes
from factoryshare.subscribers import financing as financing_notices
from tests.factories.bookings import at, working_day


@pytest.fixture()
def machine(make_machine, make_house):
    return make_machine(house=make_house(timezone="Asia/Makassar"), name="Mesin Jahit 3")


@pytest.fixture()
def member(make_member, machine):
    return make_member(house_id=machine.house_id)


@pytest.fixture()
def member_user(make_user, member):
    return make_user(Role.member, member=member, language="id")


@pytest.fixture()
def manager_user(make_user, machine):
    return make_user(Role.manager, houses=[machine.house], name="Budi Pengelola", language="en")


def notes_of(db, user):
    return list(
        db.scalars(
            select(Notification).where(Notification.user_id == user.id).order_by(Notification.id)
        )
    )


def booking_of(db, make_booking, machine, member, **kw):
    day = working_day(tz="Asia/Makassar")
    values = {
        "start_at": at(day, "09:00", "Asia/Makassar"),
        "end_at": at(day, "11:00", "Asia/Makassar"),
    }
    values.update(kw)
    return make_booking(machine=machine, member=member, **values)


def test_a_member_hears_in_indonesian_that_the_manager_confirmed_its_hold(
    db, make_booking, machine, member, member_user, manager_user
):
    held = booking_of(db, make_booking, machine, member, status=BookingStatus.held)
    bookings.confirm_booking(db, Actor.of(manager_user), held.id)
    [note] = notes_of(db, member_user)
    assert note.template == "booking_confirmed" and note.language == "id"
    assert note.subject.startswith("Pemesanan dikonfirmasi: Mesin Jahit 3")
    assert "09:00–11:00 WITA" in note.body  # the house's zone, not the server's
    assert notes_of(db, manager_user) == []


def test_a_member_hears_of_a_booking_a_manager_made_for_it_but_not_of_its_own(
    db, machine, member, member_user, manager_user
):
    day = working_day(tz="Asia/Makassar")
    bookings.create_booking(
        db,
        Actor.of(manager_user),
        machine_id=machine.id,
        member_id=member.id,
        start=at(day, "09:00", "Asia/Makassar"),
        end=at(day, "10:00", "Asia/Makassar"),
    )
    assert [n.template for n in notes_of(db, member_user)] == ["booking_confirmed"]
    bookings.create_booking(
        db,
        Actor.of(member_user),
        machine_id=machine.id,
        start=at(day, "13:00", "Asia/Makassar"),
        end=at(day, "14:00", "Asia/Makassar"),
    )
    assert len(notes_of(db, member_user)) == 1
    assert notes_of(db, manager_user) == []


def test_a_rejected_hold_tells_the_member_once_with_the_reason_and_who_rejected_it(
    db, make_booking, machine, member, make_user, manager_user
):
    english = make_user(Role.member, member=member, language="en")
    held = booking_of(db, make_booking, machine, member, status=BookingStatus.held)
    bookings.reject_booking(db, Actor.of(manager_user), held.id, reason="mesin dipakai pelatihan")
    [note] = notes_of(db, english)  # one message, not also a generic cancellation
    assert note.template == "booking_rejected" and note.language == "en"
    assert note.subject.startswith("Booking rejected: Mesin Jahit 3")
    assert "Reason: mesin dipakai pelatihan." in note.body
    assert "by Budi Pengelola (the production house's manager)" in note.body
    assert notes_of(db, manager_user) == []


def test_a_hold_that_ran_out_tells_the_member_once_that_its_slot_was_released(
    db, make_booking, machine, member, member_user
):
    held = booking_of(
        db,
        make_booking,
        machine,
        member,
        status=BookingStatus.held,
        hold_expires_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    )
    assert bookings.expire_holds(db, dt.datetime(2026, 1, 2, tzinfo=dt.UTC)) == 1
    assert held.status is BookingStatus.cancelled
    [note] = notes_of(db, member_user)
    assert note.template == "hold_expired"
    assert note.subject.startswith("Slot dilepas: Mesin Jahit 3")


def test_a_booking_the_manager_moved_tells_the_member_from_where_to_where_and_by_whom(
    db, make_booking, machine, member, member_user, manager_user
):
    booking = booking_of(db, make_booking, machine, member)
    day = working_day(tz="Asia/Makassar")
    bookings.move_booking(
        db,
        Actor.of(manager_user),
        booking.id,
        start=at(day, "13:00", "Asia/Makassar"),
        end=at(day, "15:00", "Asia/Makassar"),
    )
    [note] = notes_of(db, member_user)
    assert note.template == "booking_moved"
    assert "Pemesanan Anda dipindahkan oleh Budi Pengelola (pengelola rumah produksi)." in note.body
    assert "09:00–11:00 WITA" in note.body and "13:00–15:00 WITA" in note.body
    assert notes_of(db, manager_user) == []


def test_a_member_moving_or_cancelling_its_own_booking_is_not_told_of_it(
    db, make_booking, machine, member, member_user
):
    booking = booking_of(db, make_booking, machine, member)
    day = working_day(tz="Asia/Makassar")
    me = Actor.of(member_user)
    bookings.move_booking(
        db,
        me,
        booking.id,
        start=at(day, "13:00", "Asia/Makassar"),
        end=at(day, "15:00", "Asia/Makassar"),
    )
    bookings.cancel_booking(db, me, booking.id, reason="tidak jadi")
    assert notes_of(db, member_user) == []


def test_a_booking_the_manager_cancelled_tells_the_member_who_and_why(
    db, make_booking, machine, member, member_user, manager_user
):
    booking = booking_of(db, make_booking, machine, member)
    bookings.cancel_booking(db, Actor.of(manager_user), booking.id, reason="listrik padam")
    [note] = notes_of(db, member_user)
    assert note.template == "booking_cancelled"
    assert "telah dibatalkan oleh Budi Pengelola (pengelola rumah produksi)." in note.body
    assert "Alasan: listrik padam." in note.body
    assert notes_of(db, manager_user) == []


def test_a_downtime_that_cancels_a_booking_tells_the_member_once_with_alternatives(
    db, make_booking, machine, member, member_user, manager_user
):
    booking = booking_of(db, make_booking, machine, member)
    downtimes.record_downtime(
        db,
        Actor.of(manager_user),
        machine_id=machine.id,
        start=booking.start_at,
        end=booking.end_at,
        reason="jarum patah",
        affected="cancel",
    )
    [note] = notes_of(db, member_user)  # the downtime's message, not also a generic one
    assert note.template == "booking_downtime"
    assert "jarum patah" in note.body


@pytest.fixture()
def request_of(db, make_product, member, machine):
    def make(**kw):
        product = make_product(member=member, name="Dodol Garut")
        request = ProductionRequest(
            member_id=member.id,
            house_id=machine.house_id,
            product_id=product.id,
            quantity=200,
            earliest_start=at(working_day(tz="Asia/Makassar"), "08:00", "Asia/Makassar"),
            due=at(working_day(14, tz="Asia/Makassar"), "17:00", "Asia/Makassar"),
            status=kw.get("status", RequestStatus.scheduled),
        )
        db.add(request)
        db.flush()
        return request

    return make


def test_a_published_plan_tells_the_member_the_machines_and_times_of_its_request(
    db, make_booking, machine, member, member_user, manager_user, request_of
):
    request = request_of()
    placed = booking_of(db, make_booking, machine, member)
    publish(db, "request_placed", request=request, actor=Actor.of(manager_user), bookings=[placed])
    [note] = notes_of(db, member_user)
    assert note.template == "request_placed"
    assert "Produksi Dodol Garut dijadwalkan" in note.subject
    assert "- Mesin Jahit 3:" in note.body and "09:00–11:00 WITA" in note.body
    assert notes_of(db, manager_user) == []


def test_a_request_a_published_plan_left_out_tells_the_member_why_in_words(
    db, make_user, member, manager_user, request_of
):
    english = make_user(Role.member, member=member, language="en")
    request = request_of(status=RequestStatus.open)
    publish(db, "request_left_out", request=request, actor=Actor.of(manager_user), why="share_cap")
    [note] = notes_of(db, english)
    assert note.template == "request_left_out" and note.language == "en"
    assert "it would take you above your share of the house's scarce machines" in note.body
    assert "share_cap" not in note.body


@pytest.fixture()
def loan(db, make_member, make_cluster, make_user):
    from factoryshare.models.financing import (
        Installment,
        InstallmentStatus,
        KurScheme,
        LoanApplication,
        LoanStatus,
    )

    chair, other, invited = make_member(), make_member(), make_member()
    cluster = make_cluster(
        members=[chair, other], invited=[invited], chair_member_id=chair.id, name="Klaster Dodol"
    )
    scheme = db.scalars(select(KurScheme)).first()
    app = LoanApplication(
        cluster_id=cluster.id,
        scheme_id=scheme.id,
        requested_amount=50_000_000,
        approved_amount=50_000_000,
        tenor_months=12,
        grace_months=0,
        status=LoanStatus.repaying,
        notes="",
    )
    db.add(app)
    db.flush()
    users = {
        "chair": make_user(Role.member, member=chair, language="id"),
        "other": make_user(Role.member, member=other, language="en"),
        "invited": make_user(Role.member, member=invited),
        "aggregator": make_user(Role.aggregator, aggregator_id=cluster.aggregator_id),
    }

    def installment(due_on, number=1):
        inst = Installment(
            loan_application_id=app.id,
            number=number,
            due_date=due_on,
            principal=4_000_000,
            interest=200_000,
            amount=4_200_000,
            paid=0,
            status=InstallmentStatus.due,
            days_in_arrears=0,
        )
        db.add(inst)
        db.flush()
        return inst

    return app, users, installment


def test_a_loan_decision_reaches_the_chair_and_the_members_who_accepted_not_the_decider(db, loan):
    app, users, _ = loan
    publish(
        db,
        "loan_decided",
        application=app,
        kind="rejected",
        note="agunan kurang",
        actor=Actor.of(users["aggregator"]),
    )
    [chair_note] = notes_of(db, users["chair"])
    [other_note] = notes_of(db, users["other"])
    assert chair_note.template == "loan_decision" and chair_note.language == "id"
    assert "Pengajuan KUR Klaster Dodol ditolak" in chair_note.subject
    assert "agunan kurang" in chair_note.body
    assert "rejected" in other_note.subject
    assert notes_of(db, users["invited"]) == []  # invited, not accepted
    assert notes_of(db, users["aggregator"]) == []


def test_a_submitted_application_tells_the_aggregator_and_the_members_but_not_the_chair_who_sent_it(
    db, loan
):
    app, users, _ = loan
    publish(db, "loan_decided", application=app, kind="submitted", actor=Actor.of(users["chair"]))
    assert [n.template for n in notes_of(db, users["aggregator"])] == ["loan_submitted"]
    assert [n.template for n in notes_of(db, users["other"])] == ["loan_submitted"]
    assert notes_of(db, users["chair"]) == []


def test_a_released_tranche_tells_the_cluster_how_much_and_how_much_so_far(db, loan):
    app, users, _ = loan
    publish(
        db, "loan_decided", application=app, kind="tranche", amount=20_000_000, actor=Actor.system()
    )
    [note] = notes_of(db, users["chair"])
    assert note.template == "tranche_released"
    assert "Rp20.000.000" in note.subject


def test_an_installment_due_in_three_days_and_one_overdue_are_each_told_once(db, loan):
    app, users, installment = loan
    now = dt.datetime(2026, 12, 1, 3, 0, tzinfo=dt.UTC)  # 10:00 WIB
    installment(dt.date(2026, 12, 4), number=1)
    installment(dt.date(2026, 11, 25), number=2)
    installment(dt.date(2026, 12, 20), number=3)  # not yet
    assert financing_notices.remind_installments(db, now) == {"due_soon": 1, "overdue": 1}
    assert financing_notices.remind_installments(db, now) == {"due_soon": 0, "overdue": 0}
    templates = sorted(n.template for n in notes_of(db, users["chair"]))
    assert templates == ["installment_due", "installment_overdue"]
    due = next(n for n in notes_of(db, users["chair"]) if n.template == "installment_due")
    assert "4 Desember 2026 (3 hari lagi)" in due.body


def test_a_member_hears_why_the_manager_rejected_its_permit_entry(
    db, make_food_product, make_permit, member, member_user, manager_user
):
    from factoryshare.models.permits import PermitVerification
    from factoryshare.services import permits

    product = make_food_product(member=member, name="Keripik Tempe")
    permit = make_permit(product, verification=PermitVerification.submitted)
    permits.reject_permit(
        db, Actor.of(manager_user), permit.id, reason="nomor tidak cocok dengan dokumen"
    )
    [note] = notes_of(db, member_user)
    assert note.template == "permit_rejected" and note.language == "id"
    assert "Keripik Tempe" in note.subject
    assert "Alasan: nomor tidak cocok dengan dokumen." in note.body
    assert notes_of(db, manager_user) == []
