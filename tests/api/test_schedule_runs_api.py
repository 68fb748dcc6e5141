from factoryshare.models import Role
from tests.solving import WORK_PER_SECOND

BODY = {
    "horizon_start": "2027-01-04T08:00:00+07:00",
    "horizon_end": "2027-01-11T08:00:00+07:00",
    "time_limit_seconds": 2,
}


def test_a_manager_queues_a_run_and_polls_it_in_the_houses_time(client, make_user, token_for):
    manager = make_user(Role.manager)
    house = manager.houses[0]
    headers = token_for(manager)
    r = client.post(f"/api/v1/houses/{house.id}/schedule-runs", json=BODY, headers=headers)
    assert r.status_code == 202, r.json
    assert r.json["status"] == "queued"
    r = client.get(f"/api/v1/schedule-runs/{r.json['id']}", headers=headers)
    assert r.status_code == 200
    assert r.json["horizon_start"] == "2027-01-04T08:00:00+07:00"
    listed = client.get(f"/api/v1/houses/{house.id}/schedule-runs", headers=headers).json["items"]
    assert [x["id"] for x in listed] == [r.json["id"]]


def test_a_member_may_not_queue_a_run(client, make_user, make_house, token_for):
    house = make_house()
    r = client.post(
        f"/api/v1/houses/{house.id}/schedule-runs",
        json=BODY,
        headers=token_for(make_user(Role.member)),
    )
    assert r.status_code == 403


def test_a_run_of_another_house_is_not_found_for_a_manager(client, make_user, token_for):
    owner = make_user(Role.manager)
    run_id = client.post(
        f"/api/v1/houses/{owner.houses[0].id}/schedule-runs", json=BODY, headers=token_for(owner)
    ).json["id"]
    r = client.get(f"/api/v1/schedule-runs/{run_id}", headers=token_for(make_user(Role.manager)))
    assert r.status_code == 404


def test_a_horizon_without_an_offset_is_a_422_naming_it(client, make_user, token_for):
    manager = make_user(Role.manager)
    r = client.post(
        f"/api/v1/houses/{manager.houses[0].id}/schedule-runs",
        json=dict(BODY, horizon_end="2027-01-11T08:00:00"),
        headers=token_for(manager),
    )
    assert r.status_code == 422
    assert "horizon_end" in r.json["errors"]


def test_discarding_twice_is_a_409(client, make_user, token_for):
    manager = make_user(Role.manager)
    headers = token_for(manager)
    run_id = client.post(
        f"/api/v1/houses/{manager.houses[0].id}/schedule-runs", json=BODY, headers=headers
    ).json["id"]
    r = client.post(f"/api/v1/schedule-runs/{run_id}/discard", headers=headers)
    assert r.status_code == 200 and r.json["status"] == "discarded"
    assert (
        client.post(f"/api/v1/schedule-runs/{run_id}/discard", headers=headers).status_code == 409
    )


def test_a_manager_asks_for_family_cleaning_and_a_share_cap_and_sees_them_on_the_run(
    client, make_user, token_for
):
    manager = make_user(Role.manager)
    headers = token_for(manager)
    r = client.post(
        f"/api/v1/houses/{manager.houses[0].id}/schedule-runs",
        json=dict(BODY, family_setup_minutes=45, share_cap_percent=40),
        headers=headers,
    )
    assert r.status_code == 202, r.json
    assert r.json["purpose"] == "plan"
    assert r.json["policies"] == {"family_setup_minutes": 45, "share_cap_percent": 40}
    r = client.post(
        f"/api/v1/houses/{manager.houses[0].id}/schedule-runs",
        json=dict(BODY, share_cap_percent=0),
        headers=headers,
    )
    assert r.status_code == 422 and "share_cap_percent" in r.json["errors"]


def test_publishing_a_run_solved_before_the_schedule_changed_is_a_409_stale_run_and_the_run_stays_stale(
    clock,
    db,
    client,
    session_factory,
    make_user,
    make_machine,
    make_member,
    make_product,
    make_production_request,
    token_for,
):
    import datetime as dt
    from zoneinfo import ZoneInfo

    from factoryshare import worker
    from factoryshare.access import Actor
    from factoryshare.services import bookings

    manager = make_user(Role.manager)
    house = manager.houses[0]
    headers = token_for(manager)
    machine = make_machine(house=house, capabilities=["sewing"])
    member = make_member(house_id=house.id)
    monday = dt.datetime(2027, 1, 4, 8, 0, tzinfo=ZoneInfo("Asia/Jakarta"))
    make_production_request(
        quantity=1,
        earliest_start=monday,
        product=make_product(member=member, routing=[("sewing", 60, 0)]),
    )
    run_id = client.post(
        f"/api/v1/houses/{house.id}/schedule-runs", json=BODY, headers=headers
    ).json["id"]
    db.commit()
    worker.run_once(session_factory, worker_id="test", work_per_second=WORK_PER_SECOND)
    clock.advance(minutes=1)  # a member books a minute after the solve
    fresh = bookings.create_booking(
        db,
        Actor(user_id=None, role=Role.member, member_id=member.id),
        machine_id=machine.id,
        start=monday + dt.timedelta(days=2),
        end=monday + dt.timedelta(days=2, hours=1),
        now=monday - dt.timedelta(days=30),
    )
    db.commit()

    r = client.post(f"/api/v1/schedule-runs/{run_id}/publish", headers=headers)

    assert (r.status_code, r.json["code"]) == (409, "stale_run"), r.json
    assert r.json["details"]["booking_ids"] == [fresh.id]
    assert "Please choose another slot" not in r.json["message"]
    assert client.get(f"/api/v1/schedule-runs/{run_id}", headers=headers).json["status"] == "stale"
    # The manager queues a fresh one through the usual endpoint.
    again = client.post(f"/api/v1/houses/{house.id}/schedule-runs", json=BODY, headers=headers)
    assert again.status_code == 202
