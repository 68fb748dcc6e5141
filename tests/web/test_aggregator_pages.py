"""The aggregator's pages through Flask's test client: deciding a cluster's loan application
with its plan, cost, permits and capacity check in view, and the clusters' exposure."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from sqlalchemy import select

from factoryshare.access import Actor
from factoryshare.models import AuditEvent, Role
from factoryshare.models.financing import LoanStatus
from factoryshare.services import loans, offtake
from tests.web.helpers import csrf, next_working_day, sign_in

ADMIN = Actor(user_id=None, role=Role.admin)


def _at(day: dt.date, hour: int) -> dt.datetime:
    from zoneinfo import ZoneInfo

    local = dt.datetime.combine(day, dt.time(hour), tzinfo=ZoneInfo("Asia/Jakarta"))
    return local.astimezone(dt.UTC)


@pytest.fixture()
def setting(
    db,
    make_house,
    make_machine,
    make_member,
    make_aggregator,
    make_cluster,
    make_user,
    make_booking,
    make_product,
    make_production_request,
):
    """A cluster of two members with a submitted application built from a booking of one and a
    production request of the other, and the cluster's aggregator signed in as an English user."""
    house = make_house(name="RPB Garut")
    machine = make_machine(
        house=house, name="Mesin Jahit Juki", hourly_rate=100_000, capabilities=["sewing"]
    )
    chair = make_member(house=house, business_name="Sukaregang Leather Craft")
    other = make_member(house=house, business_name="Garut Kulit Jaya")
    aggregator = make_aggregator(name="Koperasi Mitra Nusantara")
    cluster = make_cluster(
        aggregator=aggregator,
        members=[chair, other],
        chair_member_id=chair.id,
        house_id=house.id,
        name="Klaster Kulit Garut",
    )
    day = next_working_day(3)
    booking = make_booking(
        machine=machine,
        member=other,
        start_at=_at(day, 9),
        end_at=_at(day, 12),
        price=300_000,
        hourly_rate=100_000,
    )
    product = make_product(member=chair, name="Dompet Kulit", routing=[("sewing", 0, 6)])
    request_ = make_production_request(
        product=product,
        quantity=10,
        earliest_start=_at(day, 8),
        due=_at(day + dt.timedelta(days=4), 17),
    )
    app = loans.create(
        db, ADMIN, cluster_id=cluster.id, requested_amount=1_000_000, tenor_months=12
    )
    loans.set_plan(
        db,
        ADMIN,
        app.id,
        booking_ids=[booking.id],
        production_request_ids=[request_.id],
        material_costs={chair.id: 4_000_000},
    )
    loans.submit(db, ADMIN, app.id)
    user = make_user(Role.aggregator, aggregator=aggregator, language="en")
    return {
        "app": app,
        "cluster": cluster,
        "user": user,
        "chair": chair,
        "other": other,
        "product": product,
        "day": day,
        "house": house,
    }


def _decide(client, app_id: int, **form):  # type: ignore[no-untyped-def]
    token = csrf(client, f"/aggregator/applications/{app_id}")
    return client.post(
        f"/aggregator/applications/{app_id}/decision", data={"csrf_token": token, **form}
    )


def test_an_aggregator_sees_its_clusters_submitted_application_in_rupiah_and_approves_it(
    client, db, setting
):
    app, user = setting["app"], setting["user"]
    sign_in(client, user)

    listing = client.get("/aggregator/applications").get_data(as_text=True)
    assert "Klaster Kulit Garut" in listing and f"#{app.id}" in listing
    assert "waiting for your decision" in listing
    assert f"Rp{app.requested_amount:,}".replace(",", ".") in listing

    page = client.get(f"/aggregator/applications/{app.id}").get_data(as_text=True)
    # The plan per member on an inline timeline, and the cost per member.
    assert "<svg" in page and 'class="bar booked"' in page and 'class="bar window"' in page
    assert "Garut Kulit Jaya" in page and "Sukaregang Leather Craft" in page
    assert "Rp300.000" in page and "Rp4.000.000" in page
    assert f"Rp{app.requested_amount:,}".replace(",", ".") in page
    assert '<label for="reject-reason">' in page and '<label for="approved_amount">' in page

    r = _decide(client, app.id, decision="approve")
    assert r.status_code == 302
    assert f"Application #{app.id} is approved." in client.get(r.headers["Location"]).get_data(
        as_text=True
    )
    db.refresh(app)
    assert app.status is LoanStatus.approved and app.approved_by_id == user.id
    event = db.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "loan_application.approved", AuditEvent.object_id == str(app.id)
        )
    ).one()
    assert event.actor_id == user.id


def test_rejecting_needs_a_note_and_says_so_in_words(client, db, setting):
    app, user = setting["app"], setting["user"]
    sign_in(client, user)

    r = _decide(client, app.id, decision="reject", reason="   ")
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "Write a note saying why the application is rejected." in page
    db.refresh(app)
    assert app.status is LoanStatus.submitted

    r = _decide(client, app.id, decision="reject", reason="The offtake price is too low.")
    assert f"Application #{app.id} is rejected." in client.get(r.headers["Location"]).get_data(
        as_text=True
    )
    db.refresh(app)
    assert app.status is LoanStatus.rejected
    # The note is the decision's; the applicant's notes stay as written.
    assert loans.decisions_of(db, app)[-1].note == "The offtake price is too low."
    assert app.notes != "The offtake price is too low."


def test_the_reject_note_error_is_in_indonesian_for_an_indonesian_user(
    client, db, setting, make_user
):
    app = setting["app"]
    sign_in(client, make_user(Role.aggregator, aggregator=setting["cluster"].aggregator))
    r = _decide(client, app.id, decision="reject", reason="")
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "Tulis catatan mengapa pengajuan ini ditolak." in page
    # Hours are written the Indonesian way too: three booked hours are "3,0".
    assert re.search(r'<td class="num"[^>]*>3,0</td>', page) and "menunggu keputusan Anda" in page


def test_asking_for_changes_sends_the_application_back_with_the_note(client, db, setting):
    app = setting["app"]
    sign_in(client, setting["user"])
    r = _decide(client, app.id, decision="changes", reason="Add the second delivery.")
    assert "sent back for changes" in client.get(r.headers["Location"]).get_data(as_text=True)
    db.refresh(app)
    assert app.status is LoanStatus.changes_requested
    assert loans.decisions_of(db, app)[-1].note == "Add the second delivery."
    # Decided: the buttons are gone and a second decision is refused in words.
    page = client.get(f"/aggregator/applications/{app.id}").get_data(as_text=True)
    assert 'value="approve"' not in page and 'name="reason"' not in page
    r = _decide(client, app.id, decision="approve")
    assert "no longer waiting for a decision" in client.get(r.headers["Location"]).get_data(
        as_text=True
    )


def test_an_approved_amount_above_the_request_is_refused_in_words(client, db, setting):
    app = setting["app"]
    sign_in(client, setting["user"])
    r = _decide(client, app.id, decision="approve", approved_amount=f"{app.requested_amount + 1}")
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "at most the amount requested" in page
    db.refresh(app)
    assert app.status is LoanStatus.submitted


def test_an_aggregator_of_another_cluster_gets_404_and_a_member_403(client, db, setting, make_user):
    app = setting["app"]
    sign_in(client, make_user(Role.aggregator, language="en"))
    assert client.get(f"/aggregator/applications/{app.id}").status_code == 404
    assert f"#{app.id}" not in client.get("/aggregator/applications").get_data(as_text=True)
    token = csrf(client, "/aggregator/applications")
    r = client.post(
        f"/aggregator/applications/{app.id}/decision",
        data={"csrf_token": token, "decision": "approve"},
    )
    assert r.status_code == 404
    db.refresh(app)
    assert app.status is LoanStatus.submitted

    client.post("/logout", data={"csrf_token": token})
    sign_in(client, make_user(Role.member, member=setting["chair"]))
    assert client.get(f"/aggregator/applications/{app.id}").status_code == 403
    assert client.get("/aggregator/clusters").status_code == 403


def test_a_decision_posted_without_its_csrf_token_is_refused(client, db, setting):
    app = setting["app"]
    sign_in(client, setting["user"])
    r = client.post(f"/aggregator/applications/{app.id}/decision", data={"decision": "approve"})
    assert r.status_code == 400
    db.refresh(app)
    assert app.status is LoanStatus.submitted


def _capacity_section(page: str) -> str:
    start = page.index('aria-labelledby="capacity-heading"')
    return page[start : page.index("</section>", start)]


def test_the_capacity_check_without_offtake_dates_is_explained_next_to_its_button(client, setting):
    app = setting["app"]
    sign_in(client, setting["user"])
    token = csrf(client, f"/aggregator/applications/{app.id}")
    r = client.post(f"/aggregator/applications/{app.id}/capacity-check", data={"csrf_token": token})
    assert r.status_code == 200
    section = _capacity_section(r.get_data(as_text=True))
    assert "Run the capacity check" in section and "no offtake delivery dates" in section


def test_the_capacity_check_shows_which_delivery_dates_the_house_can_meet(
    client, setting, make_offtake_agreement
):
    app, day = setting["app"], setting["day"]
    make_offtake_agreement(
        cluster=setting["cluster"],
        product=setting["product"],
        quantity=10,
        deliveries=[(day + dt.timedelta(days=7), 10)],
    )
    sign_in(client, setting["user"])
    token = csrf(client, f"/aggregator/applications/{app.id}")
    r = client.post(f"/aggregator/applications/{app.id}/capacity-check", data={"csrf_token": token})
    assert r.status_code == 200
    page = r.get_data(as_text=True)
    assert "Every delivery date can be met." in page
    assert re.search(r'<td class="num"[^>]*>10</td><td class="num"[^>]*>10</td>', page)


def test_a_missing_permit_of_a_planned_product_is_flagged(client, db, setting, make_food_product):
    # A processed-food product needs its P-IRT or BPOM and halal permits; none is recorded.
    food = make_food_product(member=setting["chair"])
    request_ = loans.plan_links(db, ADMIN, setting["app"].id)
    assert request_  # the plan exists; the flag is about the product of a planned request
    from factoryshare.models.scheduling import ProductionRequest

    for link in request_:
        if link.production_request_id is not None:
            db.get(ProductionRequest, link.production_request_id).product_id = food.id
    db.flush()
    sign_in(client, setting["user"])
    page = client.get(f"/aggregator/applications/{setting['app'].id}").get_data(as_text=True)
    assert "Sukaregang Leather Craft, " + food.name in page
    assert "no valid" in page


def test_the_cluster_page_shows_exposure_and_an_overdue_installment(
    client, db, setting, make_cluster, make_loan, make_clock
):
    cluster = make_cluster(
        aggregator=setting["cluster"].aggregator,
        members=[setting["other"]],
        name="Klaster Tas Garut",
    )
    loan = make_loan(
        cluster,
        amount=12_000_000,
        tenor_months=12,
        on=dt.date(2026, 1, 15),
        first_tranche=12_000_000,
    )
    loans.mark_installments_due(db, dt.date(2026, 4, 1))  # 15 Feb and 15 Mar are past due
    make_clock.set(dt.date(2026, 4, 1))
    first, second = loans.installments(db, ADMIN, loan.id)[:2]
    loans.record_repayment(db, ADMIN, loan.id, 1, first.amount)
    db.flush()

    sign_in(client, setting["user"])
    page = client.get("/aggregator/clusters").get_data(as_text=True)
    section = page[page.index("Klaster Tas Garut") :]
    exposure = 12_000_000 - first.principal
    assert f"Rp{exposure:,}".replace(",", ".") in section
    owed = f"Rp{second.amount:,}".replace(",", ".")
    assert f"1 · {owed}" in section
    assert "Overdue installments" in section and re.search(r"<td[^>]*>2</td>", section)
    assert "17</td>" in section  # 15 Mar to 1 Apr
    assert "2 · special mention (dalam perhatian khusus)" in section


# --- decision history, confirmations -------------------------------------------------------


def test_the_application_shows_who_decided_what_when_and_why(client, db, setting):
    app, user = setting["app"], setting["user"]
    sign_in(client, user)
    _decide(client, app.id, decision="changes", reason="Add the second delivery.")
    page = client.get(f"/aggregator/applications/{app.id}").get_data(as_text=True)
    start = page.index('aria-labelledby="history-heading"')
    history = page[start : page.index("</section>", start)]
    # The submission (by the service in this set-up), then the aggregator's officer by name.
    assert "submitted to the aggregator" in history and "the service itself" in history
    assert f"{user.name} (aggregator)" in history and "sent back for changes" in history
    assert "Add the second delivery." in history and _rp(app.requested_amount) in history
    assert history.index("submitted to the aggregator") < history.index("sent back for changes")
    assert "WIB" in history  # when, in the house's time


def test_approving_and_rejecting_ask_once_naming_what_changes_and_rejecting_takes_a_reason(
    client, setting
):
    app = setting["app"]
    sign_in(client, setting["user"])
    page = client.get(f"/aggregator/applications/{app.id}").get_data(as_text=True)
    forms = re.findall(r"<form [^>]*>", page)
    approve = next(f for f in forms if "Approve application" in f)
    assert f"#{app.id}" in approve and _rp(app.requested_amount) in approve
    assert "cannot be taken back" in approve
    reject = next(f for f in forms if "Reject application" in f)
    assert 'data-confirm-reason="required"' in reject and "closed for good" in reject
    assert re.search(r'<textarea id="reject-reason" name="reason"', page)
    # The confirmation is the shared script's (CSP): no inline script or handler on the page.
    assert not re.search(r"<script(?![^>]*\bsrc=)", page) and " onclick=" not in page
    assert "KUR KUR" not in page


def test_a_capacity_check_that_finishes_nothing_says_why_for_each_date(
    client, db, setting, make_offtake_agreement, make_product
):
    app, day, chair = setting["app"], setting["day"], setting["chair"]
    bags = make_product(member=chair, name="Tas Kulit", routing=[("sewing", 0, 6)])
    # Nothing of the plan makes bags; its wallets may start only after the wallets' first date.
    make_offtake_agreement(
        cluster=setting["cluster"],
        product=bags,
        quantity=5,
        deliveries=[(day + dt.timedelta(days=7), 5)],
    )
    make_offtake_agreement(
        cluster=setting["cluster"],
        product=setting["product"],
        quantity=10,
        deliveries=[(day - dt.timedelta(days=1), 4), (day + dt.timedelta(days=7), 6)],
    )
    sign_in(client, setting["user"])
    token = csrf(client, f"/aggregator/applications/{app.id}")
    r = client.post(f"/aggregator/applications/{app.id}/capacity-check", data={"csrf_token": token})
    section = _capacity_section(r.get_data(as_text=True))
    assert "Not every delivery date can be met." in section
    assert "The plan has no production request for Tas Kulit." in section
    assert re.search(
        r"Request #\d+ \(Dompet Kulit\) may start only on .*, after this delivery "
        r"date\.",
        section,
    )
    assert section.count('class="badge confirmed"') == 1  # the wallets' second date is met


# --- loans -----------------------------------------------------------------------------------


def test_a_loan_shows_its_schedule_what_is_overdue_and_its_collectability(
    client, db, setting, make_cluster, make_loan, make_clock
):
    cluster = make_cluster(
        aggregator=setting["cluster"].aggregator,
        members=[setting["other"]],
        name="Klaster Tas Garut",
    )
    loan = make_loan(
        cluster,
        amount=12_000_000,
        tenor_months=12,
        on=dt.date(2027, 1, 15),
        first_tranche=12_000_000,
    )
    make_clock.set(dt.date(2027, 8, 1))  # 15 Feb is 167 days past due: Kol-4
    sign_in(client, setting["user"])
    clusters_page = client.get("/aggregator/clusters").get_data(as_text=True)
    assert f'href="/aggregator/loans/{loan.id}"' in clusters_page
    page = client.get(f"/aggregator/loans/{loan.id}").get_data(as_text=True)
    rows = re.findall(
        r"<tr( class=\"overdue\")?>\s*<td class=\"num\" data-label=\"Installment\">(\d+)</td>", page
    )
    assert len(rows) == 12 and [n for cls, n in rows if cls] == ["1", "2", "3", "4", "5", "6"]
    assert '<td class="num" data-label="Days past due">167</td>' in page
    assert "4 · doubtful (diragukan): 121-180 days past due" in page
    assert "Non-performing (NPL)" in page and "Rp12.000.000" in page and "KUR KUR" not in page


def test_the_loan_page_speaks_indonesian_to_an_indonesian_aggregator(
    client, db, setting, make_cluster, make_loan, make_clock, make_user
):
    cluster = make_cluster(aggregator=setting["cluster"].aggregator, members=[setting["other"]])
    loan = make_loan(
        cluster,
        amount=12_000_000,
        tenor_months=12,
        on=dt.date(2027, 1, 15),
        first_tranche=12_000_000,
    )
    make_clock.set(dt.date(2027, 4, 1))  # 15 Feb is 45 days past due: Kol-2
    sign_in(client, make_user(Role.aggregator, aggregator=setting["cluster"].aggregator))
    page = client.get(f"/aggregator/loans/{loan.id}").get_data(as_text=True)
    assert "2 · dalam perhatian khusus: tunggakan 1-90 hari" in page
    assert "Jadwal angsuran" in page and "Hari tunggakan" in page and "Kol-2" in page
    assert "special mention" not in page and "Repayment schedule" not in page


# --- offtake agreements and purchases --------------------------------------------------------


def _agreement_form(cluster_id: int, product_id: int, **extra: str) -> dict:
    form = {
        "cluster_id": str(cluster_id),
        "product_id": str(product_id),
        "quantity": "10",
        "unit_price": "1.000.000",
        "notes": "Pesanan koperasi",
        "due_on": ["2027-07-15", "2027-08-15", ""],
        "delivery_quantity": ["4", "6", ""],
    }
    form.update(extra)
    return form


def test_an_aggregator_records_an_agreement_and_a_purchase_that_repays_the_loan(
    client, db, setting, make_cluster, make_product, make_loan, make_clock
):
    other = setting["other"]
    cluster = make_cluster(
        aggregator=setting["cluster"].aggregator, members=[other], name="Klaster Tas Garut"
    )
    bag = make_product(member=other, name="Tas Kulit Garut", routing=[("sewing", 0, 6)])
    loan = make_loan(
        cluster,
        amount=12_000_000,
        tenor_months=12,
        on=dt.date(2027, 1, 15),
        first_tranche=12_000_000,
    )
    sign_in(client, setting["user"])
    page = client.get("/aggregator/offtake").get_data(as_text=True)
    assert "Tas Kulit Garut" in page and '<label for="unit_price">' in page

    # Deliveries that do not add up are refused in words, the form kept as typed.
    token = csrf(client, "/aggregator/offtake")
    r = client.post(
        "/aggregator/offtake",
        data={"csrf_token": token, **_agreement_form(cluster.id, bag.id, quantity="12")},
    )
    assert r.status_code == 422
    refused = r.get_data(as_text=True)
    assert "The deliveries add up to 10 but the agreement is for 12." in refused
    assert 'value="12"' in refused and 'value="2027-08-15"' in refused

    r = client.post(
        "/aggregator/offtake", data={"csrf_token": token, **_agreement_form(cluster.id, bag.id)}
    )
    assert r.status_code == 302
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "Offtake agreement #" in page and "Rp10.000.000" in page and "Garut Kulit Jaya" in page
    agreement = db.scalars(offtake.list_agreements(db, ADMIN, cluster_id=cluster.id)).first()
    assert [(d.due_on, d.quantity) for d in agreement.deliveries] == [
        (dt.date(2027, 7, 15), 4),
        (dt.date(2027, 8, 15), 6),
    ]
    assert f"loan #{loan.id}" in page  # the purchase form says which loan it repays
    assert re.search(r"<form [^>]*data-confirm=\"[^\"]*installments of loan #\d+", page)

    token = csrf(client, f"/aggregator/offtake/{agreement.id}")
    r = client.post(
        f"/aggregator/offtake/{agreement.id}/purchases",
        data={"csrf_token": token, "delivered_on": "2027-06-30", "quantity": "4", "amount": ""},
    )
    assert r.status_code == 302
    page = html.unescape(client.get(r.headers["Location"]).get_data(as_text=True))
    purchase = db.scalars(offtake.list_purchases(db, ADMIN, agreement.id)).first()
    due = [i for i in loans.installments(db, ADMIN, loan.id) if i.due_date <= dt.date(2027, 6, 30)]
    assert purchase.amount == 4_000_000 and purchase.repaid == min(
        4_000_000, sum(i.amount for i in due)
    )
    assert f"{_rp(purchase.repaid)} of it repays the loan's installments" in page
    assert _rp(purchase.amount - purchase.repaid) in page and "Still to deliver" in page


def _rp(amount: int) -> str:
    return f"Rp{amount:,}".replace(",", ".")


def test_a_purchase_beyond_what_remains_is_refused_naming_the_field(
    client, db, setting, make_offtake_agreement, make_clock
):
    agreement = make_offtake_agreement(
        cluster=setting["cluster"],
        product=setting["product"],
        quantity=10,
        made_on=dt.date(2027, 6, 1),
    )
    sign_in(client, setting["user"])
    token = csrf(client, f"/aggregator/offtake/{agreement.id}")
    r = client.post(
        f"/aggregator/offtake/{agreement.id}/purchases",
        data={"csrf_token": token, "delivered_on": "2027-06-30", "quantity": "11"},
    )
    assert r.status_code == 422
    page = r.get_data(as_text=True)
    assert 'id="quantity-error">Only 10 of the agreed 10 remain to deliver.' in page
    assert 'aria-invalid="true"' in page
    assert db.scalars(offtake.list_purchases(db, ADMIN, agreement.id)).all() == []


def test_another_aggregators_agreement_is_404_and_a_member_gets_403(
    client, db, setting, make_offtake_agreement, make_user
):
    agreement = make_offtake_agreement(cluster=setting["cluster"], product=setting["product"])
    sign_in(client, make_user(Role.aggregator, language="en"))
    assert client.get(f"/aggregator/offtake/{agreement.id}").status_code == 404
    assert f"#{agreement.id}<" not in client.get("/aggregator/offtake").get_data(as_text=True)
    token = csrf(client, "/aggregator/offtake")
    r = client.post(
        f"/aggregator/offtake/{agreement.id}/purchases",
        data={"csrf_token": token, "delivered_on": "2026-01-02", "quantity": "1"},
    )
    assert r.status_code == 404
    client.post("/logout", data={"csrf_token": token})
    sign_in(client, make_user(Role.member, member=setting["chair"]))
    assert client.get("/aggregator/offtake").status_code == 403
    assert db.scalars(offtake.list_purchases(db, ADMIN, agreement.id)).all() == []
