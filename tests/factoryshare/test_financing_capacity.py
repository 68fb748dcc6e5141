"""The capacity check says which offtake delivery dates the house can meet with the plan."""

from __future__ import annotations

import datetime as dt

import pytest

from factoryshare.access import Actor
from factoryshare.errors import Forbidden, ValidationFailed
from factoryshare.models import Role
from factoryshare.services import financing_capacity, loans
from tests.solving import WORK_PER_SECOND

ADMIN = Actor(user_id=None, role=Role.admin)
MONDAY = dt.datetime(2027, 1, 4, 0, 0, tzinfo=dt.UTC)  # 07:00 in Jakarta


@pytest.fixture()
def setting(
    db,
    make_house,
    make_machine,
    make_member,
    make_cluster,
    make_product,
    make_production_request,
    make_offtake_agreement,
    make_booking,
):
    house = make_house()
    machine = make_machine(house=house, capabilities=["sewing"])
    chair = make_member(house=house)
    cluster = make_cluster(members=[chair], chair_member_id=chair.id, house_id=house.id)
    product = make_product(member=chair, routing=[("sewing", 0, 50)])  # 500 minutes a request
    first = make_production_request(product=product, quantity=10, earliest_start=MONDAY)
    second = make_production_request(product=product, quantity=10, earliest_start=MONDAY)
    # Monday is full from 08:00 to 12:00 already (someone else's booking).
    make_booking(
        machine=machine,
        start_at=MONDAY + dt.timedelta(hours=1),
        end_at=MONDAY + dt.timedelta(hours=5),
    )
    agreement = make_offtake_agreement(
        cluster=cluster,
        product=product,
        quantity=20,
        deliveries=[(dt.date(2027, 1, 6), 10), (dt.date(2027, 1, 22), 10)],
    )
    app = loans.create(
        db,
        ADMIN,
        cluster_id=cluster.id,
        requested_amount=1_000_000,
        tenor_months=12,
        on=dt.date(2026, 11, 10),
    )
    loans.set_plan(
        db,
        ADMIN,
        app.id,
        production_request_ids=[first.id, second.id],
        material_costs={chair.id: 1_000_000},
    )
    return {
        "app": app,
        "agreement": agreement,
        "first": first,
        "second": second,
        "chair": chair,
        "cluster": cluster,
    }


def test_a_delivery_too_soon_for_the_booked_house_is_reported_with_the_requests_that_miss_it(
    db, setting
):
    report = financing_capacity.check(
        db, ADMIN, setting["app"].id, now=MONDAY, time_limit=5, work_per_second=WORK_PER_SECOND
    )

    first, later = report.deliveries
    # Monday afternoon (5 h) is too short and Tuesday is Isra Mi'raj: Wednesday (9 h) fits one request
    # of 500 minutes, not two: 10 pieces by 6 January, all 20 by 22 January.
    assert (first.due_on, first.cumulative_quantity, first.planned_quantity) == (
        dt.date(2027, 1, 6),
        10,
        10,
    )
    assert first.met
    assert later.met and later.planned_quantity == 20
    assert report.all_met and report.unplaced_request_ids == []


def test_a_delivery_that_needs_more_than_the_house_has_is_not_met(
    db, setting, make_offtake_agreement, make_production_request
):
    agreement = setting["agreement"]
    agreement.deliveries[0].quantity = 20
    agreement.deliveries[1].quantity = 1
    agreement.quantity = 21
    db.flush()

    report = financing_capacity.check(
        db, ADMIN, setting["app"].id, now=MONDAY, time_limit=5, work_per_second=WORK_PER_SECOND
    )

    first = report.deliveries[0]
    assert not first.met and first.planned_quantity == 10
    assert len(first.late_request_ids) == 1
    assert first.late_request_ids[0] in (setting["first"].id, setting["second"].id)
    assert not report.all_met


def test_delivery_dates_already_past_are_reported_unmet_rather_than_failing(db, setting):
    # Checked after both delivery dates: what is still to be made cannot be ready by them.
    after = dt.datetime(2027, 2, 1, 0, 0, tzinfo=dt.UTC)
    report = financing_capacity.check(
        db, ADMIN, setting["app"].id, now=after, time_limit=5, work_per_second=WORK_PER_SECOND
    )

    assert [d.met for d in report.deliveries] == [False, False]
    assert [d.planned_quantity for d in report.deliveries] == [0, 0]
    assert not report.all_met


def test_a_cluster_without_offtake_dates_cannot_be_checked(
    db, make_member, make_cluster, make_house
):
    house = make_house()
    member = make_member(house=house)
    cluster = make_cluster(members=[member], chair_member_id=member.id, house_id=house.id)
    app = loans.create(
        db,
        ADMIN,
        cluster_id=cluster.id,
        requested_amount=1_000_000,
        tenor_months=12,
        on=dt.date(2026, 11, 10),
    )
    with pytest.raises(ValidationFailed) as caught:
        financing_capacity.check(db, ADMIN, app.id, now=MONDAY)
    assert "offtake_agreements" in caught.value.errors


def test_a_member_who_is_not_the_chair_may_not_run_it(db, setting, make_member):
    member = make_member()
    setting["cluster"].members.append(member)
    db.flush()
    with pytest.raises(Forbidden):
        financing_capacity.check(
            db,
            Actor(user_id=None, role=Role.member, member_id=member.id),
            setting["app"].id,
            now=MONDAY,
        )


def test_the_aggregator_runs_the_check_over_the_api_and_an_outsider_gets_404(
    client, db, setting, token_for, make_user, clock
):
    aggregator = make_user(Role.aggregator, aggregator=setting["cluster"].aggregator)
    clock.set(MONDAY)
    url = f"/api/v1/loan-applications/{setting['app'].id}/capacity-check"

    r = client.post(url, headers=token_for(aggregator), json={})
    assert r.status_code == 200, r.json
    assert [d["due_on"] for d in r.json["deliveries"]] == ["2027-01-06", "2027-01-22"]
    assert r.json["all_met"] is True
    assert (
        client.post(url, headers=token_for(make_user(Role.aggregator)), json={}).status_code == 404
    )
