from factoryshare.models import AuditEvent, Role
from tests.factories.bookings import working_day

URL = "/api/v1/houses"

HOURS = {"mon": [["08:00", "12:00"], ["13:00", "17:00"]], "sat": [["08:00", "12:00"]]}


def _body(**overrides):
    body = {
        "name": "Rumah Produksi Bersama Tenun Sumba",
        "timezone": "Asia/Makassar",
        "region": "Sumba Timur",
        "opening_hours": HOURS,
        "slot_minutes": 30,
        "requires_confirmation": True,
    }
    body.update(overrides)
    return body


def test_an_admin_opens_a_house_and_everyone_signed_in_can_read_it(
    client, db, make_user, token_for
):
    r = client.post(URL, json=_body(), headers=token_for(make_user(Role.admin)))
    assert r.status_code == 201, r.json
    assert r.json["zone"] == "WITA"
    assert r.json["opening_hours"] == HOURS
    r = client.get(f"{URL}/{r.json['id']}", headers=token_for(make_user(Role.member)))
    assert r.status_code == 200 and r.json["requires_confirmation"] is True
    assert db.query(AuditEvent).filter_by(action="house.created").count() == 1


def test_a_manager_may_not_open_a_house(client, make_user, token_for):
    r = client.post(URL, json=_body(), headers=token_for(make_user(Role.manager)))
    assert r.status_code == 403


def test_overlapping_or_backwards_opening_hours_are_refused_naming_the_day(
    client, make_user, token_for
):
    headers = token_for(make_user(Role.admin))
    r = client.post(
        URL,
        json=_body(opening_hours={"tue": [["08:00", "12:00"], ["11:00", "15:00"]]}),
        headers=headers,
    )
    assert r.status_code == 422
    assert "opening_hours.tue" in r.json["errors"]
    r = client.post(URL, json=_body(opening_hours={"wed": [["17:00", "08:00"]]}), headers=headers)
    assert r.status_code == 422
    assert "opening_hours.wed[0]" in r.json["errors"]
    r = client.post(
        URL, json=_body(opening_hours={"funday": [["08:00", "17:00"]]}), headers=headers
    )
    assert "opening_hours.funday" in r.json["errors"]


def test_an_unknown_time_zone_is_refused(client, make_user, token_for):
    r = client.post(
        URL, json=_body(timezone="Asia/Bandung"), headers=token_for(make_user(Role.admin))
    )
    assert r.status_code == 422
    assert "timezone" in r.json["errors"]


def test_a_granularity_that_does_not_divide_the_day_is_refused(client, make_user, token_for):
    r = client.post(URL, json=_body(slot_minutes=7), headers=token_for(make_user(Role.admin)))
    assert r.status_code == 422
    assert "slot_minutes" in r.json["errors"]


def test_two_houses_may_not_share_a_name(client, make_house, make_user, token_for):
    make_house(name="Rumah Produksi Bersama Tenun Sumba")
    r = client.post(URL, json=_body(), headers=token_for(make_user(Role.admin)))
    assert r.status_code == 409
    assert r.json["code"] == "duplicate_house"


def test_a_manager_changes_its_own_house_but_not_another(client, make_house, make_user, token_for):
    own, other = make_house(), make_house()
    headers = token_for(make_user(Role.manager, houses=[own]))
    r = client.patch(
        f"{URL}/{own.id}",
        json={"hold_minutes": 120, "requires_confirmation": True, "financing_decision_days": 14},
        headers=headers,
    )
    assert r.status_code == 200, r.json
    assert r.json["hold_minutes"] == 120 and r.json["financing_decision_days"] == 14
    r = client.patch(f"{URL}/{other.id}", json={"hold_minutes": 120}, headers=headers)
    assert r.status_code == 403


def test_the_list_filters_by_name(client, make_house, make_user, token_for):
    make_house(name="Rumah Produksi Bersama Kopi Gayo")
    make_house(name="Rumah Produksi Bersama Batik Pekalongan")
    r = client.get(URL, query_string={"q": "gayo"}, headers=token_for(make_user(Role.member)))
    assert [h["name"] for h in r.json["items"]] == ["Rumah Produksi Bersama Kopi Gayo"]


def test_a_house_with_machines_cannot_be_removed(client, make_machine, make_user, token_for):
    machine = make_machine()
    r = client.delete(f"{URL}/{machine.house_id}", headers=token_for(make_user(Role.admin)))
    assert r.status_code == 409
    assert r.json["code"] == "house_in_use"


def test_a_closure_shuts_the_house_and_is_listed_with_the_national_holidays(
    client, make_house, make_user, token_for
):
    house = make_house()
    headers = token_for(make_user(Role.manager, houses=[house]))
    r = client.post(
        f"{URL}/{house.id}/closures",
        json={"start_on": "2026-12-28", "end_on": "2026-12-30", "reason": "Stock opname"},
        headers=headers,
    )
    assert r.status_code == 201, r.json
    r = client.get(f"{URL}/{house.id}/closed-days", query_string={"year": 2026}, headers=headers)
    days = {d["date"]: d for d in r.json["days"]}
    assert days["2026-12-25"]["kind"] == "holiday"  # Hari Raya Natal
    assert days["2026-08-17"]["kind"] == "holiday"  # Hari Kemerdekaan
    assert [days[d]["name"] for d in ("2026-12-28", "2026-12-29", "2026-12-30")] == [
        "Stock opname"
    ] * 3


def test_a_closure_makes_its_days_unavailable_for_booking(
    client, make_machine, make_user, token_for
):
    machine = make_machine(capabilities=["sewing"])
    house = machine.house
    headers = token_for(make_user(Role.manager, houses=[house]))
    day = working_day(14)
    window = {"start": f"{day}T00:00:00+07:00", "end": f"{day}T23:30:00+07:00"}
    before = client.get(f"{URL}/{house.id}/availability", query_string=window, headers=headers)
    assert before.json["machines"][0]["free"], before.json
    client.post(
        f"{URL}/{house.id}/closures",
        json={"start_on": str(day), "end_on": str(day)},
        headers=headers,
    )
    after = client.get(f"{URL}/{house.id}/availability", query_string=window, headers=headers)
    assert after.json["machines"][0]["free"] == []


def test_overlapping_closures_and_backwards_closures_are_refused(
    client, make_house, make_user, token_for
):
    house = make_house()
    headers = token_for(make_user(Role.admin))
    url = f"{URL}/{house.id}/closures"
    assert (
        client.post(
            url, json={"start_on": "2027-02-01", "end_on": "2027-02-03"}, headers=headers
        ).status_code
        == 201
    )
    r = client.post(url, json={"start_on": "2027-02-03", "end_on": "2027-02-04"}, headers=headers)
    assert r.status_code == 409 and r.json["code"] == "closure_overlap"
    r = client.post(url, json={"start_on": "2027-02-10", "end_on": "2027-02-09"}, headers=headers)
    assert r.status_code == 422 and "end_on" in r.json["errors"]


def test_a_closure_is_reopened_and_a_closure_of_another_house_is_not_found(
    client, make_house, make_user, token_for
):
    house, other = make_house(), make_house()
    headers = token_for(make_user(Role.admin))
    closure_id = client.post(
        f"{URL}/{house.id}/closures",
        json={"start_on": "2027-03-01", "end_on": "2027-03-01"},
        headers=headers,
    ).json["id"]
    assert (
        client.delete(f"{URL}/{other.id}/closures/{closure_id}", headers=headers).status_code == 404
    )
    assert (
        client.delete(f"{URL}/{house.id}/closures/{closure_id}", headers=headers).status_code == 204
    )
    assert client.get(f"{URL}/{house.id}/closures", headers=headers).json["items"] == []
