"""Dated money and early repayment through the HTTP API: each refusal is a 422 naming its field."""

from __future__ import annotations

import datetime as dt

import pytest

from factoryshare.models import Role


@pytest.fixture()
def walk(
    client,
    token_for,
    make_user,
    make_aggregator,
    make_member,
    make_cluster,
    make_product,
    make_clock,
):
    """Rp10 juta approved on 6 Jan 2027 for 6 months, Rp4 juta paid out the same day."""
    make_clock.set(dt.date(2027, 1, 6))
    aggregator = make_aggregator(approval_limit=100_000_000)
    chair = make_member()
    cluster = make_cluster(aggregator=aggregator, members=[chair], chair_member_id=chair.id)
    lender = make_user(Role.lender)
    as_ = {
        "chair": token_for(make_user(Role.member, member=chair)),
        "agg": token_for(make_user(Role.aggregator, aggregator=aggregator)),
        "lender": token_for(lender),
    }
    r = client.post(
        "/api/v1/offtake-agreements",
        headers=as_["agg"],
        json={
            "cluster_id": cluster.id,
            "product_id": make_product(member=chair).id,
            "quantity": 10,
            "unit_price": 100_000,
            "deliveries": [{"due_on": "2027-06-01", "quantity": 10}],
        },
    )
    assert r.status_code == 201, r.json
    loan_id = client.post(
        "/api/v1/loan-applications",
        headers=as_["chair"],
        json={
            "cluster_id": cluster.id,
            "requested_amount": 10_000_000,
            "tenor_months": 6,
            "lender_id": lender.lender_id,
        },
    ).json["id"]
    base = f"/api/v1/loan-applications/{loan_id}"
    client.post(f"{base}/submit", headers=as_["chair"], json={})
    client.post(f"{base}/approve", headers=as_["agg"], json={})
    r = client.post(
        f"{base}/lender-decision",
        headers=as_["lender"],
        json={"approved": True, "reference": "KUR/2027/1"},
    )
    assert r.status_code == 200, r.json
    r = client.post(
        f"{base}/disburse", headers=as_["lender"], json={"amount": 4_000_000, "on": "2027-01-06"}
    )
    assert r.status_code == 200, r.json
    return {"as": as_, "base": base, "loan": f"/api/v1/loans/{loan_id}"}


def test_a_tranche_before_the_approval_or_in_the_future_is_a_422_naming_on(client, walk):
    for day in ("2027-01-05", "2027-01-07"):
        r = client.post(
            f"{walk['base']}/tranches",
            headers=walk["as"]["lender"],
            json={"amount": 1_000_000, "on": day},
        )
        assert r.status_code == 422 and set(r.json["errors"]) == {"on"}, r.json


def test_a_repayment_before_the_disbursement_or_in_the_future_is_a_422_naming_on(client, walk):
    for day in ("2027-01-05", "2027-01-07"):
        r = client.post(
            f"{walk['base']}/installments/1/repayments",
            headers=walk["as"]["agg"],
            json={"amount": 1_000, "on": day},
        )
        assert r.status_code == 422 and set(r.json["errors"]) == {"on"}, r.json


def test_a_purchase_before_its_agreement_or_in_the_future_is_a_422_naming_delivered_on(
    client, walk
):
    agreements = client.get("/api/v1/offtake-agreements", headers=walk["as"]["agg"]).json["items"]
    url = f"/api/v1/offtake-agreements/{agreements[0]['id']}/purchases"
    for day in ("2027-01-05", "2027-01-07"):
        r = client.post(url, headers=walk["as"]["agg"], json={"delivered_on": day, "quantity": 1})
        assert r.status_code == 422 and set(r.json["errors"]) == {"delivered_on"}, r.json


def test_the_loan_answer_shows_interest_on_the_money_paid_out_and_its_collectability(client, walk):
    loan = client.get(walk["loan"], headers=walk["as"]["lender"]).json
    assert loan["disbursed"] == 4_000_000 and loan["outstanding"] == 4_000_000
    assert loan["installments"][0]["interest"] == 20_000  # 0,5 % of Rp4 juta, not of Rp10 juta
    assert loan["collectability"] == 1 and loan["as_of"] == "2027-01-06"
    late = client.get(f"{walk['loan']}?on=2027-03-10", headers=walk["as"]["agg"]).json
    assert [i["days_past_due"] for i in late["installments"][:3]] == [32, 4, 0]
    assert (late["days_past_due"], late["collectability"]) == (32, 2)


def test_an_early_repayment_through_the_api_names_what_is_wrong(client, walk):
    url = f"{walk['loan']}/prepayments"
    r = client.post(
        url, headers=walk["as"]["agg"], json={"amount": 5_000_000, "mode": "shorten_term"}
    )
    assert r.status_code == 422 and set(r.json["errors"]) == {"amount"}, r.json
    r = client.post(url, headers=walk["as"]["agg"], json={"amount": 1_000, "mode": "sideways"})
    assert r.status_code == 422 and "mode" in r.json["errors"]
    r = client.post(url, headers=walk["as"]["chair"], json={"amount": 1_000})
    assert r.status_code == 403
    r = client.post(
        url, headers=walk["as"]["agg"], json={"amount": 1_000_000, "mode": "lower_installment"}
    )
    assert r.status_code == 201, r.json
    assert r.json["outstanding"] == 3_000_000 and len(r.json["installments"]) == 6


def test_repaying_in_full_closes_the_loan(client, walk):
    payoff = client.get(f"{walk['loan']}/payoff", headers=walk["as"]["agg"]).json
    assert payoff == {
        "on": "2027-01-06",
        "principal": 4_000_000,
        "interest": 0,
        "amount": 4_000_000,
        "installments_due": 0,
    }
    r = client.post(
        f"{walk['loan']}/prepayments",
        headers=walk["as"]["agg"],
        json={"amount": payoff["amount"], "mode": "full"},
    )
    assert r.status_code == 201, r.json
    assert r.json["status"] == "closed" and r.json["outstanding"] == 0
    assert r.json["installments"] == []
