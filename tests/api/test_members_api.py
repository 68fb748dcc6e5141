from factoryshare.models import Role

URL = "/api/v1/members"


def _body(house_id, **overrides):
    body = {
        "house_id": house_id,
        "business_name": "UD Kopi Priangan",
        "nib": "9130000000001",
        "owner_name": "Pak Dedi",
        "owner_nik": "3205101205850001",
        "sector": "culinary",
        "phone": "081234567890",
    }
    body.update(overrides)
    return body


def test_a_manager_registers_a_member_and_sees_its_full_nik(client, make_user, token_for):
    manager = make_user(Role.manager)
    r = client.post(URL, json=_body(manager.houses[0].id), headers=token_for(manager))
    assert r.status_code == 201, r.json
    assert r.json["owner_nik"] == "3205101205850001"
    assert r.json["phone"] == "+6281234567890"


def test_an_invalid_nik_is_a_422_naming_owner_nik(client, make_user, token_for):
    manager = make_user(Role.manager)
    r = client.post(
        URL,
        json=_body(manager.houses[0].id, owner_nik="3205109905850001"),
        headers=token_for(manager),
    )
    assert r.status_code == 422
    assert "owner_nik" in r.json["errors"]
    assert "tanggal lahir" in r.json["errors"]["owner_nik"][0]  # in the manager's Indonesian


def test_a_duplicate_nib_is_a_409_naming_nib(client, make_user, make_member, token_for):
    manager = make_user(Role.manager)
    make_member(nib="9130000000002")
    r = client.post(
        URL, json=_body(manager.houses[0].id, nib="9130000000002"), headers=token_for(manager)
    )
    assert r.status_code == 409
    assert "nib" in r.json["errors"]


def test_a_member_user_cannot_register_members(client, make_user, token_for):
    user = make_user(Role.member)
    r = client.post(URL, json=_body(1), headers=token_for(user))
    assert r.status_code == 403


def test_a_member_reads_itself_with_a_masked_nik_and_updates_its_email(
    client, db, make_user, make_member, token_for
):
    member = make_member(owner_nik="3205101205850001")
    user = make_user(Role.member, member=member)
    headers = token_for(user)
    r = client.get(f"{URL}/{member.id}", headers=headers)
    assert r.status_code == 200
    assert r.json["owner_nik"] == "3205**********01"
    r = client.patch(f"{URL}/{member.id}", json={"email": "baru@example.id"}, headers=headers)
    assert r.status_code == 200, r.json
    assert r.json["email"] == "baru@example.id"
    r = client.patch(f"{URL}/{member.id}", json={"business_name": "Lain"}, headers=headers)
    assert r.status_code == 403


def test_a_member_outside_a_managers_houses_is_not_found(client, make_user, make_member, token_for):
    manager = make_user(Role.manager)
    r = client.get(f"{URL}/{make_member().id}", headers=token_for(manager))
    assert r.status_code == 404


def test_the_list_is_scoped_and_searchable(client, db, make_user, make_member, token_for):
    manager = make_user(Role.manager)
    house = manager.houses[0]
    mine = make_member(house_id=house.id, business_name="Tenun Ikat")
    make_member(house_id=house.id, business_name="Bakso Enak")
    make_member(business_name="Tenun Lain")
    r = client.get(URL, query_string={"search": "tenun"}, headers=token_for(manager))
    assert r.status_code == 200
    assert [m["id"] for m in r.json["items"]] == [mine.id]
    assert r.json["items"][0]["owner_nik"] == mine.owner_nik
