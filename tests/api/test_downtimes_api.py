from factoryshare.models import Role
from tests.factories.bookings import at, working_day


def test_a_manager_records_a_breakdown_and_sees_the_cancelled_booking_with_alternatives(
    client, make_machine, make_member, make_user, token_for
):
    machine = make_machine()
    member_headers = token_for(
        make_user(Role.member, member=make_member(house_id=machine.house_id))
    )
    manager = token_for(make_user(Role.manager, houses=[machine.house]))
    day = working_day()
    booking = client.post(
        "/api/v1/bookings",
        json={
            "machine_id": machine.id,
            "start": at(day, "09:00").isoformat(),
            "end": at(day, "10:00").isoformat(),
        },
        headers=member_headers,
    ).json
    r = client.post(
        "/api/v1/downtimes",
        json={
            "machine_id": machine.id,
            "start": at(day, "08:00").isoformat(),
            "end": at(day, "12:00").isoformat(),
            "kind": "breakdown",
            "reason": "Motor rusak",
            "affected": "cancel",
        },
        headers=manager,
    )
    assert r.status_code == 201, r.json
    [affected] = r.json["affected"]
    assert (affected["booking_id"], affected["action"]) == (booking["id"], "cancelled")
    assert affected["alternatives"][0]["start"].endswith("T12:00:00+07:00")
    r = client.get(f"/api/v1/bookings/{booking['id']}", headers=member_headers)
    assert r.json["status"] == "cancelled"


def test_a_member_may_not_record_a_downtime(
    client, make_machine, make_member, make_user, token_for
):
    machine = make_machine()
    headers = token_for(make_user(Role.member, member=make_member(house_id=machine.house_id)))
    day = working_day()
    r = client.post(
        "/api/v1/downtimes",
        json={
            "machine_id": machine.id,
            "start": at(day, "08:00").isoformat(),
            "end": at(day, "12:00").isoformat(),
        },
        headers=headers,
    )
    assert r.status_code == 403
