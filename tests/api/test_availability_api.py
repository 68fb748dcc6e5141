from factoryshare.models import Role
from tests.factories.bookings import at, working_day


def test_availability_lists_free_windows_per_machine_in_local_time_around_bookings(
    client, make_machine, make_user, token_for, make_booking, make_downtime
):
    sewing = make_machine(capabilities=["sewing"])
    make_machine(house=sewing.house, capabilities=["embroidery"])
    day = working_day()
    make_booking(machine=sewing, start_at=at(day, "10:00"), end_at=at(day, "11:00"))
    make_downtime(machine=sewing, start_at=at(day, "13:00"), end_at=at(day, "16:00"))
    headers = token_for(make_user(Role.member))
    r = client.get(
        f"/api/v1/houses/{sewing.house_id}/availability",
        headers=headers,
        query_string={
            "capability": "sewing",
            "start": at(day, "00:00").isoformat(),
            "end": at(day, "23:30").isoformat(),
            "duration": 90,
        },
    )
    assert r.status_code == 200, r.json
    assert r.json["zone"] == "WIB"
    [machine] = r.json["machines"]
    assert machine["machine_id"] == sewing.id
    local = [(w["start"][11:16], w["end"][11:16]) for w in machine["free"]]
    # 08-10 and 11-13 are long enough for 90 minutes; 16-17 is not.
    assert local == [("08:00", "10:00"), ("11:00", "13:00")]
    assert machine["free"][0]["start"].endswith("+07:00")


def test_a_manager_sets_weekly_quotas_and_a_member_reads_them(
    client, make_house, make_capability, make_user, token_for
):
    house = make_house()
    make_capability(code="sewing", name="sewing")
    manager = token_for(make_user(Role.manager, houses=[house]))
    r = client.put(
        f"/api/v1/houses/{house.id}/quotas",
        json={"quotas": [{"capability": "sewing", "hours_per_week": 6}]},
        headers=manager,
    )
    assert r.status_code == 200, r.json
    r = client.get(f"/api/v1/houses/{house.id}/quotas", headers=token_for(make_user(Role.member)))
    assert r.json == {"quotas": [{"capability": "sewing", "hours_per_week": 6}]}
    r = client.put(
        f"/api/v1/houses/{house.id}/quotas",
        json={"quotas": [{"capability": "nope", "hours_per_week": 6}]},
        headers=manager,
    )
    assert r.status_code == 422
    assert "quotas[0].capability" in r.json["errors"]
    other = token_for(make_user(Role.manager))
    r = client.put(f"/api/v1/houses/{house.id}/quotas", json={"quotas": []}, headers=other)
    assert r.status_code == 403
