from factoryshare.models import Role
from tests.conftest import TEST_PASSWORD


def test_a_user_signs_in_and_sees_itself(client, make_user):
    user = make_user(Role.manager)
    r = client.post("/api/v1/auth/token", json={"email": user.email, "password": TEST_PASSWORD})
    assert r.status_code == 201, r.json
    token = r.json["token"]
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    assert me.json["role"] == "manager"
    assert me.json["house_ids"] == [h.id for h in user.houses]


def test_a_wrong_password_is_refused_with_the_error_shape(client, make_user):
    user = make_user()
    r = client.post("/api/v1/auth/token", json={"email": user.email, "password": "nope-nope-nope"})
    assert r.status_code == 401
    assert r.json["code"] == "invalid_credentials"
    assert set(r.json) >= {"code", "status", "message", "errors"}


def test_a_revoked_token_no_longer_opens_anything(client, make_user):
    user = make_user()
    token = client.post(
        "/api/v1/auth/token", json={"email": user.email, "password": TEST_PASSWORD}
    ).json["token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    r = client.get("/api/v1/auth/me", headers=headers)
    assert r.status_code == 401
    assert r.json["code"] == "invalid_token"


def test_repeated_failures_lock_the_account_with_a_clear_message(client, make_user):
    user = make_user()
    for _ in range(5):
        client.post("/api/v1/auth/token", json={"email": user.email, "password": "wrong-password"})
    r = client.post("/api/v1/auth/token", json={"email": user.email, "password": TEST_PASSWORD})
    assert r.status_code == 423
    assert r.json["code"] == "account_locked"
    assert "dikunci" in r.json["message"]  # signed out, no Accept-Language: Indonesian


def test_unknown_fields_in_a_sign_in_are_rejected_by_name(client):
    r = client.post(
        "/api/v1/auth/token", json={"email": "a@b.id", "password": "x", "role": "admin"}
    )
    assert r.status_code == 422
    assert "role" in r.json["errors"]


def test_malformed_json_is_a_400_not_a_500(client):
    r = client.post("/api/v1/auth/token", data="{not json", content_type="application/json")
    assert r.status_code == 400
    assert r.json["code"] == "invalid_json"
