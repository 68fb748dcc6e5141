from factoryshare.models import Role
from tests.factories.bookings import at, working_day

URL = "/api/v1/bookings"


def _member_headers(make_member, make_user, token_for, machine):
    user = make_user(Role.member, member=make_member(house_id=machine.house_id))
    return token_for(user), user


def _slot(start="09:00", end="10:00"):
    day = working_day()
    return at(day, start).isoformat(), at(day, end).isoformat()


def test_a_member_books_and_sees_the_price_and_local_times_with_offset(
    client, make_machine, make_member, make_user, token_for
):
    machine = make_machine(hourly_rate=60_000)
    headers, _ = _member_headers(make_member, make_user, token_for, machine)
    start, end = _slot("09:00", "10:30")
    r = client.post(
        URL, json={"machine_id": machine.id, "start": start, "end": end}, headers=headers
    )
    assert r.status_code == 201, r.json
    assert r.json["price"] == 90_000
    assert r.json["status"] == "confirmed"
    assert r.json["start"].endswith("T09:00:00+07:00")
    assert r.json["zone"] == "WIB"
    r = client.get(f"{URL}/{r.json['id']}", headers=headers)
    assert r.status_code == 200


def test_a_second_booking_of_a_taken_slot_is_a_409_booking_conflict(
    client, make_machine, make_member, make_user, token_for
):
    machine = make_machine()
    headers, _ = _member_headers(make_member, make_user, token_for, machine)
    other, _ = _member_headers(make_member, make_user, token_for, machine)
    start, end = _slot()
    assert (
        client.post(
            URL, json={"machine_id": machine.id, "start": start, "end": end}, headers=headers
        ).status_code
        == 201
    )
    r = client.post(URL, json={"machine_id": machine.id, "start": start, "end": end}, headers=other)
    assert r.status_code == 409
    assert r.json["code"] == "booking_conflict"


def test_a_time_without_offset_is_a_422_naming_the_field(
    client, make_machine, make_member, make_user, token_for
):
    machine = make_machine()
    headers, _ = _member_headers(make_member, make_user, token_for, machine)
    r = client.post(
        URL,
        json={
            "machine_id": machine.id,
            "start": "2026-12-01T09:00:00",
            "end": "2026-12-01T10:00:00+07:00",
        },
        headers=headers,
    )
    assert r.status_code == 422
    assert "start" in r.json["errors"]


def test_another_members_booking_is_not_found_and_cannot_be_cancelled(
    client, make_machine, make_member, make_user, token_for, make_booking
):
    machine = make_machine()
    headers, _ = _member_headers(make_member, make_user, token_for, machine)
    booking = make_booking(machine=machine)
    assert client.get(f"{URL}/{booking.id}", headers=headers).status_code == 404
    assert client.post(f"{URL}/{booking.id}/cancel", json={}, headers=headers).status_code == 404


def test_a_member_moves_then_cancels_and_the_manager_sees_it(
    client, make_machine, make_member, make_user, token_for
):
    machine = make_machine()
    headers, _ = _member_headers(make_member, make_user, token_for, machine)
    manager = token_for(make_user(Role.manager, houses=[machine.house]))
    start, end = _slot()
    booking_id = client.post(
        URL, json={"machine_id": machine.id, "start": start, "end": end}, headers=headers
    ).json["id"]
    new_start, new_end = _slot("13:00", "14:00")
    r = client.patch(
        f"{URL}/{booking_id}", json={"start": new_start, "end": new_end}, headers=headers
    )
    assert r.status_code == 200, r.json
    assert r.json["start"].endswith("T13:00:00+07:00")
    r = client.post(f"{URL}/{booking_id}/cancel", json={"reason": "Order batal"}, headers=headers)
    assert r.json["status"] == "cancelled"
    r = client.get(
        URL, query_string={"house_id": machine.house_id, "status": "cancelled"}, headers=manager
    )
    assert r.status_code == 200, r.json
    assert [b["id"] for b in r.json["items"]] == [booking_id]


def test_only_a_manager_confirms_a_held_booking(
    client, make_machine, make_house, make_member, make_user, token_for
):
    house = make_house(requires_confirmation=True)
    machine = make_machine(house=house)
    headers, _ = _member_headers(make_member, make_user, token_for, machine)
    manager = token_for(make_user(Role.manager, houses=[house]))
    start, end = _slot()
    r = client.post(
        URL, json={"machine_id": machine.id, "start": start, "end": end}, headers=headers
    )
    assert r.json["status"] == "held"
    assert r.json["hold_expires_at"] is not None
    assert client.post(f"{URL}/{r.json['id']}/confirm", headers=headers).status_code == 403
    r = client.post(f"{URL}/{r.json['id']}/confirm", headers=manager)
    assert r.status_code == 200
    assert r.json["status"] == "confirmed"


def test_a_manager_books_for_a_member_of_the_house(
    client, make_machine, make_member, make_user, token_for
):
    machine = make_machine()
    member = make_member(house_id=machine.house_id)
    manager = token_for(make_user(Role.manager, houses=[machine.house]))
    start, end = _slot()
    r = client.post(
        URL,
        json={"machine_id": machine.id, "start": start, "end": end, "member_id": member.id},
        headers=manager,
    )
    assert r.status_code == 201, r.json
    assert r.json["member_id"] == member.id


def test_exceeding_the_weekly_quota_is_a_409_saying_how_many_hours_are_left(
    client, make_machine, make_member, make_user, token_for, make_booking_quota
):
    machine = make_machine(capabilities=["sewing"])
    make_booking_quota(house=machine.house, capability=machine.capabilities[0], hours_per_week=2)
    headers, _ = _member_headers(make_member, make_user, token_for, machine)
    start, end = _slot("09:00", "10:30")
    assert (
        client.post(
            URL, json={"machine_id": machine.id, "start": start, "end": end}, headers=headers
        ).status_code
        == 201
    )
    start, end = _slot("13:00", "14:00")
    r = client.post(
        URL, json={"machine_id": machine.id, "start": start, "end": end}, headers=headers
    )
    assert r.status_code == 409
    assert r.json["code"] == "quota_exceeded"
    assert r.json["details"]["hours_left"] == 0.5
    assert "tersisa 0.5 jam" in r.json["message"]  # the member reads Indonesian


def test_a_booking_before_opening_is_a_409_outside_opening_hours(
    client, make_machine, make_member, make_user, token_for
):
    machine = make_machine()
    headers, _ = _member_headers(make_member, make_user, token_for, machine)
    start, end = _slot("07:00", "08:30")
    r = client.post(
        URL, json={"machine_id": machine.id, "start": start, "end": end}, headers=headers
    )
    assert r.status_code == 409
    assert r.json["code"] == "outside_opening_hours"


def test_a_manager_rejects_a_held_booking_with_a_reason_and_only_a_held_one(
    client, make_house, make_machine, make_member, make_user, token_for
):
    house = make_house(requires_confirmation=True)
    machine = make_machine(house=house)
    member_headers, _ = _member_headers(make_member, make_user, token_for, machine)
    manager_headers = token_for(make_user(Role.manager, houses=[house]))
    start, end = _slot()
    held = client.post(
        URL, json={"machine_id": machine.id, "start": start, "end": end}, headers=member_headers
    ).json
    assert held["status"] == "held"

    assert (
        client.post(f"{URL}/{held['id']}/reject", json={}, headers=manager_headers).status_code
        == 422
    )
    assert (
        client.post(
            f"{URL}/{held['id']}/reject", json={"reason": "x"}, headers=member_headers
        ).status_code
        == 403
    )
    r = client.post(
        f"{URL}/{held['id']}/reject",
        json={"reason": "Mesin untuk pelatihan"},
        headers=manager_headers,
    )
    assert r.status_code == 200, r.json
    assert r.json["status"] == "cancelled"
    again = client.post(
        f"{URL}/{held['id']}/reject", json={"reason": "lagi"}, headers=manager_headers
    )
    assert (again.status_code, again.json["code"]) == (409, "invalid_transition")


def test_completing_a_booking_before_it_starts_is_a_409_too_early_and_changes_nothing(
    client, make_machine, make_member, make_user, token_for
):
    machine = make_machine()
    member_headers, _ = _member_headers(make_member, make_user, token_for, machine)
    manager_headers = token_for(make_user(Role.manager, houses=[machine.house]))
    start, end = _slot()
    booking = client.post(
        URL, json={"machine_id": machine.id, "start": start, "end": end}, headers=member_headers
    ).json

    for action in ("complete", "no_show"):
        r = client.post(f"{URL}/{booking['id']}/{action}", json={}, headers=manager_headers)
        assert (r.status_code, r.json["code"]) == (409, "too_early"), r.json
    # The earliest moment for a no-show: the start plus the house's 15 minutes, in its zone.
    assert r.json["details"]["earliest"] == f"{working_day().isoformat()}T09:15:00+07:00"
    assert (
        client.get(f"{URL}/{booking['id']}", headers=member_headers).json["status"] == "confirmed"
    )


def test_a_houses_manager_sets_its_no_show_grace_through_the_house_settings(
    client, make_house, make_user, token_for
):
    house = make_house()
    headers = token_for(make_user(Role.manager, houses=[house]))
    assert (
        client.get(f"/api/v1/houses/{house.id}", headers=headers).json["no_show_grace_minutes"]
        == 15
    )
    r = client.patch(
        f"/api/v1/houses/{house.id}", json={"no_show_grace_minutes": 30}, headers=headers
    )
    assert (r.status_code, r.json["no_show_grace_minutes"]) == (200, 30)
    r = client.patch(
        f"/api/v1/houses/{house.id}", json={"no_show_grace_minutes": -1}, headers=headers
    )
    assert r.status_code == 422 and "no_show_grace_minutes" in r.json["errors"]
