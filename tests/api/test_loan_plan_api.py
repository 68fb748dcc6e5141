"""The plan, tranches and loans over the API, with who sees what."""

from __future__ import annotations

import datetime as dt

from factoryshare.models import Role

START = dt.datetime(2026, 3, 4, 1, 0, tzinfo=dt.UTC)


def test_a_plan_built_by_the_chair_is_disbursed_in_tranches_and_shown_as_a_loan(
    client,
    token_for,
    make_user,
    make_house,
    make_machine,
    make_member,
    make_cluster,
    make_aggregator,
    make_booking,
    make_clock,
):
    make_clock.set(dt.date(2026, 2, 1))  # approved and first paid out that day
    cluster_house, other_house = make_house(), make_house()
    aggregator = make_aggregator()
    chair = make_member(house=cluster_house)
    other = make_member(house=cluster_house)
    cluster = make_cluster(
        aggregator=aggregator,
        members=[chair, other],
        chair_member_id=chair.id,
        house_id=cluster_house.id,
    )
    machine = make_machine(house=cluster_house, hourly_rate=100_000)
    booking = make_booking(
        machine=machine,
        member=other,
        start_at=START,
        end_at=START + dt.timedelta(hours=3),
        price=300_000,
        hourly_rate=100_000,
    )
    chair_user, other_user = (
        make_user(Role.member, member=chair),
        make_user(Role.member, member=other),
    )
    endorser, lender = make_user(Role.aggregator, aggregator=aggregator), make_user(Role.lender)
    manager = make_user(Role.manager, houses=[cluster_house])
    make_user(Role.manager, houses=[other_house])

    app_id = client.post(
        "/api/v1/loan-applications",
        headers=token_for(chair_user),
        json={
            "cluster_id": cluster.id,
            "requested_amount": 1_000_000,
            "tenor_months": 12,
            "lender_id": lender.lender_id,
        },
    ).json["id"]
    base = f"/api/v1/loan-applications/{app_id}"
    r = client.put(
        f"{base}/plan",
        headers=token_for(chair_user),
        json={
            "booking_ids": [booking.id],
            "material_costs": [
                {"member_id": chair.id, "amount": 4_000_000},
                {"member_id": other.id, "amount": 700_000},
            ],
        },
    )
    assert r.status_code == 200, r.json
    assert r.json["cost_estimate"] == 5_000_000
    mine = client.get(f"{base}/plan", headers=token_for(other_user)).json
    assert [(s["member_id"], s["amount"], s["machine_hours"]) for s in mine["shares"]] == [
        (other.id, 1_000_000, 3.0)
    ]
    assert (
        client.put(
            f"{base}/plan", headers=token_for(other_user), json={"booking_ids": [booking.id]}
        ).status_code
        == 403
    )

    assert client.post(f"{base}/submit", headers=token_for(chair_user), json={}).status_code == 200
    assert (
        client.post(f"{base}/approve", headers=token_for(endorser), json={}).json["approved_amount"]
        == 5_000_000
    )
    client.post(
        f"{base}/lender-decision",
        headers=token_for(lender),
        json={"approved": True, "reference": "KUR/2026/7"},
    )
    r = client.post(
        f"{base}/disburse",
        headers=token_for(lender),
        json={"amount": 2_000_000, "on": "2026-02-01"},
    )
    assert r.status_code == 200 and r.json["status"] == "disbursing", r.json
    r = client.post(f"{base}/tranches", headers=token_for(lender), json={"amount": 3_000_001})
    assert r.status_code == 409 and r.json["code"] == "beyond_approved_amount"
    make_clock.set(dt.date(2026, 3, 1))
    r = client.post(
        f"{base}/tranches",
        headers=token_for(lender),
        json={"amount": 3_000_000, "on": "2026-03-01"},
    )
    assert r.status_code == 201
    assert [
        t["amount"]
        for t in client.get(f"{base}/tranches", headers=token_for(chair_user)).json["items"]
    ] == [2_000_000, 3_000_000]

    loan = client.get(f"/api/v1/loans/{app_id}", headers=token_for(manager)).json
    assert loan["status"] == "repaying" and loan["disbursed"] == 5_000_000
    # Outstanding is principal: disbursed less principal repaid; the interest is scheduled.
    assert loan["linked_booking_ids"] == [booking.id] and loan["outstanding"] == 5_000_000
    assert loan["scheduled_remaining"] > 5_000_000
    assert [
        x["id"] for x in client.get("/api/v1/loans", headers=token_for(manager)).json["items"]
    ] == [app_id]
    assert (
        client.get(f"/api/v1/loans/{app_id}", headers=token_for(other_user)).json["my_share"]
        == 1_000_000
    )
    # A member sees its own bookings of the plan only: the booking is the other member's.
    assert client.get(f"/api/v1/loans/{app_id}", headers=token_for(other_user)).json[
        "linked_booking_ids"
    ] == [booking.id]
    assert (
        client.get(f"/api/v1/loans/{app_id}", headers=token_for(chair_user)).json[
            "linked_booking_ids"
        ]
        == []
    )
    assert (
        client.get("/api/v1/loans", headers=token_for(make_user(Role.manager))).json["items"] == []
    )
    assert (
        client.get(f"/api/v1/loans/{app_id}", headers=token_for(make_user(Role.member))).status_code
        == 404
    )


def test_a_plan_with_another_clusters_booking_is_a_422_naming_it(
    client, token_for, make_user, make_member, make_cluster, make_booking
):
    chair = make_member()
    cluster = make_cluster(members=[chair], chair_member_id=chair.id)
    chair_user = make_user(Role.member, member=chair)
    foreign = make_booking()
    app_id = client.post(
        "/api/v1/loan-applications",
        headers=token_for(chair_user),
        json={"cluster_id": cluster.id, "requested_amount": 1_000_000, "tenor_months": 12},
    ).json["id"]
    r = client.put(
        f"/api/v1/loan-applications/{app_id}/plan",
        headers=token_for(chair_user),
        json={"booking_ids": [foreign.id]},
    )
    assert r.status_code == 422 and "booking_ids[0]" in r.json["errors"]
