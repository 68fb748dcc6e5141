"""The run review through the API: a run's requests, a house's utilisation over a week and
where a production request was placed or why not."""

from __future__ import annotations

from factoryshare.access import Actor
from factoryshare.models import Role
from factoryshare.services import scheduling
from tests.factoryshare.test_run_review import _week_with_closure_and_downtime, solved_run


def test_a_manager_reads_a_runs_requests_with_lateness_cost_and_why_one_was_left_out(
    client,
    db,
    session_factory,
    make_house,
    make_machine,
    make_product,
    make_production_request,
    make_user,
    token_for,
):
    house, member, run, requests = solved_run(
        db, session_factory, make_house, make_machine, make_product, make_production_request
    )
    headers = token_for(make_user(Role.manager, houses=[house], language="en"))
    r = client.get(f"/api/v1/schedule-runs/{run.id}/requests", headers=headers)
    assert r.status_code == 200, r.json
    rows = {x["request_id"]: x for x in r.json["requests"]}
    late = rows[requests["late"].id]
    assert (
        late["start"] == "2027-01-04T08:00:00+07:00"
        and late["finish"] == "2027-01-04T10:00:00+07:00"
    )
    assert late["due"] == "2027-01-04T09:00:00+07:00"
    assert late["lateness_minutes"] == 60 and late["machine_cost"] == 120_000
    assert late["member"]["business_name"] == member.business_name
    assert rows[requests["on_time"].id]["lateness_minutes"] == 0
    why = rows[requests["no_machine"].id]["why_not"]
    assert why["kind"] == "no_machine"
    assert why["words"] == "no machine of the house can do one of its steps."
    assert why["suggestions"][0]["kind"] == "another_machine"
    assert "embroidery" in why["suggestions"][0]["words"]
    assert r.json["on_time_share"] == 0.25

    one = client.get(f"/api/v1/schedule-runs/{run.id}", headers=headers).json
    assert one["on_time_share"] == 0.25 and one["kpis"]["on_time_share"] == 0.25
    assert one["machine_cost"] == 180_000
    assert {x["request_id"] for x in one["requests"]} == {x.id for x in requests.values()}


def test_a_member_may_not_read_a_runs_requests_and_another_houses_manager_finds_none(
    client,
    db,
    session_factory,
    make_house,
    make_machine,
    make_product,
    make_production_request,
    make_user,
    token_for,
):
    _house, member, run, _ = solved_run(
        db, session_factory, make_house, make_machine, make_product, make_production_request
    )
    member_user = token_for(make_user(Role.member, member=member))
    assert (
        client.get(f"/api/v1/schedule-runs/{run.id}/requests", headers=member_user).status_code
        == 403
    )
    other = token_for(make_user(Role.manager))
    assert client.get(f"/api/v1/schedule-runs/{run.id}/requests", headers=other).status_code == 404


def test_a_manager_reads_a_weeks_utilisation_per_machine_and_a_member_may_not(
    client, db, make_house, make_machine, make_booking, make_downtime, make_user, token_for
):
    house, machine, idle = _week_with_closure_and_downtime(
        db, make_house, make_machine, make_booking, make_downtime
    )
    url = f"/api/v1/houses/{house.id}/utilisation?week=2027-W02"
    r = client.get(url, headers=token_for(make_user(Role.manager, houses=[house])))
    assert r.status_code == 200, r.json
    assert r.json["start"] == "2027-01-11T00:00:00+07:00"
    rows = {x["machine_id"]: x for x in r.json["machines"]}
    assert rows[machine.id]["open_minutes"] == 38 * 60 and rows[machine.id]["booked_minutes"] == 180
    assert rows[idle.id]["share"] == 0.0
    assert client.get(url, headers=token_for(make_user(Role.member))).status_code == 403
    assert client.get(url, headers=token_for(make_user(Role.manager))).status_code == 404
    bad = client.get(
        f"/api/v1/houses/{house.id}/utilisation?week=2027-01-11",
        headers=token_for(make_user(Role.manager, houses=[house])),
    )
    assert bad.status_code == 422 and "week" in str(bad.json)


def test_a_production_request_shows_its_bookings_once_placed_and_why_not_while_left_out(
    client,
    db,
    session_factory,
    make_house,
    make_machine,
    make_product,
    make_production_request,
    make_user,
    token_for,
):
    house, member, run, requests = solved_run(
        db, session_factory, make_house, make_machine, make_product, make_production_request
    )
    scheduling.publish_run(db, Actor.of(make_user(Role.manager, houses=[house])), run.id)
    headers = token_for(make_user(Role.member, member=member))
    placed = client.get(f"/api/v1/production-requests/{requests['late'].id}", headers=headers)
    assert placed.status_code == 200, placed.json
    (booking,) = placed.json["placement"]["bookings"]
    assert booking["machine_name"] == "Juki" and booking["status"] == "confirmed"
    assert (
        booking["start"] == "2027-01-04T08:00:00+07:00"
        and booking["end"] == "2027-01-04T10:00:00+07:00"
    )
    assert placed.json["placement"]["why_not"] is None
    left = client.get(
        f"/api/v1/production-requests/{requests['no_machine'].id}", headers=headers
    ).json
    assert left["placement"]["bookings"] == []
    assert left["placement"]["why_not"]["kind"] == "no_machine"
    assert left["placement"]["why_not"]["words"].startswith("tidak ada mesin")
