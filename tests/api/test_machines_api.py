from factoryshare.models import AuditEvent, Role
from tests.factories.bookings import working_day

URL = "/api/v1/machines"


def test_a_manager_adds_a_machine_to_its_house_with_capabilities(
    client, db, make_house, make_capability, make_user, token_for
):
    house = make_house()
    make_capability(code="vacuum_frying", name="Vacuum frying")
    headers = token_for(make_user(Role.manager, houses=[house]))
    r = client.post(
        URL,
        json={
            "house_id": house.id,
            "code": "VF-01",
            "name": "Vacuum fryer 10 kg",
            "hourly_rate": 75_000,
            "capabilities": ["vacuum_frying"],
        },
        headers=headers,
    )
    assert r.status_code == 201, r.json
    assert r.json["capabilities"] == ["vacuum_frying"] and r.json["status"] == "active"
    r = client.get(
        URL,
        query_string={"house_id": house.id, "capability": "vacuum_frying"},
        headers=token_for(make_user(Role.member)),
    )
    assert [m["code"] for m in r.json["items"]] == ["VF-01"]
    assert db.query(AuditEvent).filter_by(action="machine.created").count() == 1


def test_a_manager_may_not_add_a_machine_to_another_house(
    client, make_house, make_capability, make_user, token_for
):
    other = make_house()
    make_capability(code="sewing", name="Sewing")
    r = client.post(
        URL,
        json={
            "house_id": other.id,
            "code": "S-1",
            "name": "Juki",
            "hourly_rate": 25_000,
            "capabilities": ["sewing"],
        },
        headers=token_for(make_user(Role.manager)),
    )
    assert r.status_code == 403


def test_an_unknown_capability_or_a_fractional_rate_is_refused_naming_the_field(
    client, make_house, make_user, token_for
):
    house = make_house()
    headers = token_for(make_user(Role.admin))
    r = client.post(
        URL,
        json={
            "house_id": house.id,
            "code": "X-1",
            "name": "X",
            "hourly_rate": 10_000,
            "capabilities": ["teleporting"],
        },
        headers=headers,
    )
    assert r.status_code == 422 and "capabilities[0]" in r.json["errors"]
    r = client.post(
        URL,
        json={
            "house_id": house.id,
            "code": "X-1",
            "name": "X",
            "hourly_rate": 10_000.5,
            "capabilities": ["sewing"],
        },
        headers=headers,
    )
    assert r.status_code == 422 and "hourly_rate" in r.json["errors"]


def test_a_machine_code_is_unique_within_its_house(client, make_machine, make_user, token_for):
    machine = make_machine(code="JK-1")
    r = client.post(
        URL,
        json={
            "house_id": machine.house_id,
            "code": "JK-1",
            "name": "Juki 2",
            "hourly_rate": 25_000,
            "capabilities": ["sewing"],
        },
        headers=token_for(make_user(Role.admin)),
    )
    assert r.status_code == 409 and r.json["code"] == "duplicate_machine"


def test_a_new_rate_applies_to_new_bookings_and_the_old_price_stays(
    client, make_machine, make_booking, make_user, token_for
):
    machine = make_machine(hourly_rate=40_000)
    booking = make_booking(machine=machine)
    old_price = booking.price
    headers = token_for(make_user(Role.manager, houses=[machine.house]))
    r = client.patch(f"{URL}/{machine.id}", json={"hourly_rate": 60_000}, headers=headers)
    assert r.status_code == 200 and r.json["hourly_rate"] == 60_000
    r = client.get(f"/api/v1/bookings/{booking.id}", headers=headers)
    assert r.json["price"] == old_price


def test_a_machine_with_bookings_to_come_cannot_be_retired_without_a_downtime(
    client, make_machine, make_booking, make_user, token_for
):
    machine = make_machine()
    make_booking(machine=machine)
    headers = token_for(make_user(Role.manager, houses=[machine.house]))
    r = client.patch(f"{URL}/{machine.id}", json={"status": "retired"}, headers=headers)
    assert r.status_code == 409 and r.json["code"] == "machine_has_bookings"


def test_a_retired_machine_is_no_longer_offered(client, make_machine, make_user, token_for):
    machine = make_machine(capabilities=["sewing"])
    headers = token_for(make_user(Role.manager, houses=[machine.house]))
    assert (
        client.patch(f"{URL}/{machine.id}", json={"status": "retired"}, headers=headers).status_code
        == 200
    )
    start = working_day(7)
    r = client.get(
        f"/api/v1/houses/{machine.house_id}/availability",
        query_string={"start": f"{start}T00:00:00+07:00", "end": f"{start}T23:00:00+07:00"},
        headers=headers,
    )
    assert r.json["machines"] == []


def test_a_booked_machine_cannot_be_deleted_but_a_new_one_can(
    client, make_machine, make_booking, make_user, token_for
):
    used, unused = make_machine(), make_machine()
    make_booking(machine=used)
    headers = token_for(make_user(Role.admin))
    r = client.delete(f"{URL}/{used.id}", headers=headers)
    assert r.status_code == 409 and r.json["code"] == "machine_in_use"
    assert client.delete(f"{URL}/{unused.id}", headers=headers).status_code == 204
    assert client.get(f"{URL}/{unused.id}", headers=headers).status_code == 404


def test_only_admins_edit_the_capability_catalogue(client, make_user, token_for):
    body = {"code": "laser_cutting", "name": "Laser cutting"}
    assert (
        client.post(
            "/api/v1/capabilities", json=body, headers=token_for(make_user(Role.manager))
        ).status_code
        == 403
    )
    r = client.post("/api/v1/capabilities", json=body, headers=token_for(make_user(Role.admin)))
    assert r.status_code == 201, r.json
    r = client.post(
        "/api/v1/capabilities",
        json={"code": "Laser Cutting!", "name": "x"},
        headers=token_for(make_user(Role.admin)),
    )
    assert r.status_code == 422 and "code" in r.json["errors"]


def test_a_capability_in_use_cannot_be_removed(client, make_machine, make_user, token_for):
    machine = make_machine(capabilities=["embroidery"])
    capability_id = machine.capabilities[0].id
    r = client.delete(
        f"/api/v1/capabilities/{capability_id}", headers=token_for(make_user(Role.admin))
    )
    assert r.status_code == 409 and r.json["code"] == "capability_in_use"
