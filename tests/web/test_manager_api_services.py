"""The rules the manager's pages show, served by the API too: what publishing a run would do
(GET /schedule-runs/{id}/publish-effects) and what a downtime hit (GET /downtimes/{id}/hits)."""

from __future__ import annotations

from factoryshare.models import Role
from factoryshare.models.bookings import BookingStatus
from tests.factories.bookings import at, working_day
from tests.solving import WORK_PER_SECOND


def test_the_api_says_what_publishing_a_run_would_do_to_its_houses_manager_only(
    client,
    db,
    session_factory,
    make_user,
    make_machine,
    make_member,
    make_product,
    make_production_request,
    token_for,
):
    import datetime as dt

    from factoryshare import worker

    manager = make_user(Role.manager)
    house = manager.houses[0]
    make_machine(house=house, capabilities=["embroidery"])
    member = make_member(house_id=house.id)
    make_production_request(
        quantity=9, product=make_product(member=member, routing=[("embroidery", 15, 5)])
    )
    make_production_request(
        quantity=4, product=make_product(member=member, routing=[("embroidery", 10, 5)])
    )
    start = dt.datetime(2027, 1, 3, 17, 0, tzinfo=dt.UTC)
    r = client.post(
        f"/api/v1/houses/{house.id}/schedule-runs",
        headers=token_for(manager),
        json={
            "horizon_start": start.isoformat(),
            "horizon_end": (start + dt.timedelta(days=5)).isoformat(),
            "time_limit_seconds": 2,
        },
    )
    assert r.status_code in (201, 202), r.get_json()
    run_id = r.get_json()["id"]
    db.commit()
    assert (
        worker.run_once(session_factory, worker_id="test", work_per_second=WORK_PER_SECOND)
        == run_id
    )

    r = client.get(f"/api/v1/schedule-runs/{run_id}/publish-effects", headers=token_for(manager))
    assert r.status_code == 200, r.get_json()
    assert r.get_json() == {
        "run_id": run_id,
        "creates": 2,
        "moves": 0,
        "cancels": 0,
        "unchanged": 0,
        "members_told": 1,
        "changed_since": [],
        "publishable": True,
        "discardable": True,
        "rerun_advised": False,
    }
    # Published, it can be neither published again nor discarded.
    r = client.post(f"/api/v1/schedule-runs/{run_id}/publish", headers=token_for(manager), json={})
    assert r.status_code == 200, r.get_json()
    after = client.get(
        f"/api/v1/schedule-runs/{run_id}/publish-effects", headers=token_for(manager)
    )
    assert (after.json["publishable"], after.json["discardable"]) == (False, False)
    other = make_user(Role.manager)
    assert (
        client.get(
            f"/api/v1/schedule-runs/{run_id}/publish-effects", headers=token_for(other)
        ).status_code
        == 404
    )


def test_the_api_lists_the_bookings_a_downtime_hit_and_who_was_told(
    client, db, make_user, make_machine, make_member, make_booking, token_for
):
    manager = make_user(Role.manager)
    house = manager.houses[0]
    machine = make_machine(house=house)
    member = make_member(house_id=house.id)
    user = make_user(Role.member, member=member, name="Nurul Hidayah")
    day = working_day()
    hit = make_booking(
        machine=machine, member=member, start_at=at(day, "10:00"), end_at=at(day, "11:00")
    )
    make_booking(
        machine=machine, member=member, start_at=at(day, "14:00"), end_at=at(day, "15:00")
    )  # after the downtime: not hit
    r = client.post(
        "/api/v1/downtimes",
        headers=token_for(manager),
        json={
            "machine_id": machine.id,
            "start": at(day, "09:00").isoformat(),
            "end": at(day, "12:00").isoformat(),
            "reason": "Ganti motor",
            "affected": "cancel",
        },
    )
    assert r.status_code == 201, r.get_json()
    downtime_id = r.get_json()["downtime"]["id"]

    r = client.get(f"/api/v1/downtimes/{downtime_id}/hits", headers=token_for(manager))
    assert r.status_code == 200, r.get_json()
    (only,) = r.get_json()
    assert (only["booking_id"], only["action"]) == (hit.id, "cancelled")
    assert only["start"].endswith("+07:00") and "T10:00" in only["start"]
    assert only["told"] == [{"user_id": user.id, "name": "Nurul Hidayah"}]
    db.refresh(hit)
    assert hit.status is BookingStatus.cancelled
    member_token = token_for(user)
    assert client.get(
        f"/api/v1/downtimes/{downtime_id}/hits", headers=member_token
    ).status_code in (403, 404)
