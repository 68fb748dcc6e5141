from factoryshare.models import Role


def test_an_admin_finds_who_changed_a_user_with_before_and_after(client, make_user, token_for):
    admin = make_user(Role.admin)
    user = make_user(Role.member, name="Nama Lama")
    headers = token_for(admin)
    assert (
        client.patch(
            f"/api/v1/users/{user.id}", headers=headers, json={"name": "Nama Baru"}
        ).status_code
        == 200
    )
    r = client.get(f"/api/v1/audit?object_type=users&object_id={user.id}", headers=headers)
    assert r.status_code == 200, r.json
    (event,) = r.json["items"]
    assert event["actor_id"] == admin.id
    assert event["action"] == "user.updated"
    assert event["before"]["name"] == "Nama Lama"
    assert event["after"]["name"] == "Nama Baru"
    assert "password_hash" not in event["after"]


def test_members_and_aggregators_may_not_read_the_audit_trail(client, make_user, token_for):
    for role in (Role.member, Role.aggregator):
        r = client.get("/api/v1/audit", headers=token_for(make_user(role)))
        assert r.status_code == 403, role


def test_the_audit_trail_is_filtered_by_time(client, make_user, token_for):
    admin = make_user(Role.admin)
    user = make_user(Role.member)
    headers = token_for(admin)
    client.patch(f"/api/v1/users/{user.id}", headers=headers, json={"name": "Sekali"})
    r = client.get(
        "/api/v1/audit?object_type=users&since=2999-01-01T00:00:00%2B07:00", headers=headers
    )
    assert r.status_code == 200
    assert r.json["items"] == []
    bad = client.get("/api/v1/audit?since=yesterday", headers=headers)
    assert bad.status_code == 422
    assert "since" in str(bad.json["errors"])
