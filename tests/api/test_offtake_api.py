"""Offtake agreements over the API: the aggregator writes, the cluster and its house's managers read."""

from __future__ import annotations

from factoryshare.models import Role


def _setting(make_user, make_aggregator, make_cluster, make_member, make_product, make_house):
    house = make_house()
    aggregator = make_aggregator()
    member = make_member(house=house)
    cluster = make_cluster(
        aggregator=aggregator, members=[member], chair_member_id=member.id, house_id=house.id
    )
    product = make_product(member=member)
    return {
        "cluster": cluster,
        "product": product,
        "house": house,
        "aggregator": make_user(Role.aggregator, aggregator=aggregator),
        "member": make_user(Role.member, member=member),
        "manager": make_user(Role.manager, houses=[house]),
    }


def _create(client, token, s):
    return client.post(
        "/api/v1/offtake-agreements",
        headers=token,
        json={
            "cluster_id": s["cluster"].id,
            "product_id": s["product"].id,
            "quantity": 100,
            "unit_price": 45_000,
            "deliveries": [
                {"due_on": "2026-03-01", "quantity": 60},
                {"due_on": "2026-04-01", "quantity": 40},
            ],
        },
    )


def test_the_aggregator_records_an_agreement_and_a_purchase_the_cluster_can_read(
    client,
    token_for,
    make_user,
    make_aggregator,
    make_cluster,
    make_member,
    make_product,
    make_house,
    make_clock,
):
    make_clock.set(make_clock.now.replace(year=2026, month=3, day=1))  # the purchase's day
    s = _setting(make_user, make_aggregator, make_cluster, make_member, make_product, make_house)
    r = _create(client, token_for(s["aggregator"]), s)
    assert r.status_code == 201, r.json
    assert r.json["value"] == 4_500_000
    assert [d["due_on"] for d in r.json["deliveries"]] == ["2026-03-01", "2026-04-01"]
    base = f"/api/v1/offtake-agreements/{r.json['id']}"

    r = client.post(
        f"{base}/purchases",
        headers=token_for(s["aggregator"]),
        json={"delivered_on": "2026-03-01", "quantity": 60},
    )
    assert r.status_code == 201, r.json
    assert r.json["amount"] == 2_700_000 and r.json["paid_to_member"] == 2_700_000

    for reader in ("member", "manager"):
        assert client.get(base, headers=token_for(s[reader])).status_code == 200
        assert len(client.get(f"{base}/purchases", headers=token_for(s[reader])).json["items"]) == 1
    listed = client.get("/api/v1/offtake-agreements", headers=token_for(s["member"])).json["items"]
    assert [a["id"] for a in listed] == [int(base.rsplit("/", 1)[1])]


def test_members_and_managers_cannot_write_and_outsiders_see_nothing(
    client,
    token_for,
    make_user,
    make_aggregator,
    make_cluster,
    make_member,
    make_product,
    make_house,
):
    s = _setting(make_user, make_aggregator, make_cluster, make_member, make_product, make_house)
    assert _create(client, token_for(s["member"]), s).status_code == 403
    assert _create(client, token_for(s["manager"]), s).status_code == 403
    agreement_id = _create(client, token_for(s["aggregator"]), s).json["id"]

    for outsider in (make_user(Role.aggregator), make_user(Role.member), make_user(Role.manager)):
        assert (
            client.get(
                f"/api/v1/offtake-agreements/{agreement_id}", headers=token_for(outsider)
            ).status_code
            == 404
        )
        assert (
            client.get("/api/v1/offtake-agreements", headers=token_for(outsider)).json["items"]
            == []
        )
    other = make_user(Role.aggregator)
    assert _create(client, token_for(other), s).status_code == 404
    r = client.post(
        f"/api/v1/offtake-agreements/{agreement_id}/purchases",
        headers=token_for(other),
        json={"delivered_on": "2026-03-01", "quantity": 1},
    )
    assert r.status_code == 404


def test_deliveries_that_do_not_add_up_are_a_422_naming_them(
    client,
    token_for,
    make_user,
    make_aggregator,
    make_cluster,
    make_member,
    make_product,
    make_house,
):
    s = _setting(make_user, make_aggregator, make_cluster, make_member, make_product, make_house)
    r = client.post(
        "/api/v1/offtake-agreements",
        headers=token_for(s["aggregator"]),
        json={
            "cluster_id": s["cluster"].id,
            "product_id": s["product"].id,
            "quantity": 100,
            "unit_price": 45_000,
            "deliveries": [{"due_on": "2026-03-01", "quantity": 60}],
        },
    )
    assert r.status_code == 422 and "deliveries" in r.json["errors"]
