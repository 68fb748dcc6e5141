from factoryshare.models import Role
from tests.conftest import TEST_PASSWORD


def test_an_admin_creates_a_manager_of_a_house_who_can_then_sign_in(
    client, make_user, make_house, token_for
):
    admin = make_user(Role.admin)
    house = make_house()
    r = client.post(
        "/api/v1/users",
        headers=token_for(admin),
        json={
            "email": "Manajer.Baru@Example.id",
            "password": "a-long-enough-password",
            "role": "manager",
            "house_ids": [house.id],
            "language": "en",
        },
    )
    assert r.status_code == 201, r.json
    assert r.json["email"] == "manajer.baru@example.id"
    assert r.json["house_ids"] == [house.id]
    assert "password" not in r.json and "password_hash" not in r.json
    signed = client.post(
        "/api/v1/auth/token",
        json={"email": "manajer.baru@example.id", "password": "a-long-enough-password"},
    )
    assert signed.status_code == 201


def test_a_member_user_needs_an_existing_member_and_the_error_names_the_field(
    client, make_user, token_for
):
    admin = make_user(Role.admin)
    r = client.post(
        "/api/v1/users",
        headers=token_for(admin),
        json={
            "email": "anggota@example.id",
            "password": "a-long-enough-password",
            "role": "member",
            "member_id": 999_999,
        },
    )
    assert r.status_code == 422
    assert "member_id" in r.json["errors"]


def test_a_taken_email_answers_409_naming_the_email(client, make_user, token_for):
    admin = make_user(Role.admin)
    other = make_user(Role.admin)
    r = client.post(
        "/api/v1/users",
        headers=token_for(admin),
        json={"email": other.email, "password": "a-long-enough-password", "role": "admin"},
    )
    assert r.status_code == 409
    assert "email" in r.json["errors"]


def test_a_client_cannot_give_itself_a_role_through_its_profile(client, make_user, token_for):
    member = make_user(Role.member)
    r = client.patch("/api/v1/users/me", headers=token_for(member), json={"role": "admin"})
    assert r.status_code == 422
    assert "role" in r.json["errors"]


def test_only_admins_list_users_and_others_get_403(client, make_user, token_for):
    admin = make_user(Role.admin)
    manager = make_user(Role.manager)
    listed = client.get("/api/v1/users?role=manager", headers=token_for(admin))
    assert listed.status_code == 200
    assert manager.id in [u["id"] for u in listed.json["items"]]
    assert all(u["role"] == "manager" for u in listed.json["items"])
    assert client.get("/api/v1/users", headers=token_for(manager)).status_code == 403
    assert client.get(f"/api/v1/users/{admin.id}", headers=token_for(manager)).status_code == 403


def test_a_user_changes_its_password_only_with_the_current_one(client, make_user, token_for):
    user = make_user(Role.member)
    headers = token_for(user)
    wrong = client.patch(
        "/api/v1/users/me",
        headers=headers,
        json={"password": "brand-new-password-1", "current_password": "not-it-at-all"},
    )
    assert wrong.status_code == 422
    assert "current_password" in wrong.json["errors"]
    missing = client.patch(
        "/api/v1/users/me", headers=headers, json={"password": "brand-new-password-1"}
    )
    assert missing.status_code == 422
    ok = client.patch(
        "/api/v1/users/me",
        headers=headers,
        json={
            "password": "brand-new-password-1",
            "current_password": TEST_PASSWORD,
            "language": "en",
        },
    )
    assert ok.status_code == 200, ok.json
    assert ok.json["language"] == "en"
    old = client.post("/api/v1/auth/token", json={"email": user.email, "password": TEST_PASSWORD})
    assert old.status_code == 401
    new = client.post(
        "/api/v1/auth/token", json={"email": user.email, "password": "brand-new-password-1"}
    )
    assert new.status_code == 201


def test_deactivating_a_user_ends_its_sessions(client, make_user, token_for):
    admin = make_user(Role.admin)
    user = make_user(Role.member)
    user_headers = token_for(user)
    r = client.patch(
        f"/api/v1/users/{user.id}", headers=token_for(admin), json={"is_active": False}
    )
    assert r.status_code == 200
    assert r.json["is_active"] is False
    assert client.get("/api/v1/auth/me", headers=user_headers).status_code == 401
