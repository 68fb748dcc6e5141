"""Consent and scope: a member joins a cluster only by accepting; until then the aggregator
sees its name and business only; plans, leaving, offtake purchases and the audit trail."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from factoryshare.models import AuditEvent, Role

CLUSTERS = "/api/v1/clusters"
INVITATIONS = "/api/v1/cluster-invitations"
START = dt.datetime(2026, 3, 4, 1, 0, tzinfo=dt.UTC)


def _invite(client, headers, member, **extra):
    body = {"name": f"Klaster {member.id}", "sector": "craft", "member_ids": [member.id], **extra}
    r = client.post(CLUSTERS, json=body, headers=headers)
    assert r.status_code == 201, r.json
    return r.json


def _invitation_id(cluster_json, member):
    (invitee,) = [i for i in cluster_json["invited"] if i["member_id"] == member.id]
    return invitee["invitation_id"]


def test_an_aggregator_who_lists_a_member_without_its_acceptance_sees_nothing_of_it(
    client, db, make_user, make_member, make_booking, make_food_product, make_permit, token_for
):
    member = make_member(
        phone="+6281234567890", email="rahasia@contoh.id", annual_turnover=900_000_000
    )
    booking = make_booking(member=member, status="held")
    product = make_food_product(member=member)
    permit = make_permit(product)
    aggregator = token_for(make_user(Role.aggregator))

    cluster = _invite(client, aggregator, member)

    assert cluster["member_ids"] == []
    assert cluster["invited"] == [
        {
            "invitation_id": cluster["invited"][0]["invitation_id"],
            "member_id": member.id,
            "owner_name": member.owner_name,
            "business_name": member.business_name,
        }
    ]
    for url in (
        f"/api/v1/members/{member.id}",
        f"/api/v1/bookings/{booking.id}",
        f"/api/v1/products/{product.id}",
        f"/api/v1/permits/{permit.id}",
        f"/api/v1/permits/{permit.id}/document",
    ):
        assert client.get(url, headers=aggregator).status_code == 404, url
    listed = client.get("/api/v1/members", headers=aggregator).json["items"]
    assert member.id not in [m["id"] for m in listed]
    seen = client.get(f"{CLUSTERS}/{cluster['id']}", headers=aggregator).get_data(as_text=True)
    for secret in ("+6281234567890", "rahasia@contoh.id", "900000000", member.owner_nik):
        assert secret not in seen
    (invitation,) = client.get(INVITATIONS, headers=aggregator).json["items"]
    assert invitation["status"] == "invited" and invitation["business_name"] == member.business_name


def test_a_member_accepts_its_own_invitation_and_then_belongs_to_the_cluster(
    client, make_user, make_member, token_for
):
    member = make_member()
    aggregator = token_for(make_user(Role.aggregator))
    member_headers = token_for(make_user(Role.member, member=member))
    cluster = _invite(client, aggregator, member)
    (mine,) = client.get(INVITATIONS, headers=member_headers).json["items"]
    assert mine["cluster_name"] == cluster["name"] and mine["status"] == "invited"
    assert client.get(f"{CLUSTERS}/{cluster['id']}", headers=member_headers).status_code == 404

    r = client.post(f"{INVITATIONS}/{mine['id']}/accept", json={}, headers=member_headers)

    assert r.status_code == 200, r.json
    assert r.json["status"] == "accepted" and r.json["on_behalf"] is False
    after = client.get(f"{CLUSTERS}/{cluster['id']}", headers=aggregator).json
    assert after["member_ids"] == [member.id] and after["invited"] == []
    assert client.get(f"/api/v1/members/{member.id}", headers=aggregator).status_code == 200
    assert client.get(f"{CLUSTERS}/{cluster['id']}", headers=member_headers).status_code == 200
    again = client.post(f"{INVITATIONS}/{mine['id']}/accept", json={}, headers=member_headers)
    assert again.status_code == 409 and again.json["code"] == "invalid_transition"


def test_a_member_declines_and_stays_out_of_the_cluster(client, make_user, make_member, token_for):
    member = make_member()
    aggregator = token_for(make_user(Role.aggregator))
    cluster = _invite(client, aggregator, member, chair_member_id=member.id)
    r = client.post(
        f"{INVITATIONS}/{_invitation_id(cluster, member)}/decline",
        json={},
        headers=token_for(make_user(Role.member, member=member)),
    )
    assert r.status_code == 200 and r.json["status"] == "declined"
    after = client.get(f"{CLUSTERS}/{cluster['id']}", headers=aggregator).json
    assert after["member_ids"] == [] and after["invited"] == [] and after["chair_member_id"] is None
    assert client.get(f"/api/v1/members/{member.id}", headers=aggregator).status_code == 404


def test_the_house_manager_accepts_for_a_member_only_with_a_reason_and_it_is_audited(
    client, db, make_user, make_member, make_house, token_for
):
    house, elsewhere = make_house(), make_house()
    member = make_member(house=house)
    aggregator = token_for(make_user(Role.aggregator))
    cluster = _invite(client, aggregator, member)
    url = f"{INVITATIONS}/{_invitation_id(cluster, member)}/accept"
    manager = make_user(Role.manager, houses=[house])

    assert client.post(url, json={}, headers=aggregator).status_code == 403
    assert (
        client.post(
            url,
            json={"reason": "x"},
            headers=token_for(make_user(Role.manager, houses=[elsewhere])),
        ).status_code
        == 404
    )
    blank = client.post(url, json={"reason": "  "}, headers=token_for(manager))
    assert blank.status_code == 422 and "reason" in blank.json["errors"]

    reason = "Persetujuan tertulis anggota di rapat klaster, formulir disimpan."
    r = client.post(url, json={"reason": reason}, headers=token_for(manager))

    assert r.status_code == 200, r.json
    assert r.json["on_behalf"] is True and r.json["reason"] == reason
    assert r.json["decided_by_id"] == manager.id
    assert client.get(f"{CLUSTERS}/{cluster['id']}", headers=aggregator).json["member_ids"] == [
        member.id
    ]
    event = db.scalars(
        select(AuditEvent).where(AuditEvent.action == "cluster_invitation.accepted")
    ).one()
    assert event.actor_id == manager.id and event.after["reason"] == reason
    assert event.after["on_behalf"] is True and event.house_id == house.id


def test_a_plan_with_a_booking_of_a_member_who_has_not_accepted_is_a_422_naming_it(
    client,
    make_user,
    make_member,
    make_cluster,
    make_aggregator,
    make_machine,
    make_booking,
    token_for,
):
    aggregator = make_aggregator()
    accepted, invited = make_member(), make_member()
    cluster = make_cluster(aggregator=aggregator, members=[accepted], invited=[invited])
    machine = make_machine(hourly_rate=100_000)
    held = make_booking(
        machine=machine,
        member=invited,
        start_at=START,
        status="held",
        end_at=START + dt.timedelta(hours=3),
        price=300_000,
        hourly_rate=100_000,
    )
    headers = token_for(make_user(Role.aggregator, aggregator=aggregator))
    app_id = client.post(
        "/api/v1/loan-applications",
        headers=headers,
        json={"cluster_id": cluster.id, "requested_amount": 1_000_000, "tenor_months": 12},
    ).json["id"]

    r = client.put(
        f"/api/v1/loan-applications/{app_id}/plan",
        headers=headers,
        json={"booking_ids": [held.id], "material_costs": [{"member_id": invited.id, "amount": 1}]},
    )

    assert r.status_code == 422
    assert invited.business_name in r.json["errors"]["booking_ids[0]"][0]
    assert "belum menerima" in r.json["errors"][f"material_costs[{invited.id}]"][0]


def test_leaving_a_cluster_with_an_open_application_is_refused_with_the_reason(
    client, make_user, make_member, make_cluster, make_aggregator, make_loan, token_for
):
    aggregator = make_aggregator()
    a, b = make_member(), make_member()
    cluster = make_cluster(aggregator=aggregator, members=[a, b], chair_member_id=a.id)
    app = make_loan(cluster, until="approved")
    member_headers = token_for(make_user(Role.member, member=b))
    aggregator_headers = token_for(make_user(Role.aggregator, aggregator=aggregator))

    r = client.delete(f"{CLUSTERS}/{cluster.id}/members/{b.id}", headers=member_headers)
    assert r.status_code == 409 and r.json["code"] == "cluster_loan_open"
    assert f"pengajuan pinjamannya {app.id} disetujui" in r.json["message"]
    assert r.json["details"]["loan_application_id"] == app.id
    r = client.patch(
        f"{CLUSTERS}/{cluster.id}", json={"member_ids": [a.id]}, headers=aggregator_headers
    )
    assert r.status_code == 409 and r.json["code"] == "cluster_loan_open"
    assert client.get(f"{CLUSTERS}/{cluster.id}", headers=aggregator_headers).json[
        "member_ids"
    ] == [a.id, b.id]


def test_a_member_leaves_a_cluster_without_a_loan_and_the_aggregator_loses_sight_of_it(
    client, make_user, make_member, make_cluster, make_aggregator, token_for
):
    aggregator = make_aggregator()
    a, b = make_member(), make_member()
    cluster = make_cluster(aggregator=aggregator, members=[a, b])
    aggregator_headers = token_for(make_user(Role.aggregator, aggregator=aggregator))
    b_headers = token_for(make_user(Role.member, member=b))
    assert (
        client.delete(f"{CLUSTERS}/{cluster.id}/members/{a.id}", headers=b_headers).status_code
        == 403
    )

    r = client.delete(f"{CLUSTERS}/{cluster.id}/members/{b.id}", headers=b_headers)

    assert r.status_code == 200 and r.json["member_ids"] == [a.id]
    assert client.get(f"/api/v1/members/{b.id}", headers=aggregator_headers).status_code == 404


def test_a_member_sees_only_its_own_offtake_purchase_figures(
    client,
    make_user,
    make_member,
    make_cluster,
    make_aggregator,
    make_product,
    token_for,
    make_clock,
):
    make_clock.set(
        dt.date(2026, 3, 1)
    )  # a purchase is not dated before its agreement nor later than today
    aggregator = make_aggregator()
    a, b = make_member(), make_member()
    cluster = make_cluster(aggregator=aggregator, members=[a, b])
    buyer = token_for(make_user(Role.aggregator, aggregator=aggregator))
    ids = {}
    for member, price in ((a, 45_000), (b, 70_000)):
        r = client.post(
            "/api/v1/offtake-agreements",
            headers=buyer,
            json={
                "cluster_id": cluster.id,
                "product_id": make_product(member=member).id,
                "quantity": 10,
                "unit_price": price,
                "deliveries": [{"due_on": "2026-03-01", "quantity": 10}],
            },
        )
        assert r.status_code == 201, r.json
        ids[member.id] = r.json["id"]
        assert (
            client.post(
                f"/api/v1/offtake-agreements/{ids[member.id]}/purchases",
                headers=buyer,
                json={"delivered_on": "2026-03-01", "quantity": 10},
            ).status_code
            == 201
        )
    a_headers = token_for(make_user(Role.member, member=a))

    listed = client.get("/api/v1/offtake-agreements", headers=a_headers).json["items"]
    assert [x["id"] for x in listed] == [ids[a.id]]
    (own,) = client.get(
        f"/api/v1/offtake-agreements/{ids[a.id]}/purchases", headers=a_headers
    ).json["items"]
    assert own["member_id"] == a.id and own["amount"] == 450_000
    assert (
        client.get(f"/api/v1/offtake-agreements/{ids[b.id]}", headers=a_headers).status_code == 404
    )
    assert (
        client.get(
            f"/api/v1/offtake-agreements/{ids[b.id]}/purchases", headers=a_headers
        ).status_code
        == 404
    )
    assert len(client.get("/api/v1/offtake-agreements", headers=buyer).json["items"]) == 2


def test_a_manager_reads_the_audit_events_of_its_own_houses_and_not_another_s(
    client, make_user, make_house, make_machine, token_for
):
    mine, theirs = make_house(), make_house()
    my_machine, their_machine = make_machine(house=mine), make_machine(house=theirs)
    admin = token_for(make_user(Role.admin))
    for machine in (my_machine, their_machine):
        assert (
            client.patch(
                f"/api/v1/machines/{machine.id}", json={"name": "Baru"}, headers=admin
            ).status_code
            == 200
        )
    manager = token_for(make_user(Role.manager, houses=[mine]))

    r = client.get("/api/v1/audit?object_type=machines", headers=manager)

    assert r.status_code == 200, r.json
    assert [(e["object_id"], e["house_id"]) for e in r.json["items"]] == [
        (str(my_machine.id), mine.id)
    ]
    assert client.get(f"/api/v1/audit?house_id={theirs.id}", headers=manager).json["items"] == []
    everything = client.get("/api/v1/audit?object_type=machines", headers=admin).json["items"]
    assert {e["object_id"] for e in everything} >= {str(my_machine.id), str(their_machine.id)}
