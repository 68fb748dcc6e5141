from sqlalchemy import select

from factoryshare.models import AuditEvent, ProductionHouse, Role

URL = "/api/v1/clusters"


def test_an_aggregator_creates_a_cluster_inviting_its_members_with_a_chair_among_them(
    client, db, make_user, make_member, token_for
):
    user = make_user(Role.aggregator)
    a, b = make_member(), make_member()
    body = {
        "name": "Klaster Batik Garut",
        "sector": "fashion",
        "house_id": a.house_id,
        "chair_member_id": a.id,
        "member_ids": [a.id, b.id],
    }
    r = client.post(URL, json=body, headers=token_for(user))
    assert r.status_code == 201, r.json
    assert r.json["aggregator_id"] == user.aggregator_id
    assert r.json["member_ids"] == []
    assert [i["member_id"] for i in r.json["invited"]] == [a.id, b.id]
    assert db.scalar(
        select(AuditEvent.action).where(
            AuditEvent.object_type == "clusters", AuditEvent.object_id == str(r.json["id"])
        )
    )


def test_a_chair_who_is_not_a_member_is_a_422_naming_the_chair(
    client, make_user, make_member, token_for
):
    a, b = make_member(), make_member()
    body = {"name": "Klaster X", "sector": "craft", "chair_member_id": b.id, "member_ids": [a.id]}
    r = client.post(URL, json=body, headers=token_for(make_user(Role.aggregator)))
    assert r.status_code == 422
    assert "chair_member_id" in r.json["errors"]


def test_an_unknown_member_is_a_422_naming_member_ids(client, make_user, token_for):
    body = {"name": "Klaster Y", "sector": "craft", "member_ids": [987654]}
    r = client.post(URL, json=body, headers=token_for(make_user(Role.aggregator)))
    assert r.status_code == 422
    assert "member_ids" in r.json["errors"]


def test_an_aggregator_edits_membership_but_not_another_aggregators_cluster(
    client, make_user, make_member, make_cluster, token_for
):
    user = make_user(Role.aggregator)
    a, b = make_member(), make_member()
    mine = make_cluster(aggregator_id=user.aggregator_id, members=[a])
    theirs = make_cluster(members=[a])
    headers = token_for(user)
    r = client.patch(
        f"{URL}/{mine.id}",
        json={"member_ids": [a.id, b.id], "chair_member_id": b.id},
        headers=headers,
    )
    assert r.status_code == 200, r.json
    assert r.json["member_ids"] == [a.id]
    assert [i["member_id"] for i in r.json["invited"]] == [b.id]
    assert (
        client.patch(f"{URL}/{theirs.id}", json={"name": "Rebut"}, headers=headers).status_code
        == 404
    )


def test_members_see_their_clusters_and_managers_those_in_their_houses(
    client, db, make_user, make_member, make_cluster, token_for
):
    member = make_member()
    house = db.get(ProductionHouse, member.house_id)
    joined = make_cluster(members=[member], house_id=house.id)
    other = make_cluster(members=[make_member()])
    member_headers = token_for(make_user(Role.member, member=member))
    r = client.get(URL, headers=member_headers)
    assert [c["id"] for c in r.json["items"]] == [joined.id]
    assert client.get(f"{URL}/{other.id}", headers=member_headers).status_code == 404
    manager_headers = token_for(make_user(Role.manager, houses=[house]))
    assert [c["id"] for c in client.get(URL, headers=manager_headers).json["items"]] == [joined.id]
    assert (
        client.post(URL, json={"name": "Z", "sector": "other"}, headers=manager_headers).status_code
        == 403
    )


def test_an_admin_sets_up_an_aggregator_and_its_users_read_only_their_own(
    client, make_user, make_aggregator, token_for
):
    admin = token_for(make_user(Role.admin))
    r = client.post(
        "/api/v1/aggregators",
        json={"name": "Koperasi Sejahtera", "approval_limit": 250_000_000, "phone": "022 1234567"},
        headers=admin,
    )
    assert r.status_code == 201, r.json
    assert r.json["phone"] == "+62221234567"
    dup = client.post("/api/v1/aggregators", json={"name": "Koperasi Sejahtera"}, headers=admin)
    assert dup.status_code == 409 and "name" in dup.json["errors"]
    user = make_user(Role.aggregator)
    headers = token_for(user)
    assert (
        client.get(f"/api/v1/aggregators/{user.aggregator_id}", headers=headers).status_code == 200
    )
    assert client.get(f"/api/v1/aggregators/{r.json['id']}", headers=headers).status_code == 404
    assert (
        client.patch(
            f"/api/v1/aggregators/{user.aggregator_id}", json={"approval_limit": 1}, headers=headers
        ).status_code
        == 403
    )
    listed = client.get("/api/v1/aggregators", headers=headers).json["items"]
    assert [a["id"] for a in listed] == [user.aggregator_id]


def test_an_aggregator_dissolves_its_cluster_and_the_members_stay(
    client, make_user, make_member, make_cluster, token_for
):
    user = make_user(Role.aggregator)
    member = make_member()
    cluster = make_cluster(aggregator_id=user.aggregator_id, members=[member])
    admin = token_for(make_user(Role.admin))
    assert client.delete(f"{URL}/{cluster.id}", headers=token_for(user)).status_code == 204
    assert client.get(f"{URL}/{cluster.id}", headers=admin).status_code == 404
    assert client.get(f"/api/v1/members/{member.id}", headers=admin).status_code == 200
