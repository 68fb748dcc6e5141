"""A cluster walked from offtake agreement to a closed loan, every rupiah accounted for."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from factoryshare.jobs.runner import run_job
from factoryshare.models import Role
from factoryshare.models.financing import Repayment, RepaymentSource

START = dt.datetime(2026, 3, 6, 1, 0, tzinfo=dt.UTC)
NOW = dt.datetime(2026, 3, 8, 10, 0, tzinfo=dt.UTC)


def test_offtake_to_closure_through_tranches_released_by_completed_bookings_and_purchases(
    client,
    db,
    tmp_path,
    token_for,
    make_user,
    make_house,
    make_machine,
    make_member,
    make_cluster,
    make_aggregator,
    make_product,
    make_booking,
    make_clock,
):
    make_clock.set(dt.date(2026, 3, 1))  # money is dated: never in the future
    house = make_house()
    machine = make_machine(house=house, hourly_rate=100_000)
    aggregator = make_aggregator()
    chair, other = make_member(house=house), make_member(house=house)
    cluster = make_cluster(
        aggregator=aggregator, members=[chair, other], chair_member_id=chair.id, house_id=house.id
    )
    product = make_product(member=chair)
    one = make_booking(
        machine=machine,
        member=chair,
        product_id=product.id,
        start_at=START,
        end_at=START + dt.timedelta(hours=3),
        price=300_000,
        hourly_rate=100_000,
    )
    two = make_booking(
        machine=machine,
        member=other,
        start_at=START + dt.timedelta(hours=4),
        end_at=START + dt.timedelta(hours=5),
        price=100_000,
        hourly_rate=100_000,
    )
    chair_user = make_user(Role.member, member=chair)
    endorser = make_user(Role.aggregator, aggregator=aggregator)
    lender, manager = make_user(Role.lender), make_user(Role.manager, houses=[house])
    as_ = {
        "chair": token_for(chair_user),
        "agg": token_for(endorser),
        "lender": token_for(lender),
        "manager": token_for(manager),
    }

    r = client.post(
        "/api/v1/offtake-agreements",
        headers=as_["agg"],
        json={
            "cluster_id": cluster.id,
            "product_id": product.id,
            "quantity": 500,
            "unit_price": 100_000,
            "deliveries": [
                {"due_on": "2026-04-01", "quantity": 250},
                {"due_on": "2026-09-01", "quantity": 250},
            ],
        },
    )
    assert r.status_code == 201, r.json
    agreement = r.json["id"]

    app_id = client.post(
        "/api/v1/loan-applications",
        headers=as_["chair"],
        json={
            "cluster_id": cluster.id,
            "requested_amount": 1,
            "tenor_months": 6,
            "lender_id": lender.lender_id,
        },
    ).json["id"]
    base = f"/api/v1/loan-applications/{app_id}"
    r = client.put(
        f"{base}/plan",
        headers=as_["chair"],
        json={
            "booking_ids": [one.id, two.id],
            "material_costs": [
                {"member_id": chair.id, "amount": 5_700_000},
                {"member_id": other.id, "amount": 1_900_000},
            ],
        },
    )
    assert r.json["cost_estimate"] == 8_000_000
    client.post(f"{base}/submit", headers=as_["chair"], json={})
    assert client.post(f"{base}/approve", headers=as_["agg"], json={}).json["status"] == "approved"
    client.post(
        f"{base}/lender-decision",
        headers=as_["lender"],
        json={"approved": True, "reference": "KUR/2026/11"},
    )
    r = client.post(
        f"{base}/disburse", headers=as_["lender"], json={"amount": 2_000_000, "on": "2026-03-01"}
    )
    assert r.json["status"] == "disbursing"

    # The first booking (3 of the 4 booked hours) is made: 3/4 of the loan is due, less what was paid.
    # A booking is completed once it has started (NOW is two days after START).
    make_clock.set(NOW)
    r = client.post(f"/api/v1/bookings/{one.id}/complete", headers=as_["manager"], json={})
    assert r.status_code == 200, r.json
    assert (
        run_job(db, "link_financing", lock_dir=tmp_path, now=NOW).counts["tranches_released"] == 1
    )
    assert (
        run_job(db, "link_financing", lock_dir=tmp_path, now=NOW).counts["tranches_released"] == 0
    )
    tranches = client.get(f"{base}/tranches", headers=as_["chair"]).json["items"]
    assert [t["amount"] for t in tranches] == [2_000_000, 4_000_000]
    client.post(f"/api/v1/bookings/{two.id}/complete", headers=as_["manager"], json={})
    run_job(db, "link_financing", lock_dir=tmp_path, now=NOW)
    loan = client.get(f"/api/v1/loans/{app_id}", headers=as_["agg"]).json
    assert loan["status"] == "repaying" and loan["disbursed"] == 8_000_000

    installments = client.get(f"{base}/installments?page_size=100", headers=as_["chair"]).json[
        "items"
    ]
    owed = sum(i["amount"] for i in installments)
    assert sum(i["principal"] for i in installments) == 8_000_000
    paid_out = 0
    make_clock.set(dt.date(2026, 12, 31))
    for n, inst in enumerate(installments):
        quantity = 20 if n < len(installments) - 1 else 30
        r = client.post(
            f"/api/v1/offtake-agreements/{agreement}/purchases",
            headers=as_["agg"],
            json={"delivered_on": inst["due_date"], "quantity": quantity},
        )
        assert r.status_code == 201, r.json
        assert r.json["repaid"] == inst["amount"]
        assert r.json["repaid"] + r.json["paid_to_member"] == quantity * 100_000
        paid_out += r.json["paid_to_member"]

    loan = client.get(f"/api/v1/loans/{app_id}", headers=as_["agg"]).json
    assert loan["status"] == "closed" and loan["outstanding"] == 0 and loan["repaid"] == owed
    from_purchases = db.scalar(
        select(func.sum(Repayment.amount)).where(
            Repayment.source == RepaymentSource.offtake_purchase
        )
    )
    assert from_purchases == owed
    assert paid_out == (20 * (len(installments) - 1) + 30) * 100_000 - owed
