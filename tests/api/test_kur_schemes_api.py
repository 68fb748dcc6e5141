from factoryshare.models import Role


def test_a_member_lists_the_kur_schemes_in_force_with_integer_rupiah(client, make_user, token_for):
    member = make_user(Role.member)

    r = client.get("/api/v1/kur-schemes?on=2026-11-23", headers=token_for(member))

    assert r.status_code == 200, r.json
    by_code = {s["code"]: s for s in r.json["items"]}
    assert set(by_code) == {"super_mikro", "mikro", "kecil", "khusus"}
    assert by_code["khusus"]["ceiling"] == 500_000_000
    assert by_code["khusus"]["annual_rate_bps"] == 600


def test_before_2026_no_scheme_is_listed_as_in_force(client, make_user, token_for):
    r = client.get(
        "/api/v1/kur-schemes?on=2025-06-01", headers=token_for(make_user(Role.aggregator))
    )

    assert r.status_code == 200
    assert r.json["items"] == []


def test_a_malformed_date_is_a_422_naming_the_field(client, make_user, token_for):
    r = client.get("/api/v1/kur-schemes?on=yesterday", headers=token_for(make_user(Role.manager)))

    assert r.status_code == 422
    assert "on" in str(r.json["errors"])


def test_an_anonymous_caller_cannot_read_the_schemes(client):
    assert client.get("/api/v1/kur-schemes").status_code == 401
