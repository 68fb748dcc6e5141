"""A day of each role, walked through the HTTP API on the demo data with the demo accounts.

Each test loads the demo (fixtures.demo.load_demo), signs in with a demo account's password and
does what that person does on a working day, asserting what they would notice, the messages
the other parties receive (in their language) and the answers in the user's language
(Indonesian by default). Times are relative to the demo's own dates (it books from today).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from factoryshare.models import Machine, Member, Product, ProductionHouse, User
from factoryshare.models.bookings import Booking
from factoryshare.models.financing import LoanApplication
from factoryshare.models.notifications import Notification
from fixtures.demo import DEMO_ACCOUNTS, load_demo
from fixtures.financing import PENDING_NOTE
from tests.factories.bookings import working_day
from tests.solving import WORK_PER_SECOND

API = "/api/v1"
GARUT = "Rumah Produksi Bersama Kulit Sukaregang"
JEMBRANA = "Rumah Produksi Bersama Pangan dan Kakao Jembrana"
WIB = ZoneInfo("Asia/Jakarta")
PASSWORDS = {email: password for _, email, password, _ in DEMO_ACCOUNTS}
ASEP = "asep@sukaregangleather.id"
MANAGER = "manajer.garut@factoryshare.id"
AGGREGATOR = "pembiayaan@mitranusantara.coop.id"
LENDER = "kredit@bankrakyatdemo.id"
ADMIN = "admin@factoryshare.id"


@pytest.fixture()
def demo(db: Session):  # type: ignore[no-untyped-def]
    load_demo(db)
    db.flush()
    return db


def sign_in(client, email: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    r = client.post(f"{API}/auth/token", json={"email": email, "password": PASSWORDS[email]})
    assert r.status_code == 201, r.json
    return {"Authorization": f"Bearer {r.json['token']}"}


def house(db: Session, name: str) -> ProductionHouse:
    return db.scalars(select(ProductionHouse).where(ProductionHouse.name == name)).one()


def machine(db: Session, house_name: str, code: str) -> Machine:
    return db.scalars(
        select(Machine)
        .join(ProductionHouse)
        .where(ProductionHouse.name == house_name, Machine.code == code)
    ).one()


def user(db: Session, email: str) -> User:
    return db.scalars(select(User).where(User.email == email)).one()


def local(day: dt.date, hhmm: str, zone: ZoneInfo = WIB) -> str:
    hours, minutes = (int(p) for p in hhmm.split(":"))
    return dt.datetime.combine(day, dt.time(hours, minutes), tzinfo=zone).isoformat()


def inbox(client, headers, template: str | None = None) -> list[dict]:  # type: ignore[no-untyped-def]
    r = client.get(f"{API}/notifications?page_size=100", headers=headers)
    assert r.status_code == 200, r.json
    items = r.json["items"]
    return [n for n in items if template is None or n["template"] == template]


def notes_of(db: Session, email: str, template: str) -> list[Notification]:
    return list(
        db.scalars(
            select(Notification)
            .where(Notification.user_id == user(db, email).id, Notification.template == template)
            .order_by(Notification.id)
        )
    )


def book(client, headers, machine_id: int, day: dt.date, start: str, end: str, **extra):  # type: ignore[no-untyped-def]
    r = client.post(
        f"{API}/bookings",
        json={
            "machine_id": machine_id,
            "start": local(day, start),
            "end": local(day, end),
            **extra,
        },
        headers=headers,
    )
    assert r.status_code == 201, r.json
    return r.json


# --- member ----------------------------------------------------------------------------------


def test_a_member_finds_a_slot_books_moves_requests_production_reads_its_messages_cancels_and_reads_its_statement(
    client, demo
):
    db = demo
    asep = sign_in(client, ASEP)
    manager = sign_in(client, MANAGER)
    garut = house(db, GARUT)
    sewing = machine(db, GARUT, "JHT-01")
    day = working_day(8)

    # Finds a free sewing machine for two hours that day.
    r = client.get(
        f"{API}/houses/{garut.id}/availability",
        query_string={
            "start": local(day, "08:00"),
            "end": local(day, "17:00"),
            "capability": "sewing",
            "duration": 120,
        },
        headers=asep,
    )
    assert r.status_code == 200, r.json
    assert r.json["zone"] == "WIB"
    free = {m["code"]: m["free"] for m in r.json["machines"]}
    assert free["JHT-01"] and free["JHT-01"][0]["start"].endswith("T08:00:00+07:00")

    # Books it: Garut confirms bookings, so it is held, at the machine's rate.
    booking = book(client, asep, sewing.id, day, "09:00", "11:00")
    assert booking["status"] == "held"
    assert booking["price"] == 2 * sewing.hourly_rate == 50_000
    assert booking["start"].endswith("T09:00:00+07:00") and booking["zone"] == "WIB"
    # As if held three hours ago: moving it holds it again from the move.
    row = db.get(Booking, booking["id"])
    row.hold_expires_at = row.hold_expires_at - dt.timedelta(hours=3)
    db.flush()
    earlier = dt.datetime.fromisoformat(
        client.get(f"{API}/bookings/{booking['id']}", headers=asep).json["hold_expires_at"]
    )
    r = client.patch(
        f"{API}/bookings/{booking['id']}",
        json={"start": local(day, "13:00"), "end": local(day, "15:00")},
        headers=asep,
    )
    assert r.status_code == 200, r.json
    assert r.json["start"].endswith("T13:00:00+07:00") and r.json["status"] == "held"
    assert dt.datetime.fromisoformat(r.json["hold_expires_at"]) > earlier + dt.timedelta(hours=2)

    # A slot someone else holds is refused in Indonesian.
    other = book(client, asep, sewing.id, day, "15:00", "16:00")
    r = client.post(
        f"{API}/bookings",
        json={"machine_id": sewing.id, "start": local(day, "15:00"), "end": local(day, "16:00")},
        headers=asep,
    )
    assert (r.status_code, r.json["code"]) == (409, "booking_conflict")
    assert "Mesin ini sudah dipesan" in r.json["message"]

    # Asks the house to plan a production of its wallets.
    product = db.scalars(
        select(Product).where(Product.member_id == user(db, ASEP).member_id)
    ).first()
    r = client.post(
        f"{API}/production-requests",
        json={
            "product_id": product.id,
            "quantity": 20,
            "earliest_start": local(day, "08:00"),
            "due": local(day + dt.timedelta(days=7), "17:00"),
        },
        headers=asep,
    )
    assert r.status_code == 201, r.json
    assert r.json["status"] == "open" and r.json["house_id"] == garut.id
    assert [o["capability"] for o in r.json["operations"]] == [
        "leather_cutting",
        "leather_skiving",
        "sewing",
    ]

    # The manager confirms the moved hold: the member reads it, in Indonesian, unread.
    assert (
        client.post(f"{API}/bookings/{booking['id']}/confirm", headers=manager).status_code == 200
    )
    unread = client.get(f"{API}/notifications/unread-count", headers=asep).json["unread"]
    [confirmed] = inbox(client, asep, "booking_confirmed")
    assert confirmed["language"] == "id" and not confirmed["read"]
    assert "dikonfirmasi" in (confirmed["subject"] + confirmed["body"]).lower()
    assert "13:00" in confirmed["body"]
    assert (
        client.post(f"{API}/notifications/{confirmed['id']}/read", headers=asep).status_code == 200
    )
    assert (
        client.get(f"{API}/notifications/unread-count", headers=asep).json["unread"] == unread - 1
    )

    # Cancels the other one itself: it is cancelled, and nobody tells it what it did.
    r = client.post(
        f"{API}/bookings/{other['id']}/cancel", json={"reason": "tidak jadi"}, headers=asep
    )
    assert r.status_code == 200 and r.json["status"] == "cancelled"
    assert inbox(client, asep, "booking_cancelled") == []

    # Its statement of the month shows the confirmed booking as scheduled, the cancelled one counted.
    month = day.strftime("%Y-%m")
    r = client.get(f"{API}/members/{user(db, ASEP).member_id}/statements/{month}", headers=asep)
    assert r.status_code == 200, r.json
    lines = {line["booking_id"]: line for line in r.json["lines"]}
    assert lines[booking["id"]]["status"] == "confirmed"
    assert lines[booking["id"]]["house"] == GARUT and lines[booking["id"]]["zone"] == "WIB"
    assert lines[booking["id"]]["start"].endswith("T13:00:00+07:00")
    assert r.json["scheduled"] >= 50_000 and r.json["cancelled_count"] >= 1
    assert r.json["scheduled_text"].startswith("Rp")


# --- manager ---------------------------------------------------------------------------------


def test_a_manager_confirms_rejects_cannot_complete_early_closes_a_day_and_publishes_a_plan(
    clock, client, demo, session_factory
):
    from factoryshare import worker

    db = demo
    asep = sign_in(client, ASEP)
    manager = sign_in(client, MANAGER)
    garut = house(db, GARUT)
    day = working_day(8)
    later = working_day((day - clock.today(WIB)).days + 1)
    first = book(client, asep, machine(db, GARUT, "JHT-01").id, day, "09:00", "10:00")
    second = book(client, asep, machine(db, GARUT, "JHT-02").id, day, "10:00", "11:00")
    assert first["status"] == second["status"] == "held"

    # Confirms one hold: the member is told, in Indonesian.
    r = client.post(f"{API}/bookings/{first['id']}/confirm", headers=manager)
    assert (r.status_code, r.json["status"]) == (200, "confirmed")
    [told] = notes_of(db, ASEP, "booking_confirmed")
    assert told.language == "id" and told.context["booking_id"] == first["id"]

    # Rejects the other with a reason, which is required and reaches the member.
    r = client.post(f"{API}/bookings/{second['id']}/reject", json={"reason": ""}, headers=manager)
    assert r.status_code == 422 and "reason" in r.json["errors"]
    r = client.post(
        f"{API}/bookings/{second['id']}/reject",
        json={"reason": "Mesin dipakai untuk pelatihan operator"},
        headers=manager,
    )
    assert (r.status_code, r.json["status"]) == (200, "cancelled")
    [rejected] = inbox(client, asep, "booking_rejected")
    assert (
        rejected["language"] == "id"
        and "Mesin dipakai untuk pelatihan operator" in rejected["body"]
    )

    # Cannot complete a booking that has not started: 409 too_early, in Indonesian, unchanged.
    r = client.post(f"{API}/bookings/{first['id']}/complete", headers=manager)
    assert (r.status_code, r.json["code"]) == (409, "too_early"), r.json
    assert "WIB" in r.json["message"]
    assert client.get(f"{API}/bookings/{first['id']}", headers=asep).json["status"] == "confirmed"

    # Previews a closure over the confirmed booking: it is listed and nothing changes.
    closure = {
        "start_on": day.isoformat(),
        "end_on": day.isoformat(),
        "reason": "Perbaikan listrik",
    }
    r = client.post(f"{API}/houses/{garut.id}/closures?dry_run=true", json=closure, headers=manager)
    assert r.status_code == 200, r.json
    assert r.json["dry_run"] is True
    assert [a["booking_id"] for a in r.json["affected"]] == [first["id"]]
    assert client.get(f"{API}/bookings/{first['id']}", headers=asep).json["status"] == "confirmed"
    # Applies it cancelling what it hits: the member is told, with other free slots.
    r = client.post(
        f"{API}/houses/{garut.id}/closures?affected=cancel", json=closure, headers=manager
    )
    assert r.status_code == 201, r.json
    [item] = r.json["affected"]
    assert (item["booking_id"], item["action"]) == (first["id"], "cancelled") and item[
        "alternatives"
    ]
    assert client.get(f"{API}/bookings/{first['id']}", headers=asep).json["status"] == "cancelled"
    [closed] = notes_of(db, ASEP, "booking_calendar_change")
    assert closed.language == "id" and closed.context["alternatives"]

    # The member asks for production; the manager plans the week after the closure and publishes.
    product = db.scalars(
        select(Product).where(Product.member_id == user(db, ASEP).member_id)
    ).first()
    request = client.post(
        f"{API}/production-requests",
        json={
            "product_id": product.id,
            "quantity": 10,
            "earliest_start": local(later, "08:00"),
            "due": local(later + dt.timedelta(days=10), "17:00"),
        },
        headers=asep,
    ).json
    r = client.post(
        f"{API}/houses/{garut.id}/schedule-runs",
        json={
            "horizon_start": local(later, "08:00"),
            "horizon_end": local(later + dt.timedelta(days=7), "08:00"),
            "time_limit_seconds": 2,
        },
        headers=manager,
    )
    assert r.status_code == 202, r.json
    run_id = r.json["id"]
    db.commit()
    worker.run_once(session_factory, worker_id="test-role-flows", work_per_second=WORK_PER_SECOND)
    r = client.get(f"{API}/schedule-runs/{run_id}", headers=manager)
    assert r.json["status"] in ("solved", "succeeded", "done", "feasible", "optimal"), r.json
    r = client.post(f"{API}/schedule-runs/{run_id}/publish", headers=manager)
    assert r.status_code == 200, r.json
    assert r.json["status"] == "published"
    assert (
        client.get(f"{API}/production-requests/{request['id']}", headers=asep).json["status"]
        == "scheduled"
    )
    placed = client.get(
        f"{API}/bookings",
        query_string={"member_id": user(db, ASEP).member_id, "page_size": 100},
        headers=asep,
    ).json["items"]
    placed = [b for b in placed if b["source"] != "direct" and b["status"] in ("held", "confirmed")]
    assert len(placed) == 3 and all(b["start"] >= local(later, "08:00")[:10] for b in placed)
    [message] = inbox(client, asep, "request_placed")
    assert message["language"] == "id" and "WIB" in message["body"]


# --- aggregator ------------------------------------------------------------------------------


def pending_application(db: Session) -> LoanApplication:
    return db.scalars(select(LoanApplication).where(LoanApplication.notes == PENDING_NOTE)).one()


def test_an_aggregator_sees_its_clusters_invites_a_member_and_endorses_the_pending_application(
    client, demo
):
    db = demo
    aggregator = sign_in(client, AGGREGATOR)
    ketut = sign_in(client, "ketut@kakaonusa.id")

    # Its two clusters, each with the members who accepted.
    clusters = client.get(f"{API}/clusters", headers=aggregator).json["items"]
    by_name = {c["name"]: c for c in clusters}
    assert set(by_name) == {"Klaster Kulit Sukaregang", "Klaster Kakao Jembrana"}
    garut = by_name["Klaster Kulit Sukaregang"]
    assert len(garut["member_ids"]) == 6

    # Invites a seventh Garut member: until it accepts, only its name and business show.
    newcomer = db.scalars(
        select(Member).where(Member.business_name == "Batik Garutan Tulis Rereng")
    ).one()
    r = client.patch(
        f"{API}/clusters/{garut['id']}",
        json={"member_ids": garut["member_ids"] + [newcomer.id]},
        headers=aggregator,
    )
    assert r.status_code == 200, r.json
    assert newcomer.id not in r.json["member_ids"]
    [invited] = r.json["invited"]
    assert invited == {
        "invitation_id": invited["invitation_id"],
        "member_id": newcomer.id,
        "owner_name": "Imas Masitoh",
        "business_name": "Batik Garutan Tulis Rereng",
    }
    assert client.get(f"{API}/members/{newcomer.id}", headers=aggregator).status_code == 404
    assert newcomer.nib not in client.get(
        f"{API}/clusters/{garut['id']}", headers=aggregator
    ).get_data(as_text=True)

    # The Jembrana cocoa application waits for it; it endorses it.
    application = pending_application(db)
    r = client.get(f"{API}/loan-applications/{application.id}", headers=aggregator)
    assert r.json["status"] == "submitted", r.json
    r = client.post(
        f"{API}/loan-applications/{application.id}/approve", json={}, headers=aggregator
    )
    assert r.status_code == 200, r.json
    assert r.json["status"] == "approved" and r.json["approved_amount"] > 0
    # The chair (Ketut) reads it in Indonesian; the aggregator itself is not told what it did.
    [decision] = inbox(client, ketut, "loan_decision")
    assert (
        decision["language"] == "id"
        and "disetujui" in (decision["subject"] + decision["body"]).lower()
    )
    assert inbox(client, aggregator, "loan_decision") == []


# --- lender ----------------------------------------------------------------------------------


def test_a_lender_sees_its_banks_applications_decides_with_its_terms_and_releases_a_tranche(
    client, demo
):
    db = demo
    aggregator = sign_in(client, AGGREGATOR)
    bank = sign_in(client, LENDER)
    ketut = sign_in(client, "ketut@kakaonusa.id")
    application = pending_application(db)
    endorsed = client.post(
        f"{API}/loan-applications/{application.id}/approve", json={}, headers=aggregator
    ).json["approved_amount"]
    # An application put to no lender yet is not the bank's to see.
    draft = client.post(
        f"{API}/loan-applications",
        json={
            "cluster_id": application.cluster_id,
            "requested_amount": 10_000_000,
            "tenor_months": 12,
        },
        headers=aggregator,
    )
    assert draft.status_code == 201, draft.json

    listed = client.get(f"{API}/loan-applications?page_size=100", headers=bank).json["items"]
    assert {a["id"] for a in listed} >= {application.id}
    assert draft.json["id"] not in {a["id"] for a in listed}
    assert {a["lender_id"] for a in listed} == {user(db, LENDER).lender_id}
    assert (
        client.get(f"{API}/loan-applications/{draft.json['id']}", headers=bank).status_code == 404
    )

    # Records its decision with its reference, an amount below the endorsed one, rate and term.
    amount = endorsed // 2 // 1000 * 1000
    r = client.post(
        f"{API}/loan-applications/{application.id}/lender-decision",
        json={
            "approved": True,
            "reference": "BRD/KUR-KLASTER/2026/0002",
            "approved_amount": amount,
            "rate_percent": 6,
            "tenor_months": 12,
        },
        headers=bank,
    )
    assert r.status_code == 200, r.json
    assert (
        r.json["status"],
        r.json["lender_reference"],
        r.json["approved_amount"],
        r.json["lender_rate_percent"],
        r.json["lender_tenor_months"],
    ) == ("lender_approved", "BRD/KUR-KLASTER/2026/0002", amount, 6, 12)

    # Releases a first tranche, then the rest, never beyond the approved amount.
    first = amount // 2
    r = client.post(
        f"{API}/loan-applications/{application.id}/disburse", json={"amount": first}, headers=bank
    )
    assert r.status_code == 200, r.json
    r = client.post(
        f"{API}/loan-applications/{application.id}/tranches", json={"amount": amount}, headers=bank
    )
    assert r.status_code == 409, r.json
    assert r.json["message"] and "approved" not in r.json["message"].lower()
    r = client.post(
        f"{API}/loan-applications/{application.id}/tranches",
        json={"amount": amount - first},
        headers=bank,
    )
    assert r.status_code == 201, r.json
    tranches = client.get(
        f"{API}/loan-applications/{application.id}/tranches", headers=aggregator
    ).json["items"]
    assert sum(t["amount"] for t in tranches) == amount

    # The aggregator sees the schedule of the loan; the chair and the aggregator hear of the money.
    schedule = client.get(f"{API}/loan-applications/{application.id}/schedule", headers=aggregator)
    assert schedule.status_code == 200, schedule.json
    assert len(schedule.json) == 12 and sum(row["principal"] for row in schedule.json) == amount
    released = inbox(client, ketut, "tranche_released")
    assert released and all(n["language"] == "id" for n in released)
    assert inbox(client, aggregator, "tranche_released")
    assert inbox(client, bank, "tranche_released") == []


# --- admin -----------------------------------------------------------------------------------


def test_an_admin_reads_the_job_runs_and_the_audit_log_and_creates_a_user(
    clock, client, demo, tmp_path
):
    from factoryshare.jobs.runner import run_job

    db = demo
    admin = sign_in(client, ADMIN)
    now = clock.now().replace(microsecond=0)
    assert run_job(db, "expire_holds", lock_dir=tmp_path, now=now) is not None
    assert run_job(db, "send_outbox", lock_dir=tmp_path, now=now) is not None

    runs = client.get(f"{API}/job-runs", headers=admin)
    assert runs.status_code == 200, runs.json
    assert {"expire_holds", "send_outbox"} <= {r["job"] for r in runs.json["items"]}
    assert all(r["status"] == "succeeded" for r in runs.json["items"]), runs.json

    audit = client.get(f"{API}/audit", query_string={"page_size": 100}, headers=admin)
    assert audit.status_code == 200, audit.json
    assert audit.json["total"] > 0 and audit.json["items"]

    jembrana = house(db, JEMBRANA)
    r = client.post(
        f"{API}/users",
        json={
            "email": "manajer2.jembrana@factoryshare.id",
            "password": "kata-sandi-panjang-2026",
            "role": "manager",
            "name": "Made Manajer",
            "house_ids": [jembrana.id],
            "language": "en",
        },
        headers=admin,
    )
    assert r.status_code == 201, r.json
    assert (r.json["role"], r.json["house_ids"], r.json["language"]) == (
        "manager",
        [jembrana.id],
        "en",
    )
    # The new manager signs in and is answered in English; the admin's own answers stay Indonesian.
    t = client.post(
        f"{API}/auth/token",
        json={"email": "manajer2.jembrana@factoryshare.id", "password": "kata-sandi-panjang-2026"},
    )
    assert t.status_code == 201, t.json
    new = {"Authorization": f"Bearer {t.json['token']}"}
    assert "was not found" in client.get(f"{API}/bookings/999999", headers=new).json["message"]
    assert "tidak ditemukan" in client.get(f"{API}/bookings/999999", headers=admin).json["message"]
    r = client.post(
        f"{API}/users",
        json={
            "email": "manajer2.jembrana@factoryshare.id",
            "password": "x" * 20,
            "role": "manager",
        },
        headers=admin,
    )
    assert r.status_code in (409, 422), r.json
    created = [
        e
        for e in client.get(f"{API}/audit", query_string={"page_size": 100}, headers=admin).json[
            "items"
        ]
        if e.get("action") == "user.created"
    ]
    assert created
